"""Pure text normalisation for shopper messages (no Rasa imports).

Shoppers type on phones with Chinese input methods: full-width Latin letters and
digits (ＯＫ, １３８…), ideographic spaces, stray control or zero-width characters,
phone numbers split into groups (138 1234 5678) and punctuation hammered ten times.
`normalize` makes that text regular without destroying what carries meaning:

- full-width ASCII forms become half-width, so ＯＫ/OK and １３８/138 are one token;
- control and zero-width characters go, runs of whitespace become one space;
- a run of one repeated character is capped at `max_repeat` (!!!!!!!! → !!!), which
  keeps the run as an anger signal while bounding the vocabulary; digits are never
  capped (order numbers contain 0000);
- digit groups that together form a mobile number or an order number are joined;
- a text that did not start with "/" never starts with one after normalisation (Rasa would
  read it as a forced intent): a leading "／" stays full-width;
- text longer than `max_chars` is cut (parsing cost grows with length).

Every output character remembers the index of the input character it came from, so
entity annotations of training examples can be moved onto the normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List, Optional, Tuple

FULLWIDTH_OFFSET = 0xFEE0
IDEOGRAPHIC_SPACE = "\u3000"
COMMAND_PREFIX = "/"
FULLWIDTH_COMMAND_PREFIX = "\uff0f"  # ／
DEFAULT_MAX_REPEAT = 3
DEFAULT_MAX_CHARS = 1000

# Digit groups separated by single spaces or hyphens: "138 1234 5678", "2024-0615-1234-5678".
_DIGIT_GROUPS = re.compile(r"(?<!\d)\d{2,8}(?:[ \-]\d{2,8}){1,5}(?!\d)")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ORDER_NUMBER = re.compile(r"20\d{14,17}")


@dataclass(frozen=True)
class NormalizedText:
    text: str
    # source_index[i] is the index in the original text of output character i.
    source_index: Tuple[int, ...]
    truncated: bool = False

    def map_span(self, start: int, end: int) -> Optional[Tuple[int, int]]:
        """Moves the original span [start, end) onto the normalised text.

        Returns None when nothing of the span survived normalisation.
        """
        kept = [i for i, src in enumerate(self.source_index) if start <= src < end]
        if not kept:
            return None
        return kept[0], kept[-1] + 1


Chars = List[Tuple[str, int]]


def _to_halfwidth(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - FULLWIDTH_OFFSET)
    if char == IDEOGRAPHIC_SPACE:
        return " "
    return char


def _is_invisible(char: str) -> bool:
    """Control (Cc) and format (Cf: zero-width joiners, BOM, bidi marks) characters."""
    if char in "\t\n\r":
        return False
    category = unicodedata.category(char)
    # Keep the zero-width joiner: it glues multi-part emoji together.
    return category == "Cc" or (category == "Cf" and char != "\u200d")


def _map_chars(chars: Chars) -> Chars:
    return [(_to_halfwidth(c), i) for c, i in chars if not _is_invisible(c)]


def _collapse_whitespace(chars: Chars) -> Chars:
    out: Chars = []
    for char, index in chars:
        if char.isspace():
            if out and out[-1][0] != " ":
                out.append((" ", index))
            continue
        out.append((char, index))
    if out and out[-1][0] == " ":
        out.pop()
    return out


def _cap_repeats(chars: Chars, max_repeat: int) -> Chars:
    out: Chars = []
    run = 0
    for char, index in chars:
        run = run + 1 if out and out[-1][0] == char else 1
        if run > max_repeat and not char.isdigit():
            continue
        out.append((char, index))
    return out


def _join_digit_groups(chars: Chars) -> Chars:
    text = "".join(c for c, _ in chars)
    drop = set()
    for match in _DIGIT_GROUPS.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _MOBILE.fullmatch(digits) or _ORDER_NUMBER.fullmatch(digits):
            drop.update(
                match.start() + offset
                for offset, char in enumerate(match.group())
                if not char.isdigit()
            )
    return [pair for position, pair in enumerate(chars) if position not in drop]


def _never_a_command(chars: Chars, original: str) -> Chars:
    """Rasa reads a text starting with "/" as a forced intent with entities ("/inform{…}"). A
    message that did not start with "/" must not start with one after normalisation (the
    gateway turns a typed leading "/" into "／" so that shoppers cannot force intents)."""
    if chars and chars[0][0] == COMMAND_PREFIX and not original.strip().startswith(COMMAND_PREFIX):
        return [(FULLWIDTH_COMMAND_PREFIX, chars[0][1])] + chars[1:]
    return chars


def normalize(
    text: Optional[str],
    max_repeat: int = DEFAULT_MAX_REPEAT,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> NormalizedText:
    """Normalises one shopper message; see the module docstring for the steps."""
    chars: Chars = [(c, i) for i, c in enumerate(text or "")]
    chars = _map_chars(chars)
    chars = _collapse_whitespace(chars)
    chars = _cap_repeats(chars, max_repeat)
    chars = _join_digit_groups(chars)
    chars = _never_a_command(chars, text or "")
    truncated = len(chars) > max_chars
    chars = chars[:max_chars]
    return NormalizedText(
        text="".join(c for c, _ in chars),
        source_index=tuple(i for _, i in chars),
        truncated=truncated,
    )
