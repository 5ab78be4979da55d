"""Browser tests: the whole assistant running (scripts/stack.py) and Debian's chromium, driven
through chromedriver with Selenium, headless. `make test` installs chromium when it is missing
(scripts/ensure_browser.sh); screenshots go to reports/e2e/."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
import redis
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from scripts.settings import PROJECT_ROOT
from scripts.stack import Assistant, running_assistant
from tests.test_handoff.conftest import create_agents

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BINARY", "/usr/bin/chromedriver")
SCREENSHOTS = PROJECT_ROOT / "reports" / "e2e"
WAIT_SECONDS = 30


@pytest.fixture(scope="module")
def assistant(trained_model, redis_url, tmp_path_factory) -> Iterator[Assistant]:
    redis.Redis.from_url(redis_url).flushdb()
    try:
        with running_assistant(trained_model, redis_url, tmp_path_factory.mktemp("e2e")) as running:
            asyncio.run(create_agents(redis_url))
            yield running
    finally:
        redis.Redis.from_url(redis_url).flushdb()


def _options(width: int, height: int) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--lang=zh-CN", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture()
def browser(request) -> Iterator[Callable[[int, int], WebDriver]]:
    """Opens as many headless browsers as a test needs (each its own profile: its own cookies)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: run `make browser` (Debian's chromium, chromium-driver)")
    opened: List[WebDriver] = []

    def open_browser(width: int, height: int) -> WebDriver:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=_options(width, height))
        opened.append(driver)
        return driver

    yield open_browser
    for number, driver in enumerate(opened):
        if getattr(request.node, "failed_call", False):  # what each page showed when the test failed
            screenshot(driver, f"failed-{request.node.name}-{number}")
        driver.quit()


def screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], object], what: str, seconds: float = WAIT_SECONDS):
    try:
        # A list the page is re-drawing may drop an element between finding and reading it.
        return WebDriverWait(driver, seconds, poll_frequency=0.1,
                             ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException as error:
        raise AssertionError(f"waited {seconds} s for {what}; browser log: {script_errors(driver)}") from error


def lines(driver: WebDriver, css: str = "#messages li.line") -> List[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, css)


def wait_for_line(driver: WebDriver, css: str, text: str) -> WebElement:
    def found(d: WebDriver):
        return next((li for li in lines(d, css) if text in li.text), False)

    return wait_for(driver, found, f"a line {css} with {text!r}")


# The console asks once whether its session cookie is still valid; before sign-in it is not.
EXPECTED_ERRORS = ("favicon", "/api/agent/tickets - Failed to load resource: the server responded with a status of 401")


def script_errors(driver: WebDriver) -> List[str]:
    """What the page logged as an error (the expected ones above aside)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not any(expected in entry["message"] for expected in EXPECTED_ERRORS)]


def no_alert(driver: WebDriver) -> bool:
    try:
        WebDriverWait(driver, 1).until(expected_conditions.alert_is_present())
    except TimeoutException:
        return True
    return False
