"""The anger signal in real parse results: on for anger, off for urgency and disappointment."""

import pytest

ANGRY = [
    "我买的奶粉打开全是结块的！！！你们什么质量",
    "这速度是骑自行车送的吧",
    "等了半小时都没人回？？？",
    "再不退款我就去12315投诉你们",
    "垃圾店 骗子",
    "WTF 到底还管不管",
]
CALM = [
    "急用 麻烦快点发货",
    "有点失望 和图片不太一样",
    "你好 杯子碎了 麻烦处理一下",
    "退款一般几天到账",
    "谢谢",
    "订单号2025041812345678",
]


@pytest.mark.parametrize("text", ANGRY)
def test_angry_messages(parse, text):
    anger = parse(text)["anger"]
    assert anger["angry"] is True, anger


@pytest.mark.parametrize("text", CALM)
def test_calm_messages(parse, text):
    anger = parse(text)["anger"]
    assert anger["angry"] is False, anger


def test_anger_has_score_and_flag_on_every_parse(parse):
    anger = parse("在吗")["anger"]
    assert set(anger) == {"score", "angry"} and 0.0 <= anger["score"] <= 1.0


def test_angry_message_keeps_its_intent(parse):
    result = parse("我昨天刚买的今天就坏了你们这什么质量！")
    assert result["intent"]["name"] == "report_broken" and result["anger"]["angry"] is True


def test_the_cache_fingerprint_survives_a_node_rasa_restored_from_its_cache():
    """Rasa asks restored nodes for the add-on with {"output": Resource} as config: a KeyError
    there failed every training whose anger model was cached but whose rules had changed."""
    from rasa.engine.storage.resource import Resource

    from bot.anger import AngerScorer

    assert AngerScorer.fingerprint_addon({"output": Resource("train_bot.anger.AngerScorer9")}) is None
    assert AngerScorer.fingerprint_addon(AngerScorer.get_default_config())
