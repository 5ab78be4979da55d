"""Text strategies: what shoppers type on phones, what broken clients send, and plain noise."""

from __future__ import annotations

from hypothesis import strategies as st

# Pieces that exercise every step of bot/text_normalization.py and the gateway's rules.
FRAGMENTS = (
    "杯子碎了", "我要退款", "快递一直没到", "发错货了", "转人工", "气死我了", "你们什么破质量", "订单", "奶粉结块",
    "ＯＫ", "１３８", "ｈｅｌｌｏ", "／", "！！！", "？？", "\u3000", "  ", "\t", "\n", "\r\n",
    "138 1234 5678", "138-1234-5678", "2024-0615-1234-5678", "2024 0615 1234 5678", "20240615123456789", "0000",
    "!!!!!!!!", "。。。。。。", "哈哈哈哈哈哈", "😡", "😡😡😡🤬", "👩\u200d👩\u200d👧", "🇨🇳", "\u200b", "\u200d", "\ufeff",
    "\u202e", "\u2060", "\x00", "\x07", "\x1b[31m", "\x7f", "\ud800", "\udfff", "/", "/request_human",
    '/inform{"order_id": "2024061512345678"}', "/choose_order", "<script>alert(1)</script>", "'; DROP TABLE orders; --",
    "Ｒefund", "пожалуйста", "ありがとう", "رجاء", "e\u0301", "ﬁ", "Ⅻ", "٣٤٥", "²",
)

# Every code point, surrogates included (a JSON body can carry "\ud800"; Python keeps it).
any_char = st.characters(codec=None, exclude_categories=())
# What UTF-8 can carry (URLs, multipart headers, files).
utf8_char = st.characters(codec="utf-8")


def noise(max_size: int = 80) -> st.SearchStrategy[str]:
    return st.text(any_char, max_size=max_size)


def shopper_text(max_pieces: int = 12) -> st.SearchStrategy[str]:
    """A message put together from the fragments above and random characters."""
    piece = st.one_of(st.sampled_from(FRAGMENTS), st.text(any_char, min_size=1, max_size=6))
    return st.lists(piece, max_size=max_pieces).map("".join)


def any_text(max_size: int = 300) -> st.SearchStrategy[str]:
    return st.one_of(noise(max_size), shopper_text())


def huge_text(max_repeat: int = 30_000) -> st.SearchStrategy[str]:
    """Up to a few hundred thousand characters, as a piece repeated (generating them one by one is slow)."""
    return st.tuples(shopper_text(4).filter(bool), st.integers(1, max_repeat)).map(lambda pair: pair[0] * pair[1])
