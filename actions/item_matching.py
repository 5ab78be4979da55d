"""Pick the order line a shopper means from what they called it (那件白色的, T恤, L码那个).

Both sides are cut into words with jieba and the store dictionary (bot/dictionary, read
as data), so 白色T恤 and 纯棉白色短袖T恤 share 白色 and T恤. Colour words are normalised
(白的 / 白 → 白色) and filler words (那件, 的, 个) dropped. A line wins when it matches
strictly more than every other line; otherwise the shopper is asked to pick.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence, Set

import jieba

from actions.shop.models import OrderItem

DICTIONARY_DIR = Path(__file__).resolve().parent.parent / "bot" / "dictionary"

COLOURS = "黑白红黄蓝绿紫灰粉棕橙金银米卡咖"
FILLER = {
    "那", "这", "那个", "这个", "那件", "这件", "那双", "这双", "那款", "这款", "那台", "这台", "那条", "这条",
    "件", "个", "双", "款", "台", "条", "盒", "瓶", "袋", "的", "了", "是", "就是", "我", "买", "买的", "要",
    "一", "一个", "一件", "商品", "东西", "宝贝", "订单", "里", "里面", "中", "吧", "呢", "啊", "哦",
}


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    for path in sorted(DICTIONARY_DIR.glob("*.txt")):
        tokenizer.load_userdict(str(path))
    return tokenizer


def _normalise_colour(word: str) -> str:
    """白的 / 白 / 白色 → 白色 (single colour characters only)."""
    core = word[:-1] if word.endswith("的") else word
    if len(core) == 1 and core in COLOURS:
        return core + "色"
    return word


def words(text: str) -> Set[str]:
    """Meaningful words of a product mention or an order line, lower-cased."""
    text = re.sub(r"\s+", " ", text)
    result: Set[str] = set()
    for token in _tokenizer().cut_for_search(text):
        token = _normalise_colour(token.strip().lower())
        if token and token not in FILLER and not re.fullmatch(r"\W+", token):
            result.add(token)
    return result


def _score(mention_words: Set[str], item: OrderItem) -> float:
    line = f"{item.name} {item.spec}".lower()
    line_words = words(line)
    score = 0.0
    for word in mention_words:
        if word in line_words:
            score += len(word)
        elif len(word) > 1 and word in line:
            score += len(word) * 0.8
        else:  # 裤子 vs 牛仔裤: a shared character is a weak hint
            score += 0.3 * sum(1 for char in set(word) if "\u4e00" <= char <= "\u9fff" and char in line)
    return score


def match_items(mention: str, items: Sequence[OrderItem]) -> List[OrderItem]:
    """The lines of `items` that best match `mention`, best first; [] when nothing matches."""
    mention_words = words(mention)
    if not mention_words:
        return []
    scored = [(_score(mention_words, item), index, item) for index, item in enumerate(items)]
    best = max(score for score, _, _ in scored)
    if best <= 0:
        return []
    return [item for score, _, item in sorted(scored, key=lambda s: (-s[0], s[1])) if score == best]


def pick_item(mention: Optional[str], items: Sequence[OrderItem]) -> Optional[OrderItem]:
    """The one line the shopper means: the only line, or the single best match; else None."""
    if len(items) == 1:
        return items[0]
    if not mention:
        return None
    exact = [item for item in items if mention.strip() in (item.sku, item_label(item))]
    if len(exact) == 1:
        return exact[0]
    best = match_items(mention, items)
    return best[0] if len(best) == 1 else None


def item_label(item: OrderItem) -> str:
    """How a line is shown to the shopper and sent back by its button."""
    return f"{item.name}（{item.spec}）" if item.spec else item.name
