"""A conversation survives a restart of the Rasa server and of Redis (persistence on, as `make run` starts it)."""

from __future__ import annotations

from typing import Iterator

import pytest
import redis

from scripts.embedded_redis import ensure_embedded_redis
from scripts.stack import free_port, running_assistant
from tests.chat import Shopper

pytestmark = pytest.mark.server


@pytest.fixture()
def own_redis(tmp_path) -> Iterator[tuple]:
    """A Redis of this test alone, with the embedded Redis's persistence (AOF) in tmp_path."""
    port, data_dir = free_port(), tmp_path / "redis"
    url = ensure_embedded_redis(port, data_dir)
    yield url, port, data_dir
    redis.Redis.from_url(url).shutdown(nosave=True)


def test_a_half_done_request_goes_on_after_rasa_and_redis_restart(trained_model, own_redis, tmp_path):
    url, port, data_dir = own_redis
    with running_assistant(trained_model, url, tmp_path) as assistant:
        shopper = Shopper(assistant, "persistence-1")
        assert "订单号" in shopper.say("买的L码发来的是M码")
        assert "手机号" in shopper.say(assistant.orders["tshirt_l_got_m"])

        assistant.restart("Rasa server")
        redis.Redis.from_url(url).shutdown(save=True)
        ensure_embedded_redis(port, data_dir)

        reply = shopper.say("17708463125")  # the phone on the order: the form remembers what it asked
        assert "怎么处理" in reply
