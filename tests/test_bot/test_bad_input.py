"""Bad input gets a sane parse: an intent from the domain or nlu_fallback, never a crash."""

import pytest

DOMAIN_INTENTS = {
    "greet", "goodbye", "thank", "affirm", "deny", "report_broken", "report_not_received", "report_wrong_item",
    "changed_mind", "ask_refund_status", "ask_policy", "inform", "request_human", "complain", "bot_challenge",
    "out_of_scope", "nlu_fallback",
}

BAD_INPUT = {
    "empty": "",
    "spaces": "   \t\n ",
    "very long": "我买的杯子碎了" * 2900,  # 20,300 characters
    "emoji only": "😡😡😡🤬",
    "html and script": "<script>alert('x')</script><b>退款</b>",
    "control characters": "退\x00款\x07\x1b[31m呢\x7f",
    "mixed scripts": "Ｒefund пожалуйста 退款 رجاء ありがとう",
    "bidi and zero-width marks": "\u202e\ufeff退款\u2060",
    "sql": "'; DROP TABLE orders; --",
}


@pytest.mark.parametrize("text", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_gets_a_sane_parse(parse, text):
    result = parse(text)
    assert result["intent"]["name"] in DOMAIN_INTENTS
    assert 0.0 <= result["intent"]["confidence"] <= 1.0
    assert 0.0 <= result["anger"]["score"] <= 1.0
    assert isinstance(result["entities"], list)


def test_very_long_message_is_cut_and_says_so(parse):
    result = parse("坏了" * 10000)
    assert result["text_truncated"] is True
    assert len(result["text"]) <= 1000


@pytest.mark.parametrize("text", ["", "   ", "\x00\x07"])
def test_empty_message_falls_back_and_is_calm(parse, text):
    result = parse(text)
    assert result["intent"]["name"] == "nlu_fallback"
    assert result["anger"] == {"score": 0.0, "angry": False}
