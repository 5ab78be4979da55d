import pytest

from bot.text_normalization import normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＯＫ　谢谢", "OK 谢谢"),
        ("手机号１３８１２３４５６７８", "手机号13812345678"),
        ("  在吗 \t\n 有人吗  ", "在吗 有人吗"),
        ("人呢！！！！！！！！", "人呢!!!"),
        ("啊啊啊啊啊啊啊", "啊啊啊"),
        ("电话 138 1234 5678", "电话 13812345678"),
        ("订单2024-0615-1234-5678", "订单2024061512345678"),
        ("价格 12 34 元", "价格 12 34 元"),
        ("单号2024061500000000", "单号2024061500000000"),
        ("退\u200b款\x07", "退款"),
        ("", ""),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw).text == expected


def test_emoji_zero_width_joiner_is_kept():
    family = "👨\u200d👩\u200d👧"
    assert normalize(family).text == family


def test_long_text_is_cut_and_flagged():
    result = normalize("坏" * 5000 + "了", max_repeat=10000, max_chars=1000)
    assert len(result.text) == 1000
    assert result.truncated


def test_entity_span_follows_the_text():
    raw = "  我的手机１３８ １２３４ ５６７８  "
    result = normalize(raw)
    start = raw.index("１３８")
    span = result.map_span(start, start + len("１３８ １２３４ ５６７８"))
    assert result.text[span[0] : span[1]] == "13812345678"


def test_span_removed_entirely_maps_to_none():
    result = normalize("a\u200bb")
    assert result.map_span(1, 2) is None


@pytest.mark.parametrize(
    "typed, normalized",
    [
        ("／inform{\"resolution\": \"refund\"}", "／inform{\"resolution\": \"refund\"}"),  # from the gateway
        ("\u200b/affirm", "／affirm"),  # an invisible character must not hide a command
        ("　／人工", "／人工"),
        ("/affirm", "/affirm"),  # a real command (a button payload) stays one
        ("退款／换货", "退款/换货"),
    ],
)
def test_normalisation_never_turns_text_into_a_rasa_command(typed, normalized):
    assert normalize(typed).text == normalized
