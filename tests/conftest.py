"""Shared fixtures: the real trained model (trained once per data fingerprint) and a real Redis."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest
import redis

from bot.fingerprint import model_path
from scripts.model_parser import ModelParser
from scripts.train import ensure_model

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Tests use their own database of the Redis in REDIS_URL, flushed before and after.
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current config and data; trained here if `make train` was skipped."""
    path = model_path()
    return path if path.exists() else ensure_model()


@pytest.fixture(scope="session")
def nlu(trained_model: Path) -> Iterator[ModelParser]:
    parser = ModelParser(trained_model)
    yield parser
    parser.close()


@pytest.fixture(scope="session")
def parse(nlu: ModelParser) -> Callable[[str], Dict]:
    return nlu.parse


@pytest.fixture(scope="session")
def redis_url() -> str:
    base = os.environ.get("REDIS_URL")
    if not base:
        pytest.fail("REDIS_URL is not set: run the tests with `make test`, which provides a Redis")
    return base.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}" if base.count("/") > 2 else f"{base}/{TEST_REDIS_DB}"


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
