"""The angry-shopper story in two real browsers side by side: the in-app chat page and the
agents' console, against the whole running assistant (Rasa, actions, handoff service, Redis)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_shopper_token
from scripts.run import stop
from scripts.stack import TOKEN
from tests.e2e.conftest import lines, no_alert, screenshot, script_errors, wait_for, wait_for_line
from tests.test_handoff.conftest import AGENT_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.server]

XSS = "<img src=x onerror=alert(1)>"


def open_chat(chat: WebDriver, assistant, shopper_id: str) -> None:
    token = issue_shopper_token(shopper_id, DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)
    chat.get(f"{assistant.handoff_url}/chat#token={token}")
    wait_for(chat, lambda d: d.find_element(By.ID, "connection").text == "在线", "the chat page to connect")
    assert "token" not in chat.current_url, "the token leaves the address bar"


def say(chat: WebDriver, text: str) -> None:
    chat.find_element(By.ID, "text").send_keys(text)
    chat.find_element(By.ID, "send").click()


def sign_in(console: WebDriver, assistant, agent_id: str) -> None:
    console.get(f"{assistant.handoff_url}/console")
    wait_for(console, lambda d: d.find_element(By.ID, "login-id").is_displayed(), "the sign-in form")
    console.find_element(By.ID, "login-id").send_keys(agent_id)
    console.find_element(By.ID, "login-password").send_keys(AGENT_PASSWORD)
    console.find_element(By.ID, "login-submit").click()
    wait_for(console, lambda d: d.find_element(By.ID, "console").is_displayed(), "the console after sign-in")
    wait_for(console, lambda d: d.find_element(By.ID, "connection").text == "已连接", "the console to connect")


def evidence_photo(folder: Path) -> Path:
    path = folder / "milk-powder.jpg"
    image = Image.new("RGB", (800, 600), (236, 226, 198))
    for x in range(200, 600):
        for y in range(250, 350):
            image.putpixel((x, y), (180, 160, 120))  # the caked lump
    image.save(path, "JPEG")
    return path


def bot_lines(chat: WebDriver) -> int:
    return len(lines(chat, "#messages li.from-bot"))


def test_an_angry_shopper_reaches_an_agent_and_comes_back_to_the_bot(assistant, browser, tmp_path):
    console, chat = browser(1360, 860), browser(420, 860)
    sign_in(console, assistant, "kefu.wang")
    assert console.find_element(By.ID, "agent-name").text == "客服小王"
    open_chat(chat, assistant, "u1001")

    # The shopper explains, picks a resolution by button, sends a photo, and grows angry.
    say(chat, "我买的奶粉打开全是结块的")
    refund = wait_for(chat, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "button.choice")
                                            if b.text == "退款"), False), "the resolution buttons")
    refund.click()
    wait_for_line(chat, "#messages li.from-bot", "照片")
    chat.find_element(By.ID, "photo-input").send_keys(str(evidence_photo(tmp_path)))
    wait_for(chat, lambda d: d.find_elements(By.CSS_SELECTOR, "#previews .preview.done"), "the photo uploaded")
    chat.find_element(By.ID, "send").click()
    wait_for_line(chat, "#messages li.from-bot", "确认一下")  # the photo taken, the request restated
    say(chat, "你们什么破质量！！！气死我了，赶紧给我处理")
    wait_for(chat, lambda d: "正在为您转接人工客服" in d.find_element(By.ID, "status").text, "the waiting notice")
    screenshot(chat, "1-chat-waiting-for-a-person")

    # The ticket appears in the console, live, with its reason and anger.
    ticket = wait_for(console, lambda d: d.find_elements(By.CSS_SELECTOR, "#queue li.ticket"), "the ticket in the queue")[0]
    assert ticket.find_element(By.CSS_SELECTOR, ".reason").text in {"情绪激动", "投诉"}  # the NLU may read a complaint
    assert ticket.find_element(By.CSS_SELECTOR, ".anger").is_displayed()
    screenshot(console, "2-console-queue")

    # The agent claims it: the context panel has the summary, the photo and the transcript.
    ticket.find_element(By.CSS_SELECTOR, "button.claim").click()
    wait_for(console, lambda d: d.find_element(By.ID, "conversation").get_attribute("data-conversation-id") == "u1001",
             "the conversation to open")
    assert "奶粉" in console.find_element(By.ID, "summary").text
    wait_for(console, lambda d: d.execute_script(
        "const imgs = document.querySelectorAll('#photos img');"
        "return imgs.length > 0 && Array.from(imgs).every(i => i.complete && i.naturalWidth > 0);"), "the photo shown")
    assert "结块" in console.find_element(By.ID, "transcript").text
    wait_for_line(console, "#messages li.from-shopper", "气死我了")  # the conversation so far, live
    wait_for(chat, lambda d: "客服小王" in d.find_element(By.ID, "status").text, "the shopper told who answers")

    # Messages flow both ways; what a shopper types is shown as text, never run.
    console.find_element(By.ID, "reply-text").send_keys("您好，我是客服小王，奶粉的问题我来处理，马上为您退款")
    console.find_element(By.ID, "reply-send").click()
    agent_line = wait_for_line(chat, "#messages li.from-agent", "我是客服小王")
    assert "客服小王" in agent_line.find_element(By.CSS_SELECTOR, ".who").text
    say(chat, "好的，谢谢")
    wait_for_line(console, "#messages li.from-shopper", "好的，谢谢")
    say(chat, XSS)
    shown = wait_for_line(console, "#messages li.from-shopper", XSS)
    assert XSS in shown.text
    assert no_alert(console) and no_alert(chat)
    for page in (console, chat):
        assert not page.find_elements(By.CSS_SELECTOR, "#messages img[src='x']"), "markup from a message was rendered"
    console.find_element(By.ID, "story-name").send_keys("milk_powder_angry")
    console.find_element(By.ID, "story-save").click()
    wait_for(console, lambda d: "已保存为测试故事" in d.find_element(By.ID, "toast").text, "the story saved")
    saved = Path(assistant.env["SAVED_STORIES_DIR"]) / "test_milk_powder_angry.yml"
    assert "user: 好的，谢谢" in saved.read_text(encoding="utf-8"), "a Rasa story of this very conversation"
    screenshot(console, "3-console-conversation")
    screenshot(chat, "4-chat-with-the-agent")

    # The agent gives the conversation back; the bot greets the shopper and answers the next message.
    console.find_element(By.ID, "return-note").send_keys("已同意退款，等待顾客寄回")
    console.find_element(By.ID, "return-button").click()
    wait_for_line(chat, "#messages li.from-bot", "接下来由我继续为您服务")
    before = bot_lines(chat)
    say(chat, "退款一般几天到账")
    wait_for(chat, lambda d: bot_lines(d) > before, "the bot to answer again")
    wait_for(chat, lambda d: d.find_element(By.ID, "status").is_displayed() is False, "the status banner gone")
    screenshot(chat, "5-chat-back-with-the-bot")

    ids = [li.get_attribute("data-line-id") for li in lines(chat)]
    assert len(ids) == len(set(ids)), "a line was shown twice"
    assert script_errors(chat) == [] and script_errors(console) == []


def test_a_message_typed_while_the_service_restarts_arrives_once(assistant, browser):
    chat = browser(420, 860)
    open_chat(chat, assistant, "u1002")
    say(chat, "在吗")
    wait_for(chat, lambda d: bot_lines(d) >= 1, "the bot's first answer")

    service = assistant.services["handoff service"]
    stop([service.process])
    wait_for(chat, lambda d: d.find_element(By.ID, "connection").text == "连接中…", "the page to notice")
    answered = bot_lines(chat)
    say(chat, "退款一般几天到账")  # typed while nobody listens: kept, and sent again after the reconnect
    assistant.start("handoff service")
    wait_for(chat, lambda d: d.find_element(By.ID, "connection").text == "在线", "the page to reconnect")
    wait_for(chat, lambda d: bot_lines(d) > answered, "the answer to the message typed while offline")

    shown = [li.text for li in lines(chat, "#messages li.from-shopper")]
    assert sum("退款一般几天到账" in text for text in shown) == 1
    events = httpx.get(f"{assistant.rasa_url}/conversations/u1002/tracker", params={"token": TOKEN}).json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["在吗", "退款一般几天到账"]
    ids = [li.get_attribute("data-line-id") for li in lines(chat)]
    assert len(ids) == len(set(ids)) and None not in ids, "every line once, each matched to the feed"
