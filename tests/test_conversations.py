"""The seed guides' stories, end to end: REST webhook → Rasa (real model) → action server → demo store.

One conversation per story of the seed guides, as a shopper would type it, with the replies
checked for what the shopper must learn; the cases they open are read back from the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator, List

import pytest
import redis

from handoff.settings import DEV_SHOPPER_TOKEN_SECRET
from handoff.shopper_tokens import issue_shopper_token
from scripts.stack import Assistant, running_assistant
from tests.chat import Shopper

pytestmark = pytest.mark.server
PHONES = {"u1001": "13912870456", "u1002": "15067823194", "u1003": "18621457730", "u1004": "13751029846",
          "u1005": "17708463125"}


@pytest.fixture(scope="module")
def assistant(trained_model, redis_url, tmp_path_factory) -> Iterator[Assistant]:
    redis.Redis.from_url(redis_url).flushdb()
    workdir = tmp_path_factory.mktemp("conversations")
    try:
        with running_assistant(trained_model, redis_url, workdir) as running:
            running.workdir = workdir
            yield running
    finally:
        redis.Redis.from_url(redis_url).flushdb()


def cases_of(assistant: Assistant, order_id: str) -> List[sqlite3.Row]:
    connection = sqlite3.connect(Path(assistant.workdir) / "shop.db")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM cases WHERE order_id = ?", (order_id,)).fetchall()
    finally:
        connection.close()


def token_for(shopper_id: str) -> str:
    return issue_shopper_token(shopper_id, DEV_SHOPPER_TOKEN_SECRET, ttl_seconds=3600)


def test_caked_milk_powder_signed_in_with_photos(assistant):
    """The angry parent: never asked for the order number, shows photos, gets a return number."""
    shopper = Shopper(assistant, "story-milk", token_for("u1001"))
    reply = shopper.say("我买的奶粉打开全是结块的！你们什么质量")
    assert "抱歉" in reply and "订单号" not in reply
    if "哪一件" in reply:
        reply = shopper.press("奶粉")
    assert "怎么处理" in reply
    reply = shopper.press("退款")
    assert "照片" in reply
    reply = shopper.say("拍好了", photo_ids=shopper.upload(1, 2))
    assert "确认一下" in reply and assistant.orders["caked_milk_powder"] in reply
    reply = shopper.say("对的")
    assert "退货单号" in reply and "寄回" in reply
    (case,) = cases_of(assistant, assistant.orders["caked_milk_powder"])
    assert case["status"] == "待寄回"


def test_parcel_signed_by_family_fifteen_days_ago(assistant):
    """A guest: order number and phone first; asked who may have signed before anything else."""
    shopper = Shopper(assistant, "story-family")
    reply = shopper.say("快递显示签收了，可我根本没收到")
    assert "订单号" in reply
    reply = shopper.say(f"订单号{assistant.orders['family_signed']}")
    assert "手机号" in reply
    reply = shopper.say(PHONES["u1002"])
    assert "签收" in reply and ("家人" in reply or "快递柜" in reply)
    reply = shopper.say("问过家里人了，都没有")
    assert "专人" in reply
    (case,) = cases_of(assistant, assistant.orders["family_signed"])
    assert case["needs_review"] == 1


def test_engraved_necklace_worn_for_a_month(assistant):
    """Custom and out of every window: refused kindly, with the rule and an alternative."""
    shopper = Shopper(assistant, "story-necklace")
    shopper.say("项链戴了一个月不喜欢了，想退掉")
    shopper.say(assistant.orders["engraved_necklace"])
    reply = shopper.say(PHONES["u1003"])
    assert "抱歉" in reply and ("定制" in reply or "期限" in reply)
    assert cases_of(assistant, assistant.orders["engraved_necklace"]) == []


def test_handbag_of_a_different_brand(assistant):
    """A wrong item: photos of what came, store pays the postage back."""
    shopper = Shopper(assistant, "story-handbag", token_for("u1004"))
    reply = shopper.say("收到的包根本不是我买的那个牌子")
    if "哪一笔订单" in reply:
        reply = shopper.press("包")
    assert "怎么处理" in reply
    reply = shopper.press("换货")
    assert "照片" in reply
    reply = shopper.say("图发你了", photo_ids=shopper.upload(3))
    assert "确认一下" in reply
    reply = shopper.say("是的")
    assert "退货单号" in reply and "运费由我们承担" in reply


def test_l_size_tshirt_sent_as_m(assistant):
    """The store's mistake on size: exchange offered, and a later refund-status question answered."""
    shopper = Shopper(assistant, "story-tshirt")
    reply = shopper.say("买的L码发来的是M码")
    assert "订单号" in reply
    shopper.say(assistant.orders["tshirt_l_got_m"])
    reply = shopper.say(PHONES["u1005"])
    assert "怎么处理" in reply
    reply = shopper.press("换货")
    assert "照片" in reply
    reply = shopper.say("现在不方便拍，稍后上传")
    assert "确认一下" in reply
    reply = shopper.say("对")
    assert "退货单号" in reply
    reply = shopper.say("我的退款进度怎么样了")
    assert "审核中" in reply
