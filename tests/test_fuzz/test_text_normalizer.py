"""The text normaliser (bot/text_normalization.py) and the gateway's free-text rule over any text:
it never raises, and what its docstring promises holds for every input."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text_normalization import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_REPEAT,
    FULLWIDTH_COMMAND_PREFIX,
    FULLWIDTH_OFFSET,
    NormalizedText,
    normalize,
)
from handoff.gateway import MAX_TEXT_CHARS, EmptyMessage, as_free_text
from tests.test_fuzz.budget import fuzz_settings
from tests.test_fuzz.texts import any_text, huge_text, shopper_text

pytestmark = pytest.mark.fuzz

ZERO_WIDTH_JOINER = "\u200d"


def halfwidth(char: str) -> str:
    return chr(ord(char) - FULLWIDTH_OFFSET) if 0xFF01 <= ord(char) <= 0xFF5E else char


def comes_from(output_char: str, source_char: str, position: int) -> bool:
    """An output character is its source character, made half-width, or a space for any whitespace."""
    if position == 0 and output_char == FULLWIDTH_COMMAND_PREFIX:
        return source_char in ("/", FULLWIDTH_COMMAND_PREFIX)
    if output_char == " ":
        return source_char.isspace()
    return output_char == halfwidth(source_char)


def invisible(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "Cc" or (category == "Cf" and char != ZERO_WIDTH_JOINER)


def longest_non_digit_run(text: str) -> int:
    return max((len(list(run)) for char, run in itertools.groupby(text) if not char.isdigit()), default=0)


def check_promises(original: str, result: NormalizedText) -> None:
    text, sources = result.text, result.source_index
    assert len(sources) == len(text) <= DEFAULT_MAX_CHARS
    assert list(sources) == sorted(set(sources)) and all(0 <= s < len(original) for s in sources)
    assert all(comes_from(char, original[source], i) for i, (char, source) in enumerate(zip(text, sources, strict=True)))
    assert not any(invisible(char) for char in text)
    assert all(char == " " or not char.isspace() for char in text)
    assert "  " not in text and not text.startswith(" ")
    assert result.truncated or not text.endswith(" ")
    assert not any(0xFF01 <= ord(char) <= 0xFF5E for char in text[1:])
    assert longest_non_digit_run(text) <= DEFAULT_MAX_REPEAT
    assert not text.startswith("/") or original.strip().startswith("/")


@given(any_text())
@fuzz_settings(2000)
def test_any_text_is_normalised_as_promised(cases, text):
    cases.tick()
    check_promises(text, normalize(text))


@given(shopper_text(40))
@fuzz_settings(1000)
def test_the_cut_is_at_max_chars_and_flagged(cases, text):
    cases.tick()
    whole = normalize(text, max_chars=10**9)
    cut = normalize(text, max_chars=20)
    assert cut.truncated == (len(whole.text) > 20)
    assert (cut.text, cut.source_index) == (whole.text[:20], whole.source_index[:20])


@given(any_text())
@fuzz_settings(1000)
def test_digits_are_never_dropped(cases, text):
    cases.tick()
    result = normalize(text, max_chars=10**9)
    visible = [halfwidth(char) for char in text if not invisible(char)]
    assert sum(char.isdigit() for char in result.text) == sum(char.isdigit() for char in visible)


@given(any_text())
@fuzz_settings(1200)
def test_normalising_twice_changes_nothing(cases, text):
    cases.tick()
    once = normalize(text)
    if once.truncated:  # the cut may end on a space; test_the_cut_is_at_max_chars_and_flagged covers it
        return
    assert normalize(once.text).text == once.text


@given(any_text(120), st.integers(-5, 130), st.integers(-5, 130))
@fuzz_settings(1000)
def test_entity_spans_move_inside_the_text(cases, text, start, end):
    cases.tick()
    result = normalize(text)
    span = result.map_span(start, end)
    survivors = [i for i, source in enumerate(result.source_index) if start <= source < end]
    if span is None:
        assert not survivors
    else:
        assert 0 <= span[0] < span[1] <= len(result.text)
        assert (span[0], span[1] - 1) == (survivors[0], survivors[-1])


@given(any_text())
@fuzz_settings(1200)
def test_typed_text_never_reaches_rasa_as_a_command(cases, typed):
    cases.tick()
    if not typed.strip():
        with pytest.raises(EmptyMessage):
            as_free_text(typed)
        return
    sent = as_free_text(typed)
    assert 0 < len(sent) <= MAX_TEXT_CHARS and not sent.startswith("/")
    assert not normalize(sent).text.startswith("/"), "Rasa would read it as a forced intent"


@given(huge_text())
@fuzz_settings(40)
def test_huge_texts_are_cut_not_choked_on(cases, text):
    cases.tick()
    result = normalize(text)
    check_promises(text, result)
    assert result.truncated == (len(normalize(text, max_chars=10**9).text) > DEFAULT_MAX_CHARS)
