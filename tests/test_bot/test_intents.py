"""Each intent's typical messages and the boundary pairs the team agreed on, parsed by the real model.

These sentences are not in the training data; a failure here is a real misunderstanding.
"""

import pytest

TYPICAL = {
    "greet": ["您好", "在不在呀", "hi 有人在吗"],
    "goodbye": ["好嘞 那先这样 拜拜", "没啥事了 再见"],
    "thank": ["太感谢了", "谢谢你啊 辛苦"],
    "affirm": ["嗯嗯 是的", "对的没错"],
    "deny": ["不是这个", "不用了 谢谢"],
    "report_broken": ["我买的奶粉打开全是结块的！你们什么质量", "蓝牙耳机左边没声音了", "收到的月饼发霉了"],
    "report_not_received": ["快递五天了物流一点没动", "显示签收了可我根本没收到"],
    "report_wrong_item": ["我买的L码发来的是M码", "下单的是黑色 收到个白色的"],
    "changed_mind": ["不想要了 能退吗", "我自己拍错尺码了 想退"],
    "ask_refund_status": ["我的退款怎么还没到账", "退货寄回去一周了 钱呢"],
    "ask_policy": ["退货运费谁出", "定制刻字的东西能退吗"],
    "inform": ["订单号是2025041812345678", "我要换货"],
    "request_human": ["转人工", "给我换个人工客服"],
    "complain": ["我要投诉你们", "再不处理我去12315投诉"],
    "bot_challenge": ["你是机器人吗", "对面是AI吧"],
    "out_of_scope": ["能开发票吗", "今天天气怎么样", "优惠券怎么用不了"],
}

BOUNDARY_PAIRS = [
    # the shop sent the wrong size / the shopper ordered the wrong size
    ("买的42码 发过来的是40码", "report_wrong_item", "我自己选错码了 穿着小 想退", "changed_mind"),
    # broken / changed mind
    ("杯子碎成好几块了", "report_broken", "杯子没问题 就是不太喜欢 想退", "changed_mind"),
    # my refund's status / refund rules
    ("我申请的退款到哪一步了", "ask_refund_status", "退款一般几天能到账", "ask_policy"),
    # asking about the bot / asking for a person
    ("对面是AI吧", "bot_challenge", "给我换个人工", "request_human"),
    # threat of escalation / a plain problem report
    ("质量这么差 我要给差评", "complain", "质量有点差 鞋底开胶了", "report_broken"),
]


@pytest.mark.parametrize(("intent", "text"), [(i, t) for i, texts in TYPICAL.items() for t in texts])
def test_typical_messages(parse, intent, text):
    assert parse(text)["intent"]["name"] == intent


@pytest.mark.parametrize(("text_a", "intent_a", "text_b", "intent_b"), BOUNDARY_PAIRS)
def test_boundary_pairs(parse, text_a, intent_a, text_b, intent_b):
    assert (parse(text_a)["intent"]["name"], parse(text_b)["intent"]["name"]) == (intent_a, intent_b)


def test_every_domain_intent_is_covered_here():
    import yaml

    with open("domain.yml", encoding="utf-8") as domain:
        assert set(yaml.safe_load(domain)["intents"]) == set(TYPICAL)
