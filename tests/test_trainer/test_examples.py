"""Trainer-labelled examples: Rasa markup, duplicate and conflict rules, and safe edits of the data.

Every test that writes works on a copy of the project's data/ in tmp_path; none needs Redis or a model.
"""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.anger_data import AngerExample, load_examples
from scripts.data_hygiene import is_near_duplicate
from trainer import cli
from trainer import examples as trainer_examples
from trainer.examples import (
    ConflictingExample,
    DevSplitExample,
    DuplicateExample,
    ExampleRefused,
    InvalidExample,
    Span,
    UnknownIntent,
    WriteFailed,
    add_anger_example,
    add_nlu_example,
    annotate,
    parse_markup,
)

PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Texts that no intent or anger file holds (checked by the tests that write them).
NEW_THANKS = "这次真是帮大忙了 感恩"


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(PROJECT_DATA, copy)
    return copy


def spans(*items):
    return [dict(zip(("start", "end", "entity", "value"), item, strict=False)) for item in items]


def read_back_with_rasa(tmp_path: Path, markup: str):
    """(text, [(start, end, entity, value)]) of the one example Rasa's loader reads from `markup`."""
    path = tmp_path / "probe.yml"
    path.write_text(f'version: "3.1"\nnlu:\n- intent: probe\n  examples: |\n    - {markup}\n', encoding="utf-8")
    (message,) = load_data(str(path)).intent_examples
    entities = [(e["start"], e["end"], e["entity"], e["value"]) for e in message.get("entities") or []]
    return message.get("text"), sorted(entities)


def nlu_examples(data_dir: Path):
    return {(m.get("text"), m.get("intent")) for m in load_data(str(data_dir / "nlu")).intent_examples}


def assert_refused(error: ExampleRefused, code: str) -> None:
    assert error.code == code
    assert CHINESE.search(error.message_zh), error.message_zh
    assert str(error) and not CHINESE.fullmatch(str(error))


def assert_only_line_inserted(before: bytes, after: bytes, line: int, expected: str) -> None:
    after_lines = after.splitlines(keepends=True)
    inserted = after_lines.pop(line - 1)
    assert inserted.decode("utf-8").rstrip("\r\n") == expected
    assert after_lines == before.splitlines(keepends=True)


def snapshot(directory: Path):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- annotate


@pytest.mark.parametrize(
    "text, span_items, markup",
    [
        ("坏了", [], "坏了"),
        ("快递盒子压扁了 里面的玻璃杯碎了两个", [(11, 14, "product")], "快递盒子压扁了 里面的[玻璃杯](product)碎了两个"),
        ("订单2025031408827163的钱退了没有", [(2, 18, "order_id")], "订单[2025031408827163](order_id)的钱退了没有"),
        ("手机号13812345678 麻烦回电", [(3, 14, "phone")], "手机号[13812345678](phone) 麻烦回电"),
        ("东西寄回去了 啥时候退钱给我", [(10, 12, "resolution", "refund")], "东西寄回去了 啥时候[退钱](resolution:refund)给我"),
        # spans may come in any order
        ("杯子碎了 给我退款吧", [(7, 9, "resolution"), (0, 2, "product")], "[杯子](product)碎了 给我[退款](resolution)吧"),
        # offsets count code points: the emoji is one character
        ("😭杯子碎了", [(1, 3, "product")], "😭[杯子](product)碎了"),
        # brackets that Rasa reads as plain text stay as they are: nothing is escaped
        ("[捂脸] 杯子碎了", [(5, 7, "product")], "[捂脸] [杯子](product)碎了"),
        ("(急) 奶粉罐子瘪了", [(4, 6, "product")], "(急) [奶粉](product)罐子瘪了"),
        ("#差评# 杯子碎了", [], "#差评# 杯子碎了"),
        # a value equal to the annotated text is not written
        ("要退款", [(1, 3, "resolution", "退款")], "要[退款](resolution)"),
    ],
)
def test_annotate_renders_markup_that_rasa_reads_back(tmp_path, text, span_items, markup):
    assert annotate(text, spans(*span_items)) == markup
    expected = sorted((s[0], s[1], s[2], s[3] if len(s) > 3 else text[s[0] : s[1]]) for s in span_items)
    assert read_back_with_rasa(tmp_path, markup) == (text, expected)
    assert parse_markup(markup)[0] == text


def test_annotate_accepts_span_objects():
    assert annotate("杯子碎了", [Span(0, 2, "product")]) == "[杯子](product)碎了"


@pytest.mark.parametrize(
    "text, span_items, code",
    [
        ("", [], "empty_text"),
        ("   ", [], "empty_text"),
        (None, [], "bad_text"),
        ("杯子\n碎了", [], "line_break"),
        ("杯子\r碎了", [], "line_break"),
        ("杯子\u2028碎了", [], "line_break"),
        ("杯子\x85碎了", [], "line_break"),
        ("杯子\t碎了", [], "control_character"),
        ("杯子\x07碎了", [], "control_character"),
        (" 杯子碎了", [], "outer_whitespace"),
        ("杯子碎了", [(0, 9, "product")], "span_out_of_range"),
        ("杯子碎了", [(-1, 2, "product")], "span_out_of_range"),
        ("杯子碎了", [(3, 1, "product")], "span_out_of_range"),
        ("杯子碎了", [(2, 2, "product")], "empty_span"),
        ("玻璃杯碎了", [(0, 3, "product"), (2, 4, "product")], "overlapping_spans"),
        ("玻璃杯碎了", [(0, 3, "product"), (0, 3, "product")], "overlapping_spans"),
        ("杯子碎了", [(0, 2, "prodcut")], "unknown_entity"),
        ("杯子碎了", [(0, 2, "colour")], "unknown_entity"),
        ("杯子(新)碎了", [(0, 5, "product")], "bracket_in_span"),
        ("[捂脸] 杯子碎了", [(0, 4, "product")], "bracket_in_span"),
        ("杯子碎了", [(0, 2, "product", "a)b")], "bad_value"),
        ("杯子碎了", [(0, 2, "product", "")], "bad_value"),
        # plain text that Rasa's entity syntax would swallow
        ("[捂脸](哭) 杯子碎了", [], "unreadable_markup"),
        ("[捂脸][大哭] 杯子碎了", [], "unreadable_markup"),
        ('[捂脸]{"entity": "product"} 碎了', [], "unreadable_markup"),
        ("[杯子碎了", [(1, 3, "product")], "unreadable_markup"),  # a plain "[" right before a span
    ],
)
def test_annotate_refuses_what_rasa_cannot_read_back(text, span_items, code):
    with pytest.raises(InvalidExample) as refused:
        annotate(text, spans(*span_items))
    assert_refused(refused.value, code)


@pytest.mark.parametrize(
    "bad_span",
    [{"start": "0", "end": 2, "entity": "product"}, {"start": 0, "entity": "product"}, {"start": 0, "end": 2, "entity": "product", "role": "x"}, (0, 2, "product")],
)
def test_malformed_spans_are_refused(bad_span):
    with pytest.raises(InvalidExample) as refused:
        annotate("杯子碎了", [bad_span])
    assert_refused(refused.value, "bad_span")


def test_unknown_entity_message_names_the_close_one_and_the_known_ones():
    with pytest.raises(InvalidExample) as refused:
        annotate("杯子碎了", spans((0, 2, "prodcut")))
    assert "是不是想写 product" in refused.value.message_zh
    assert "order_id" in refused.value.message_zh and "prodcut" in str(refused.value)


def test_overlap_message_names_both_spans():
    with pytest.raises(InvalidExample) as refused:
        annotate("玻璃杯碎了", spans((0, 3, "product"), (2, 4, "product")))
    assert "「玻璃杯」" in refused.value.message_zh and "「杯碎」" in refused.value.message_zh


# --------------------------------------------------------------------------- add_nlu_example: writing


def test_example_is_appended_to_its_intent_block_and_read_by_rasa(data_dir):
    path = data_dir / "nlu" / "report_broken.yml"
    before = path.read_bytes()
    written = add_nlu_example("report_broken", "杯子碎成两半了", spans((0, 2, "product")), data_dir=data_dir)
    assert (written.path, written.created_file, written.warnings) == (path, False, ())
    assert written.line == len(before.splitlines()) + 1
    assert_only_line_inserted(before, path.read_bytes(), written.line, "    - [杯子](product)碎成两半了")
    (message,) = [m for m in load_data(str(data_dir / "nlu")).intent_examples if m.get("text") == "杯子碎成两半了"]
    assert message.get("intent") == "report_broken"
    assert [(e["start"], e["end"], e["entity"]) for e in message.get("entities")] == [(0, 2, "product")]


def test_outer_whitespace_is_trimmed_and_spans_move_with_it(data_dir):
    written = add_nlu_example("report_broken", "  杯子碎成两半了 ", spans((2, 4, "product")), data_dir=data_dir)
    assert written.line_text == "    - [杯子](product)碎成两半了"


def test_only_the_written_file_changes(data_dir):
    before = snapshot(data_dir)
    add_nlu_example("report_broken", "杯子碎成两半了", data_dir=data_dir)
    after = snapshot(data_dir)
    assert {name for name in after if after[name] != before.get(name)} == {Path("nlu/report_broken.yml")}


# Layout of thank.yml -> (content before, content after with {new} for the example, 1-based line of the example).
LAYOUTS = {
    "comments, blank lines and a second intent after": (
        'version: "3.1"\n# Thanks, short and long.\nnlu:\n- intent: thank  # the common case\n  examples: |\n'
        "    - 谢谢\n\n    - 谢谢你\n# below: thanks that end a conversation\n\n- intent: goodbye\n  examples: |\n    - 谢谢 拜拜\n",
        'version: "3.1"\n# Thanks, short and long.\nnlu:\n- intent: thank  # the common case\n  examples: |\n'
        "    - 谢谢\n\n    - 谢谢你\n    - {new}\n# below: thanks that end a conversation\n\n- intent: goodbye\n  examples: |\n    - 谢谢 拜拜\n",
        9,
    ),
    "intent block last, no final newline": (
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - 谢谢 再见\n- intent: thank\n  examples: |\n    - 谢谢\n    - 多谢',
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - 谢谢 再见\n- intent: thank\n  examples: |\n    - 谢谢\n    - 多谢\n    - {new}\n',
        10,
    ),
    "CRLF line endings": (
        'version: "3.1"\r\nnlu:\r\n- intent: thank\r\n  examples: |\r\n    - 谢谢\r\n    - 多谢\r\n',
        'version: "3.1"\r\nnlu:\r\n- intent: thank\r\n  examples: |\r\n    - 谢谢\r\n    - 多谢\r\n    - {new}\r\n',
        7,
    ),
    "indented list, quoted name, metadata before examples": (
        'version: "3.1"\nnlu:\n  - intent: "thank"\n    metadata:\n      source: chat\n    examples: |\n      - 谢谢\n      - 多谢\n',
        'version: "3.1"\nnlu:\n  - intent: "thank"\n    metadata:\n      source: chat\n    examples: |\n      - 谢谢\n      - 多谢\n      - {new}\n',
        9,
    ),
    "two blocks of the intent: the last one grows": (
        'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - 谢谢\n- intent: thank\n  examples: |\n    - 多谢\n\n',
        'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - 谢谢\n- intent: thank\n  examples: |\n    - 多谢\n    - {new}\n\n',
        9,
    ),
    "no block for the intent yet: a new one before the closing comment": (
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - 谢谢 再见\n# end\n',
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - 谢谢 再见\n- intent: thank\n  examples: |\n    - {new}\n# end\n',
        8,
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_insertion_keeps_every_other_byte_of_the_file(data_dir, layout):
    before, after, line = LAYOUTS[layout]
    path = data_dir / "nlu" / "thank.yml"
    path.write_bytes(before.encode("utf-8"))
    written = add_nlu_example("thank", NEW_THANKS, data_dir=data_dir)
    assert path.read_bytes() == after.format(new=NEW_THANKS).encode("utf-8")
    assert written.line == line
    assert path.read_bytes().decode("utf-8").splitlines()[line - 1].strip() == f"- {NEW_THANKS}"
    assert (NEW_THANKS, "thank") in nlu_examples(data_dir)


def test_a_new_intent_file_is_created_in_the_standard_shape(data_dir):
    path = data_dir / "nlu" / "thank.yml"
    path.unlink()
    written = add_nlu_example("thank", NEW_THANKS, data_dir=data_dir)
    assert written.created_file and written.path == path and written.line == 5
    assert path.read_text(encoding="utf-8") == f'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - {NEW_THANKS}\n'
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"][0]["intent"] == "thank"
    assert (NEW_THANKS, "thank") in nlu_examples(data_dir)


# --------------------------------------------------------------------------- add_nlu_example: refusals


@pytest.mark.parametrize(
    "intent, text, span_items, existing",
    [
        ("report_broken", "坏了", [], "坏了"),
        ("report_broken", "  坏了  ", [], "坏了"),
        ("report_broken", "坏了\u200b", [], "坏了"),  # zero-width space: gone after normalisation
        ("inform", "２０２４１１２３０９８７１６４２", [], "2024112309871642"),  # full-width digits
        ("report_broken", "快递盒子压扁了 里面的玻璃杯碎了两个", [(11, 14, "product")], "快递盒子压扁了 里面的玻璃杯碎了两个"),
        ("report_broken", "快递盒子压扁了 里面的玻璃杯碎了两个", [], "快递盒子压扁了 里面的玻璃杯碎了两个"),
    ],
)
def test_exact_duplicates_are_refused(data_dir, intent, text, span_items, existing):
    before = snapshot(data_dir)
    with pytest.raises(DuplicateExample) as refused:
        add_nlu_example(intent, text, spans(*span_items), data_dir=data_dir)
    assert_refused(refused.value, "exact_duplicate")
    assert refused.value.existing == existing and f"「{existing}」" in refused.value.message_zh
    assert snapshot(data_dir) == before


@pytest.mark.parametrize(
    "text, existing",
    [
        ("坏了！！！", "坏了"),
        ("坏 了", "坏了"),
        ("坏了😭😭", "坏了"),
        ("坏了~", "坏了"),
        ("漏了", "漏了😭"),
        ("新买的蓝牙耳机左耳没声音啊", "新买的蓝牙耳机左耳没声音"),  # long: almost the same bigrams
    ],
)
def test_near_duplicates_are_refused_naming_the_existing_example(data_dir, text, existing):
    with pytest.raises(DuplicateExample) as refused:
        add_nlu_example("report_broken", text, data_dir=data_dir)
    assert_refused(refused.value, "near_duplicate")
    assert refused.value.existing == existing and f"「{existing}」" in refused.value.message_zh


@pytest.mark.parametrize("text", ["坏了", "坏了！", "新买的蓝牙耳机左耳没声音啊"])
def test_the_same_text_under_another_intent_is_a_conflict(data_dir, text):
    before = snapshot(data_dir)
    with pytest.raises(ConflictingExample) as refused:
        add_nlu_example("report_wrong_item", text, data_dir=data_dir)
    assert_refused(refused.value, "conflict")
    assert refused.value.other_labels == ("report_broken",) and "report_broken" in refused.value.message_zh
    assert snapshot(data_dir) == before


def test_a_forced_conflict_is_written_with_a_warning(data_dir):
    written = add_nlu_example("report_wrong_item", "坏了！", data_dir=data_dir, force=True)
    (warning,) = written.warnings
    assert warning.code == "forced_conflict" and "report_broken" in warning.message_zh
    assert ("坏了！", "report_wrong_item") in nlu_examples(data_dir)


def test_force_does_not_override_a_duplicate(data_dir):
    with pytest.raises(DuplicateExample):
        add_nlu_example("report_broken", "坏了", data_dir=data_dir, force=True)


@pytest.mark.parametrize(
    "intent, suggested",
    [("report_brokn", "report_broken"), ("broken", "report_broken"), ("greeting", "greet"), ("weather", None), ("", None)],
)
def test_unknown_intents_are_refused_naming_the_close_ones(data_dir, intent, suggested):
    with pytest.raises(UnknownIntent) as refused:
        add_nlu_example(intent, "杯子碎成两半了", data_dir=data_dir)
    assert_refused(refused.value, "unknown_intent")
    if suggested:
        assert suggested in refused.value.suggestions and f"是不是想写 {suggested}" in refused.value.message_zh
    else:
        assert refused.value.suggestions == () and "report_broken" in refused.value.message_zh


def test_unknown_entity_is_refused_before_anything_is_read(data_dir):
    with pytest.raises(InvalidExample) as refused:
        add_nlu_example("report_broken", "杯子碎成两半了", spans((0, 2, "item")), data_dir=data_dir)
    assert_refused(refused.value, "unknown_entity")


def test_overlapping_spans_are_refused(data_dir):
    with pytest.raises(InvalidExample) as refused:
        add_nlu_example("report_broken", "玻璃杯碎成两半了", spans((0, 3, "product"), (1, 3, "product")), data_dir=data_dir)
    assert_refused(refused.value, "overlapping_spans")


def test_dev_split_examples_are_refused_even_when_forced(data_dir):
    with pytest.raises(DevSplitExample) as refused:
        add_nlu_example("greet", "亲 在不在！", data_dir=data_dir, force=True)
    assert_refused(refused.value, "dev_split")


def test_warnings_for_entities_the_model_cannot_learn_as_annotated(data_dir):
    written = add_nlu_example(
        "report_not_received", "游戏点卡没到账 能给我退个款吗", spans((2, 4, "product"), (11, 14, "resolution")), data_dir=data_dir
    )
    assert [w.code for w in written.warnings] == ["entity_off_token_boundary", "unmapped_resolution"]
    assert "点卡" in written.warnings[0].message_zh and "synonyms.yml" in written.warnings[1].message_zh


def test_a_resolution_with_its_canonical_value_needs_no_synonym(data_dir):
    written = add_nlu_example(
        "ask_refund_status", "能给我退个款吗 都等一周了", spans((3, 6, "resolution", "refund")), data_dir=data_dir
    )
    assert written.warnings == ()
    assert written.line_text == "    - 能给我[退个款](resolution:refund)吗 都等一周了"


# --------------------------------------------------------------------------- safe writes


def test_a_write_that_does_not_read_back_is_undone(data_dir, monkeypatch):
    monkeypatch.setattr(trainer_examples, "_verify_nlu_file", lambda path, expected: False)
    before = snapshot(data_dir)
    with pytest.raises(WriteFailed) as refused:
        add_nlu_example("report_broken", "杯子碎成两半了", data_dir=data_dir)
    assert_refused(refused.value, "verification_failed")
    assert snapshot(data_dir) == before  # same bytes, no temporary file left


def test_a_new_file_that_does_not_read_back_is_removed(data_dir, monkeypatch):
    (data_dir / "nlu" / "thank.yml").unlink()
    monkeypatch.setattr(trainer_examples, "_verify_nlu_file", lambda path, expected: False)
    before = snapshot(data_dir)
    with pytest.raises(WriteFailed):
        add_nlu_example("thank", NEW_THANKS, data_dir=data_dir)
    assert snapshot(data_dir) == before


def test_the_real_verification_catches_a_wrong_write(data_dir, monkeypatch):
    """The insertion is sabotaged (the line goes to the wrong intent): Rasa's reader notices, the file is restored."""
    real_insert = trainer_examples._insert_nlu_line
    monkeypatch.setattr(
        trainer_examples, "_insert_nlu_line", lambda content, intent, markup, path: real_insert(content, intent, "坏了", path)
    )
    before = snapshot(data_dir)
    with pytest.raises(WriteFailed):
        add_nlu_example("report_broken", "杯子碎成两半了", data_dir=data_dir)
    assert snapshot(data_dir) == before


def test_a_crash_while_replacing_leaves_the_original_and_no_temporary_file(data_dir, monkeypatch):
    def crash(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(trainer_examples.os, "replace", crash)
    before = snapshot(data_dir)
    with pytest.raises(OSError):
        add_nlu_example("report_broken", "杯子碎成两半了", data_dir=data_dir)
    assert snapshot(data_dir) == before


def test_an_unreadable_intent_file_is_refused_untouched(data_dir):
    path = data_dir / "nlu" / "thank.yml"
    path.write_text('version: "3.1"\nnlu:\n- intent: thank\n  examples: [\n', encoding="utf-8")
    before = snapshot(data_dir)
    with pytest.raises(WriteFailed) as refused:
        add_nlu_example("thank", NEW_THANKS, data_dir=data_dir)
    assert_refused(refused.value, "unreadable_file")
    assert snapshot(data_dir) == before


# --------------------------------------------------------------------------- anger examples


@pytest.mark.parametrize(
    "text, angry, line_text",
    [
        ("2024120801457391", False, '  - "2024120801457391"'),
        ("12.5", False, '  - "12.5"'),
        ("true", False, '  - "true"'),
        ("null", True, '  - "null"'),
        ("退款: 现在就要", True, '  - "退款: 现在就要"'),
        ("#差评# 说到做到", True, '  - "#差评# 说到做到"'),
        ("- 什么玩意", True, '  - "- 什么玩意"'),
        ('说好的"顺丰包邮"怎么成了韵达', True, '  - 说好的"顺丰包邮"怎么成了韵达'),
        ("@客服 人呢？？？", True, '  - "@客服 人呢？？？"'),
        ("等了三天了都没人管", True, "  - 等了三天了都没人管"),
    ],
)
def test_anger_examples_stay_strings_for_the_loader(data_dir, text, angry, line_text):
    written = add_anger_example(text, angry, data_dir=data_dir)
    assert written.path == data_dir / "anger" / "labelled.yml" and written.line_text == line_text
    assert written.path.read_text(encoding="utf-8").splitlines()[written.line - 1] == line_text
    loaded = load_examples(data_dir / "anger")
    assert AngerExample(text=text, angry=angry) in loaded
    assert yaml.safe_load(written.path.read_text(encoding="utf-8"))["angry" if angry else "calm"] == [text]


ANGER_FILE = (
    "# Trainer labels, week 12\n"
    "angry:\n"
    "  - 这都几天了  # chased three times\n"
    "\n"
    "# calm ones below\n"
    "calm:\n"
    "- 好的 知道了\n"
    "# end\n"
)


@pytest.mark.parametrize(
    "text, angry, line, line_text",
    [
        ("等了三天了都没人管", True, 4, "  - 等了三天了都没人管"),
        ("麻烦帮我看一下物流", False, 8, "- 麻烦帮我看一下物流"),
    ],
)
def test_anger_insertion_keeps_comments_and_order(data_dir, text, angry, line, line_text):
    path = data_dir / "anger" / "labelled.yml"
    path.write_text(ANGER_FILE, encoding="utf-8")
    written = add_anger_example(text, angry, data_dir=data_dir)
    assert (written.line, written.line_text, written.created_file) == (line, line_text, False)
    assert_only_line_inserted(ANGER_FILE.encode("utf-8"), path.read_bytes(), line, line_text)
    assert AngerExample(text=text, angry=angry) in load_examples(data_dir / "anger")


def test_a_missing_label_list_is_added_at_the_end(data_dir):
    path = data_dir / "anger" / "labelled.yml"
    path.write_text("angry:\n  - 这都几天了", encoding="utf-8")
    add_anger_example("麻烦帮我看一下物流", False, data_dir=data_dir)
    assert path.read_text(encoding="utf-8") == "angry:\n  - 这都几天了\ncalm:\n  - 麻烦帮我看一下物流\n"


def test_other_anger_files_can_be_chosen(data_dir):
    written = add_anger_example("等了三天了都没人管", True, data_dir=data_dir, file_name="waiting.yml")
    assert written.path == data_dir / "anger" / "waiting.yml"
    assert written.path.read_text(encoding="utf-8").splitlines()[written.line - 1] == "  - 等了三天了都没人管"
    assert AngerExample(text="等了三天了都没人管", angry=True) in load_examples(data_dir / "anger")
    with pytest.raises(InvalidExample) as refused:
        add_anger_example("等了三天了都没人管", True, data_dir=data_dir, file_name="../nlu/x.yml")
    assert_refused(refused.value, "bad_file_name")


@pytest.mark.parametrize(
    "text, angry, error, code",
    [
        ("垃圾店 再也不来了", True, DuplicateExample, "exact_duplicate"),
        ("垃圾店，再也不来了！", True, DuplicateExample, "near_duplicate"),
        ("垃圾店 再也不来了", False, ConflictingExample, "conflict"),
        ("这速度是骑自行车送的吧", True, DevSplitExample, "dev_split"),
        ("退款\n呢", True, InvalidExample, "line_break"),
        ("  ", True, InvalidExample, "empty_text"),
    ],
)
def test_anger_duplicates_conflicts_and_bad_text_are_refused(data_dir, text, angry, error, code):
    before = snapshot(data_dir)
    with pytest.raises(error) as refused:
        add_anger_example(text, angry, data_dir=data_dir)
    assert_refused(refused.value, code)
    assert snapshot(data_dir) == before


def test_a_forced_anger_conflict_is_written_with_a_warning(data_dir):
    written = add_anger_example("垃圾店 再也不来了", False, data_dir=data_dir, force=True)
    (warning,) = written.warnings
    assert warning.code == "forced_conflict" and "angry" in warning.message_zh
    assert AngerExample(text="垃圾店 再也不来了", angry=False) in load_examples(data_dir / "anger")


def test_an_anger_write_that_does_not_read_back_is_undone(data_dir, monkeypatch):
    (data_dir / "anger" / "labelled.yml").write_text(ANGER_FILE, encoding="utf-8")
    monkeypatch.setattr(trainer_examples, "_verify_anger_file", lambda path, expected: False)
    before = snapshot(data_dir)
    with pytest.raises(WriteFailed) as refused:
        add_anger_example("等了三天了都没人管", True, data_dir=data_dir)
    assert_refused(refused.value, "verification_failed")
    assert snapshot(data_dir) == before


# --------------------------------------------------------------------------- near-duplicates (scripts.data_hygiene)


@pytest.mark.parametrize(
    "text_a, text_b, near",
    [
        ("坏了", "坏了！！", True),
        ("坏了", "坏 了😭", True),
        ("ＯＫ", "ok", False),  # compared after normalisation, not here
        ("坏了", "好了", False),
        ("？？？", "？？", False),  # nothing but punctuation: only equal texts are the same
        ("新买的蓝牙耳机左耳没声音", "新买的蓝牙耳机左耳没声音啊", True),
        ("新买的蓝牙耳机左耳没声音", "新买的蓝牙耳机右耳一直有杂音", False),
    ],
)
def test_is_near_duplicate(text_a, text_b, near):
    assert is_near_duplicate(text_a, text_b) is near


# --------------------------------------------------------------------------- command line


def test_cli_add_example_prints_where_it_was_written(data_dir, capsys):
    status = cli.main(
        ["--data-dir", str(data_dir), "add-example", "--intent", "report_broken", "--text", "杯子碎成两半了", "--entity", "0:2:product"]
    )
    out = capsys.readouterr().out
    line = len((PROJECT_DATA / "nlu" / "report_broken.yml").read_text(encoding="utf-8").splitlines()) + 1
    assert status == 0
    assert f"report_broken.yml 第 {line} 行" in out and "[杯子](product)碎成两半了" in out


def test_cli_prints_warnings(data_dir, capsys):
    status = cli.main(["--data-dir", str(data_dir), "add-example", "--intent", "report_wrong_item", "--text", "坏了！", "--force"])
    assert status == 0 and "提醒：" in capsys.readouterr().out


def test_cli_refusal_exits_1_with_the_chinese_message(data_dir, capsys):
    status = cli.main(["--data-dir", str(data_dir), "add-example", "--intent", "report_broken", "--text", "坏了"])
    err = capsys.readouterr().err
    assert status == 1 and "未写入：重复" in err and "exact_duplicate" in err


def test_cli_add_anger(data_dir, capsys):
    assert cli.main(["--data-dir", str(data_dir), "add-anger", "--text", "2024120801457391", "--calm"]) == 0
    assert "labelled.yml 第 3 行（新建文件）" in capsys.readouterr().out
    assert AngerExample(text="2024120801457391", angry=False) in load_examples(data_dir / "anger")
    assert cli.main(["--data-dir", str(data_dir), "add-anger", "--text", "2024120801457391", "--angry"]) == 1
    assert "冲突" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options, parsed",
    [
        (["0:2:product"], [Span(0, 2, "product")]),
        (["0:2:product,5:7:resolution:refund"], [Span(0, 2, "product"), Span(5, 7, "resolution", "refund")]),
        (["0:2:product", " 5:7:resolution "], [Span(0, 2, "product"), Span(5, 7, "resolution")]),
        ([], []),
    ],
)
def test_cli_entity_options(options, parsed):
    assert cli.parse_entities(options) == parsed


@pytest.mark.parametrize("option", ["0-2-product", "0:2", "a:2:product"])
def test_cli_bad_entity_option_is_a_refusal(data_dir, capsys, option):
    status = cli.main(["--data-dir", str(data_dir), "add-example", "--intent", "report_broken", "--text", "杯子碎成两半了", "--entity", option])
    assert status == 1 and "--entity" in capsys.readouterr().err
