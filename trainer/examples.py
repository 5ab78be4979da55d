"""Writing trainer-labelled shopper messages into the training data.

Trainers label the messages the live bot got wrong. This module turns one labelled
message into training data and writes it where Rasa and the anger classifier read it:

- `annotate(text, spans)` renders character-offset entity spans as Rasa markup
  (`[玻璃杯](product)`) and refuses whatever Rasa would not read back as the same text
  and entities (line breaks, control characters, brackets inside a span, plain text
  like `[捂脸](…)` or `[捂脸][大哭]` that Rasa's entity syntax would swallow);
- `add_nlu_example(intent, text, spans)` appends the markup to the `examples: |`
  block of `data/nlu/<intent>.yml` (creating the file in the standard shape when the
  intent has none);
- `add_anger_example(text, angry)` appends the text to the `angry:` or `calm:` list
  of `data/anger/labelled.yml`.

Before writing, the new example is compared with the data already there, with the
project's definitions: texts are compared after `bot.text_normalization.normalize`
(and without markup), and "near-duplicate" means what `scripts.data_hygiene` says
(same text once punctuation, spaces and emoji are gone, or long texts sharing almost
all character bigrams). The same or a near-duplicate text under the same label is
refused; under another label it is a conflict, refused unless `force=True`. Texts of
the dev split (`data/eval/`) are always refused.

Files are edited as text: one line is inserted and every other byte is kept (order,
comments, blank lines, other intents, line endings). A write holds an exclusive lock
on the data directory, goes through a temporary file and `os.replace`, and is read
back with the real readers (Rasa's YAML reader, `bot.anger_data`); a write that does
not read back as "the old examples plus the new one" is undone.

Every refusal is an `ExampleRefused` with a `.code`, a `.message_zh` for the trainer
and an English `str()`.
"""

from __future__ import annotations

import difflib
import fcntl
import json
import os
import re
import tempfile
import unicodedata
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import yaml

from bot import anger_data
from bot.text_normalization import normalize

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
ANGER_FILE_NAME = "labelled.yml"
DEV_SPLIT_NLU = Path("eval") / "nlu.yml"
DEV_SPLIT_ANGER = Path("eval") / "anger.yml"

ANGER_LABELS_ZH = {"angry": "愤怒（angry）", "calm": "平静（calm）"}
# Characters that Python's str.splitlines (used by Rasa's reader) or YAML treat as line breaks.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
MARKUP_BRACKETS = "[]()"
_NO_CHARACTERS = {"\ufeff", "\ufffe", "\uffff"}  # byte-order mark and non-characters: not YAML text


# --------------------------------------------------------------------------- errors


class ExampleRefused(Exception):
    """An example that was not written. `str()` is the English reason, `.message_zh` is for the trainer."""

    def __init__(self, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_zh = message_zh


class InvalidExample(ExampleRefused):
    """The text or its spans cannot be written as Rasa training data.

    Codes: bad_text, empty_text, line_break, control_character, outer_whitespace,
    bad_span, span_out_of_range, empty_span, overlapping_spans, unknown_entity,
    bracket_in_span, bad_value, unreadable_markup, bad_file_name (anger).
    """


class UnknownIntent(ExampleRefused):
    """The intent is not one of domain.yml's intents (code: unknown_intent)."""

    def __init__(self, intent: str, suggestions: Sequence[str], known: Sequence[str]) -> None:
        self.intent = intent
        self.suggestions = tuple(suggestions)
        if suggestions:
            hint_en = f"; did you mean {', '.join(suggestions)}?"
            hint_zh = f"是不是想写 {'、'.join(suggestions)}？"
        else:
            hint_en = f"; the intents are {', '.join(known)}"
            hint_zh = f"可用的意图：{'、'.join(known)}。"
        super().__init__(
            "unknown_intent",
            f"unknown intent {intent!r} (not in domain.yml){hint_en}",
            f"没有名为「{intent}」的意图（domain.yml 里没有）。{hint_zh}",
        )


class DuplicateExample(ExampleRefused):
    """The same text, or a near-duplicate, already has this label (codes: exact_duplicate, near_duplicate)."""

    def __init__(self, code: str, existing: str, label: str, label_zh: str) -> None:
        self.existing = existing
        self.label = label
        if code == "exact_duplicate":
            message = f"exact duplicate: {label} already has {existing!r}"
            message_zh = f"重复：{label_zh}下已经有这句话「{existing}」，不用再加。"
        else:
            message = f"near duplicate of {existing!r} under {label} (same text without punctuation, spaces and emoji, or almost the same characters)"
            message_zh = (
                f"近似重复：{label_zh}下已有「{existing}」，去掉标点、空格和表情后几乎一样。"
                "请换一个能教会模型新东西的说法。"
            )
        super().__init__(code, message, message_zh)


class ConflictingExample(ExampleRefused):
    """The same or a near-duplicate text has another label (code: conflict); `force=True` writes it anyway."""

    def __init__(self, existing: str, other_labels: Sequence[str], others_zh: str) -> None:
        self.existing = existing
        self.other_labels = tuple(other_labels)
        super().__init__(
            "conflict",
            f"conflict: {existing!r} is already labelled {', '.join(other_labels)}; use force to write it anyway",
            f"冲突：这句话（或几乎一样的「{existing}」）已经标注为{others_zh}。同一句话不能有两个标签，"
            "请先核对；确认要加的话可以强制写入。",
        )


class DevSplitExample(ExampleRefused):
    """The text is (nearly) a dev-split example: never trained on (code: dev_split)."""

    def __init__(self, existing: str, split_file: str) -> None:
        self.existing = existing
        super().__init__(
            "dev_split",
            f"{existing!r} is in the dev split ({split_file}), which must never be trained on",
            f"这句话和验证集（{split_file}）里的「{existing}」相同或几乎相同；验证集的句子不能放进训练数据。",
        )


class WriteFailed(ExampleRefused):
    """The file could not be edited safely; it was left as it was.

    Codes: no_data_dir, unsupported_layout, unreadable_file, verification_failed.
    """


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Notice:
    """A warning returned with a written example: `.message_zh` for the trainer, `.message` in English."""

    code: str
    message: str
    message_zh: str


@dataclass(frozen=True)
class WrittenExample:
    path: Path
    line: int  # 1-based number of the inserted line
    line_text: str  # the inserted line, without its line ending
    created_file: bool = False
    warnings: Tuple[Notice, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Span:
    """An entity annotation: character offsets [start, end) into the text."""

    start: int
    end: int
    entity: str
    value: Optional[str] = None  # the canonical value when it differs from the annotated text


@dataclass(frozen=True)
class DomainLabels:
    intents: Tuple[str, ...]
    entities: Tuple[str, ...]
    resolution_values: Tuple[str, ...]


SpanLike = Union[Span, Mapping[str, Any]]
_NluKey = Tuple[str, str, Tuple[Span, ...]]


# --------------------------------------------------------------------------- domain


def _names(items: Iterable[Any]) -> Tuple[str, ...]:
    """Names of a domain list whose items are either `name` or `{name: {...}}`."""
    return tuple(next(iter(item)) if isinstance(item, dict) else str(item) for item in items or ())


def read_domain(domain_path: Path = DOMAIN_PATH) -> DomainLabels:
    """The intents, entities and `resolution` slot values of domain.yml."""
    domain = yaml.safe_load(Path(domain_path).read_text(encoding="utf-8")) or {}
    resolution = (domain.get("slots") or {}).get("resolution") or {}
    return DomainLabels(
        intents=_names(domain.get("intents")),
        entities=_names(domain.get("entities")),
        resolution_values=tuple(resolution.get("values") or ()),
    )


def _close_names(name: str, known: Sequence[str]) -> List[str]:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    containing = [k for k in known if name and len(name) >= 3 and name.lower() in k.lower()]
    return list(dict.fromkeys(close + containing))


def check_intent(intent: str, domain: DomainLabels) -> str:
    if isinstance(intent, str) and intent.strip() in domain.intents:
        return intent.strip()
    name = intent.strip() if isinstance(intent, str) else repr(intent)
    raise UnknownIntent(name, _close_names(name, domain.intents), domain.intents)


# --------------------------------------------------------------------------- text and markup


def _check_text(text: Any) -> None:
    """Refuses text that cannot be one line of training data."""
    if not isinstance(text, str):
        raise InvalidExample("bad_text", f"text must be a string, not {type(text).__name__}", "文本必须是字符串。")
    if not text.strip():
        raise InvalidExample("empty_text", "empty text", "文本是空的。")
    for position, char in enumerate(text):
        if char in LINE_BREAKS:
            raise InvalidExample(
                "line_break",
                f"text contains a line break at {position}; one example is one line",
                f"文本第 {position + 1} 个字符是换行：一条例句只能有一行，请拆成几条分别标注。",
            )
        if unicodedata.category(char) in ("Cc", "Cs") or char in _NO_CHARACTERS:
            raise InvalidExample(
                "control_character",
                f"text contains the control character U+{ord(char):04X} at {position}",
                f"文本第 {position + 1} 个字符是不可见的控制字符（U+{ord(char):04X}，例如制表符），请删除后再提交。",
            )
    if text != text.strip():
        raise InvalidExample(
            "outer_whitespace",
            "text starts or ends with whitespace (Rasa strips it, which would move the entity offsets)",
            "文本开头或结尾有空白，请去掉。",
        )


def _to_span(raw: SpanLike) -> Span:
    if isinstance(raw, Span):
        span = raw
    elif isinstance(raw, Mapping) and set(raw) <= {"start", "end", "entity", "value"}:
        try:
            span = Span(raw["start"], raw["end"], raw["entity"], raw.get("value"))
        except KeyError as missing:
            raise _bad_span(raw, f"missing {missing}") from None
    else:
        raise _bad_span(raw, "expected a mapping with start, end, entity and optionally value")
    if any(not isinstance(x, int) or isinstance(x, bool) for x in (span.start, span.end)):
        raise _bad_span(raw, "start and end must be integers")
    if not isinstance(span.entity, str) or (span.value is not None and not isinstance(span.value, str)):
        raise _bad_span(raw, "entity and value must be strings")
    return span


def _bad_span(raw: Any, reason: str) -> InvalidExample:
    return InvalidExample(
        "bad_span",
        f"bad span {raw!r}: {reason}",
        f"标注格式不对：{raw!r}。每个标注需要 start、end（整数字符位置）和 entity，可选 value。",
    )


def _check_span(text: str, span: Span, entities: Sequence[str]) -> Span:
    where = f"{span.start}:{span.end}"
    if not 0 <= span.start <= span.end <= len(text):
        raise InvalidExample(
            "span_out_of_range",
            f"span {where} is outside the text (length {len(text)})",
            f"标注 {where} 超出了文本范围（文本共 {len(text)} 个字符）。",
        )
    if span.start == span.end:
        raise InvalidExample("empty_span", f"span {where} is empty", f"标注 {where} 没有选中任何文字。")
    if span.entity not in entities:
        close = _close_names(span.entity, entities)
        hint_zh = f"是不是想写 {'、'.join(close)}？" if close else ""
        raise InvalidExample(
            "unknown_entity",
            f"unknown entity {span.entity!r} at {where}; the entities are {', '.join(entities)}",
            f"没有名为「{span.entity}」的实体。{hint_zh}可用的实体：{'、'.join(entities)}。",
        )
    covered = text[span.start : span.end]
    if any(char in covered for char in MARKUP_BRACKETS):
        raise InvalidExample(
            "bracket_in_span",
            f"the annotated text {covered!r} contains [ ] ( or ), which Rasa's markup cannot hold",
            f"标注的文字「{covered}」里有方括号或圆括号，Rasa 的标注格式表示不了；请缩小标注范围，或把括号换成全角【】（）。",
        )
    value = None if span.value == covered else span.value
    if value is not None and (
        not value.strip() or value != value.strip() or any(c in value for c in MARKUP_BRACKETS + LINE_BREAKS)
    ):
        raise InvalidExample(
            "bad_value",
            f"bad entity value {value!r} at {where}: empty, padded, or containing brackets or line breaks",
            f"标注 {where} 的值「{value}」不能为空、不能有首尾空白、括号或换行。",
        )
    return replace(span, value=value)


def _check_no_overlap(text: str, spans: Sequence[Span]) -> None:
    for before, after in zip(spans, spans[1:], strict=False):
        if after.start < before.end:
            first, second = text[before.start : before.end], text[after.start : after.end]
            raise InvalidExample(
                "overlapping_spans",
                f"spans {before.start}:{before.end} ({first!r}) and {after.start}:{after.end} ({second!r}) overlap",
                f"标注「{first}」（{before.start}:{before.end}）和「{second}」（{after.start}:{after.end}）重叠了，一个字只能属于一个实体。",
            )


def check_spans(text: str, spans: Iterable[SpanLike], entities: Sequence[str]) -> Tuple[Span, ...]:
    """The spans, validated and sorted by position."""
    checked = sorted((_check_span(text, _to_span(raw), entities) for raw in spans), key=lambda s: (s.start, s.end))
    _check_no_overlap(text, checked)
    return tuple(checked)


def _render(text: str, spans: Sequence[Span]) -> str:
    parts, position = [], 0
    for span in spans:
        label = span.entity if span.value is None else f"{span.entity}:{span.value}"
        parts += [text[position : span.start], f"[{text[span.start : span.end]}]({label})"]
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def _spans_of_message(message: Any) -> Tuple[Span, ...]:
    text = message.get("text")
    spans = []
    for entity in message.get("entities") or []:
        covered = text[entity["start"] : entity["end"]]
        value = entity.get("value")
        spans.append(Span(entity["start"], entity["end"], entity["entity"], None if value == covered else value))
    return tuple(sorted(spans, key=lambda s: (s.start, s.end)))


def _rasa_reader() -> Any:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    return RasaYAMLReader()


def parse_markup(markup: str) -> Tuple[str, Tuple[Span, ...]]:
    """What Rasa's YAML reader makes of one example line: (plain text, spans).

    Raises InvalidExample (unreadable_markup) when Rasa cannot read it as one example.
    """
    document = f'version: "3.1"\nnlu:\n- intent: probe\n  examples: |\n    - {markup}\n'
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            messages = _rasa_reader().reads(document).intent_examples
    except Exception as error:  # Rasa raises YAML, schema and entity-format errors of several types
        raise _unreadable(markup, f"Rasa cannot read it: {error}") from error
    if len(messages) != 1:
        raise _unreadable(markup, f"Rasa reads {len(messages)} examples from it")
    return messages[0].get("text"), _spans_of_message(messages[0])


def _unreadable(markup: str, reason: str, read_back: Optional[str] = None) -> InvalidExample:
    seen = f"（Rasa 读回为「{read_back}」）" if read_back is not None else ""
    return InvalidExample(
        "unreadable_markup",
        f"{markup!r}: {reason}",
        f"Rasa 读不回这句话的原样{seen}：方括号后面紧跟 (、[ 或 {{ 时会被当成实体标注。请把文本里的方括号换成全角【】再提交。",
    )


def annotate(
    text: str,
    spans: Iterable[SpanLike] = (),
    *,
    entities: Optional[Sequence[str]] = None,
    domain_path: Path = DOMAIN_PATH,
) -> str:
    """Rasa markup of `text` with its entity spans: `[玻璃杯](product)`, `[退钱](resolution:refund)`.

    `spans` are `{"start", "end", "entity", "value"?}` character offsets into `text`;
    `entities` defaults to domain.yml's. Nothing is escaped: anything Rasa would not
    read back as exactly this text and these spans is refused (InvalidExample).
    """
    known = tuple(entities) if entities is not None else read_domain(domain_path).entities
    return _annotated(text, spans, known)[0]


def _annotated(text: str, spans: Iterable[SpanLike], entities: Sequence[str]) -> Tuple[str, Tuple[Span, ...]]:
    """The markup and the checked spans; refuses what Rasa would not read back identically."""
    _check_text(text)
    checked = check_spans(text, spans, entities)
    markup = _render(text, checked)
    read_text, read_spans = parse_markup(markup)
    if (read_text, read_spans) != (text, checked):
        raise _unreadable(markup, f"Rasa reads it back as {read_text!r} with {read_spans!r}", read_text)
    return markup, checked


def _trim(text: Any, spans: Sequence[Span]) -> Tuple[Any, List[Span]]:
    """Removes outer whitespace from the text and moves the spans with it."""
    if not isinstance(text, str):
        return text, list(spans)
    shift = len(text) - len(text.lstrip())
    return text.strip(), [replace(s, start=s.start - shift, end=s.end - shift) for s in spans]


# --------------------------------------------------------------------------- comparing with the data


def _near_duplicate(text_a: str, text_b: str) -> bool:
    from scripts.data_hygiene import is_near_duplicate

    return text_a == text_b or is_near_duplicate(text_a, text_b)


def compare_with_existing(
    text: str,
    label: str,
    existing: Iterable[Tuple[str, str]],
    force: bool,
    describe: Mapping[str, str],
) -> List[Notice]:
    """Refuses a normalised `text` that duplicates an example of `label` or conflicts with another label.

    `existing` holds (normalised text, label) pairs; `describe` names labels for trainers.
    Returns the warning of a forced conflict, if any.
    """
    existing = list(existing)
    same_label = [t for t, lab in existing if lab == label]
    for exact in (t for t in same_label if t == text):
        raise DuplicateExample("exact_duplicate", exact, label, describe.get(label, label))
    for near in (t for t in same_label if _near_duplicate(t, text)):
        raise DuplicateExample("near_duplicate", near, label, describe.get(label, label))
    clashes = [(t, lab) for t, lab in existing if lab != label and _near_duplicate(t, text)]
    if not clashes:
        return []
    others = sorted({lab for _, lab in clashes})
    others_zh = "、".join(describe.get(lab, lab) for lab in others)
    conflict = ConflictingExample(clashes[0][0], others, others_zh)
    if not force:
        raise conflict
    return [
        Notice(
            "forced_conflict",
            f"written although it conflicts with {clashes[0][0]!r} labelled {', '.join(others)}",
            f"已强制写入，但它和标注为{others_zh}的「{clashes[0][0]}」冲突，请尽快核对两边的标签。",
        )
    ]


def _check_not_dev_split(text: str, dev_texts: Iterable[str], split_file: str) -> None:
    for dev_text in dev_texts:
        if _near_duplicate(normalize(dev_text).text, text):
            raise DevSplitExample(dev_text, split_file)


def _load_nlu_data(nlu_dir: Path) -> Any:
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    if not nlu_dir.is_dir() or not any(nlu_dir.rglob("*.yml")):
        return TrainingData()
    with _unreadable_data(nlu_dir), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_data(str(nlu_dir))


def _intent_labels(domain: DomainLabels) -> Dict[str, str]:
    return {intent: f"意图「{intent}」" for intent in domain.intents}


def _misaligned_notices(text: str, intent: str, spans: Sequence[Span]) -> List[Notice]:
    """Spans that jieba (with the store dictionary) cuts apart: DIET cannot learn them."""
    from scripts.data_hygiene import Example, misaligned_entities

    normalized = normalize(text)
    mapped = [(normalized.map_span(s.start, s.end), s.entity) for s in spans]
    entities = tuple((span[0], span[1], entity) for span, entity in mapped if span)
    problems = misaligned_entities([Example(normalized.text, intent, entities)])
    return [
        Notice(
            "entity_off_token_boundary",
            f"the entity {covered!r} does not fall on jieba token boundaries; run `python -m scripts.data_hygiene --fix`",
            f"实体「{covered}」没有落在分词边界上，模型学不会它：请运行 `python -m scripts.data_hygiene --fix`（把它加进分词词典）再训练。",
        )
        for covered, _ in problems
    ]


def _unmapped_resolution_notices(text: str, spans: Sequence[Span], data: Any, domain: DomainLabels) -> List[Notice]:
    """`resolution` surface forms that neither are a canonical value nor have a synonym for one."""
    if not domain.resolution_values:
        return []
    synonyms = {k.lower(): v for k, v in data.entity_synonyms.items()}
    notices = []
    for span in spans:
        value = span.value if span.value is not None else text[span.start : span.end]
        if span.entity != "resolution" or synonyms.get(value.lower(), value) in domain.resolution_values:
            continue
        notices.append(
            Notice(
                "unmapped_resolution",
                f"{value!r} maps to none of {', '.join(domain.resolution_values)}: add it to data/nlu/synonyms.yml",
                f"「{value}」还不是 resolution 的已知说法（{'、'.join(domain.resolution_values)}）："
                f"请把它加到 data/nlu/synonyms.yml 对应的值下面，或标注时写明值（例如 {span.start}:{span.end}:resolution:refund）。",
            )
        )
    return notices


# --------------------------------------------------------------------------- editing files as text

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_TOP_LEVEL_KEY = re.compile(r"^[^\s#-]")
_DASH_ITEM = re.compile(r"^(?P<indent> *)-(?P<gap> +)\S")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z_][\w-]*):(?:[ ]+(?P<value>.*?))?[ ]*$")
_PLAIN_NAME = re.compile(r"^(?P<quote>[\"']?)(?P<name>[^\"'#\s]+)(?P=quote)[ ]*(?:#.*)?$")
_LITERAL_HEADER = re.compile(r"^\|[-+]?[ ]*(?:#.*)?$")
_COMMENT_ONLY = re.compile(r"^(?:#.*)?$")


def _split_lines(content: str) -> List[str]:
    return _LINE.findall(content)


def _body(line: str) -> str:
    return line.rstrip("\r\n")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_blank(line: str) -> bool:
    return not line.strip()


def _is_comment(line: str) -> bool:
    return line.lstrip(" ").startswith("#")


def _newline_of(lines: Sequence[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def _insert_line(lines: List[str], index: int, new_line: str, newline: str) -> str:
    """The content with `new_line` inserted before lines[index]; only a missing final newline is added."""
    lines = list(lines)
    if index > 0 and not lines[index - 1].endswith("\n"):
        lines[index - 1] += newline
    lines.insert(index, new_line + newline)
    return "".join(lines)


def _section_end(lines: Sequence[str], key_index: int) -> int:
    """Index of the next top-level key after the key at `key_index` (or len(lines))."""
    for index in range(key_index + 1, len(lines)):
        if _TOP_LEVEL_KEY.match(lines[index]):
            return index
    return len(lines)


def _last_content_line(lines: Sequence[str], start: int, end: int) -> Optional[int]:
    """Last line in [start, end) that is neither blank nor a top-level comment."""
    last = None
    for index in range(start, end):
        line = lines[index]
        if not _is_blank(line) and not (_is_comment(line) and _indent(line) == 0):
            last = index
    return last


@contextmanager
def _unreadable_data(path: Path) -> Iterator[None]:
    """Turns a reader error of the data already there into a refusal naming it."""
    try:
        yield
    except ExampleRefused:
        raise
    except Exception as error:  # Rasa's and YAML's errors have many types
        raise WriteFailed(
            "unreadable_file",
            f"{path}: the existing data cannot be read: {error}",
            f"现有的训练数据读不出来（{path.name}：YAML 或格式错误），请先修好它：{error}",
        ) from error


def _existing_directory(data_dir: Union[str, Path]) -> Path:
    path = Path(data_dir)
    if not path.is_dir():
        raise WriteFailed("no_data_dir", f"{path}: no such data directory", f"找不到数据目录 {path}。")
    return path


def _unsupported(path: Path, reason: str) -> WriteFailed:
    return WriteFailed(
        "unsupported_layout",
        f"{path}: {reason}; edit it by hand",
        f"{path.name} 的写法不是工具能安全修改的格式（{reason}），文件未改动；请手工添加。",
    )


@dataclass(frozen=True)
class _Item:
    """One `- intent: …` item of the `nlu:` list, as line indexes."""

    start: int
    end: int
    key_column: int


def _nlu_items(lines: Sequence[str], path: Path) -> Tuple[List[_Item], int, str]:
    """The items of the top-level `nlu:` list, the index to append a new item at, and the items' indent."""
    nlu_index = next((i for i, line in enumerate(lines) if re.match(r"^nlu:[ ]*(?:#.*)?$", _body(line))), None)
    if nlu_index is None:
        raise _unsupported(path, "no top-level 'nlu:' list")
    end = _section_end(lines, nlu_index)
    dashes = [(i, _DASH_ITEM.match(lines[i])) for i in range(nlu_index + 1, end)]
    dashes = [(i, m) for i, m in dashes if m]
    if not dashes:
        return [], nlu_index + 1, ""
    indent = len(dashes[0][1].group("indent"))
    starts = [(i, m) for i, m in dashes if len(m.group("indent")) == indent]
    items = [
        _Item(i, starts[n + 1][0] if n + 1 < len(starts) else end, indent + 1 + len(m.group("gap")))
        for n, (i, m) in enumerate(starts)
    ]
    last = _last_content_line(lines, nlu_index + 1, end)
    return items, (last + 1 if last is not None else nlu_index + 1), " " * indent


def _item_keys(lines: Sequence[str], item: _Item) -> Dict[str, Tuple[int, str]]:
    """The keys of one list item: key -> (line index, value text)."""
    keys = {}
    for index in range(item.start, item.end):
        body = _body(lines[index])
        if len(body) <= item.key_column or (index != item.start and _indent(body) != item.key_column):
            continue
        match = _KEY_VALUE.match(body[item.key_column :])
        if match:
            keys[match.group("key")] = (index, match.group("value") or "")
    return keys


def _block_insert_index(lines: Sequence[str], header: int, end: int, key_column: int) -> Tuple[int, str]:
    """Where a new line of the literal block starting after `header` goes, and its indentation."""
    content_indent, last = None, header
    for index in range(header + 1, end):
        line = lines[index]
        if _is_blank(line):
            continue
        if content_indent is None and _indent(line) > key_column:
            content_indent = _indent(line)
        if content_indent is None or _indent(line) < content_indent:
            break
        last = index
    return last + 1, " " * (content_indent if content_indent is not None else key_column + 2)


def _intent_block(lines: Sequence[str], intent: str, path: Path) -> Optional[Tuple[int, str]]:
    """(index to insert at, line prefix) in the last `examples: |` block of `intent`, if the file has one."""
    items, _, _ = _nlu_items(lines, path)
    found = None
    for item in items:
        keys = _item_keys(lines, item)
        name = _PLAIN_NAME.match(keys.get("intent", (0, ""))[1])
        if not name or name.group("name") != intent:
            continue
        header, value = keys.get("examples", (None, ""))
        if header is None or not _LITERAL_HEADER.match(value):
            raise _unsupported(path, f"the examples of '{intent}' are not an 'examples: |' block")
        index, indent = _block_insert_index(lines, header, item.end, item.key_column)
        found = (index, indent + "- ")
    return found


def _insert_nlu_line(content: str, intent: str, markup: str, path: Path) -> Tuple[str, int, str]:
    """The file content with the example added to the intent's block (or a new block); the new line's index and text."""
    lines = _split_lines(content)
    newline = _newline_of(lines)
    block = _intent_block(lines, intent, path)
    if block is not None:
        index, prefix = block
        return _insert_line(lines, index, prefix + markup, newline), index, prefix + markup
    _, index, indent = _nlu_items(lines, path)
    new_item = f"{indent}- intent: {intent}{newline}{indent}  examples: |{newline}{indent}    - {markup}"
    return _insert_line(lines, index, new_item, newline), index + 2, f"{indent}    - {markup}"


def _last_line_of(content: str) -> Tuple[int, str]:
    """(index, text) of the last line of a file just made."""
    lines = content.splitlines()
    return len(lines) - 1, lines[-1]


def new_intent_file(intent: str, markup: str) -> str:
    """A data/nlu/<intent>.yml file in the project's standard shape with one example."""
    return f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - {markup}\n'


def yaml_scalar(text: str) -> str:
    """`text` as a YAML list item value: plain when YAML reads it back as this string, double-quoted otherwise."""
    try:
        if yaml.safe_load(f"- {text}\n") == [text]:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def _label_section(lines: Sequence[str], label: str, path: Path) -> Optional[Tuple[int, int]]:
    """(key line, section end) of the top-level `angry:`/`calm:` key, if present."""
    found = None
    for index, line in enumerate(lines):
        match = re.match(rf"^{label}:(?P<rest>.*)$", _body(line))
        if match is None:
            continue
        if not _COMMENT_ONLY.match(match.group("rest").strip()):
            raise _unsupported(path, f"'{label}:' is not followed by a block list")
        found = (index, _section_end(lines, index))
    return found


def _insert_anger_line(content: str, label: str, scalar: str, path: Path) -> Tuple[str, int, str]:
    """The file content with `scalar` appended to the `label` list (created at the end if missing)."""
    lines = _split_lines(content)
    newline = _newline_of(lines)
    section = _label_section(lines, label, path)
    if section is None:
        index = len(lines)
        return _insert_line(lines, index, f"{label}:{newline}  - {scalar}", newline), index + 1, f"  - {scalar}"
    key_index, end = section
    items = [lines[i] for i in range(key_index + 1, end) if _DASH_ITEM.match(lines[i])]
    prefix = " " * (_indent(items[0]) if items else 2) + "- "
    last = max(
        (i for i in range(key_index + 1, end) if not _is_blank(lines[i]) and not _is_comment(lines[i])),
        default=key_index,
    )
    return _insert_line(lines, last + 1, prefix + scalar, newline), last + 1, prefix + scalar


def new_anger_file(label: str, scalar: str) -> str:
    return f"# Anger examples labelled by trainers (python -m trainer.cli add-anger).\n{label}:\n  - {scalar}\n"


# --------------------------------------------------------------------------- safe writes


@contextmanager
def _exclusive_lock(directory: Path) -> Iterator[None]:
    """Serialises check-and-write between processes (trainer page, CLI) on one data directory."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    """Writes through a temporary file in the same directory and os.replace: never half a file."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _restore(path: Path, original: Optional[bytes]) -> None:
    if original is None:
        path.unlink(missing_ok=True)
    else:
        _atomic_write(path, original)


def _write_verified(
    path: Path, original: Optional[bytes], content: str, verify: Any, expected: Counter
) -> None:
    """Writes `content`, reads the file back with `verify(path, expected)`, restores `original` if it fails."""
    _atomic_write(path, content.encode("utf-8"))
    if not verify(path, expected):
        _restore(path, original)
        raise WriteFailed(
            "verification_failed",
            f"{path}: the file did not read back as the old examples plus the new one; it was restored",
            f"写入 {path.name} 后读回校验失败，文件已恢复原样，没有改动。请把这句话和标注发给开发者。",
        )


# --------------------------------------------------------------------------- NLU examples


def _read_nlu_file(path: Path) -> Counter:
    """The intent examples of one file as Rasa's reader sees them: (text, intent, spans) -> count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = _rasa_reader().read(str(path))
    return Counter(
        (m.get("text"), m.get("intent"), _spans_of_message(m)) for m in data.training_examples if m.get("intent")
    )


def _verify_nlu_file(path: Path, expected: Counter) -> bool:
    try:
        return _read_nlu_file(path) == expected
    except Exception:  # any reader error means the file is not what we meant to write
        return False


def _nlu_file_before(path: Path) -> Tuple[Optional[bytes], Counter]:
    if not path.exists():
        return None, Counter()
    with _unreadable_data(path):
        return path.read_bytes(), _read_nlu_file(path)


def _write_nlu_example(path: Path, intent: str, markup: str, key: _NluKey) -> WrittenExample:
    original, before = _nlu_file_before(path)
    if original is None:
        content = new_intent_file(intent, markup)
        index, line_text = _last_line_of(content)
    else:
        content, index, line_text = _insert_nlu_line(original.decode("utf-8"), intent, markup, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_verified(path, original, content, _verify_nlu_file, before + Counter([key]))
    return WrittenExample(path, index + 1, line_text, created_file=original is None)


def add_nlu_example(
    intent: str,
    text: str,
    spans: Iterable[SpanLike] = (),
    data_dir: Union[str, Path] = DATA_DIR,
    force: bool = False,
    *,
    domain_path: Path = DOMAIN_PATH,
) -> WrittenExample:
    """Writes one labelled example at the end of `intent`'s block in data/nlu/<intent>.yml.

    Outer whitespace of `text` is dropped (spans move with it). Raises ExampleRefused
    subclasses: UnknownIntent, InvalidExample, DuplicateExample, ConflictingExample
    (unless `force`), DevSplitExample, WriteFailed.
    """
    from scripts.data_hygiene import examples_of

    domain = read_domain(domain_path)
    intent = check_intent(intent, domain)
    text, trimmed = _trim(text, [_to_span(s) for s in spans])
    markup, checked = _annotated(text, trimmed, domain.entities)
    data_dir = _existing_directory(data_dir)
    with _exclusive_lock(data_dir):
        data = _load_nlu_data(data_dir / "nlu")
        normalized = normalize(text).text
        existing = [(e.text, e.intent) for e in examples_of(data)]
        notices = compare_with_existing(normalized, intent, existing, force, _intent_labels(domain))
        dev_split = data_dir / DEV_SPLIT_NLU
        if dev_split.exists():
            dev_texts = [m.get("text") for m in _load_nlu_data_file(dev_split).intent_examples]
            _check_not_dev_split(normalized, dev_texts, str(data_dir.name / DEV_SPLIT_NLU))
        notices += _misaligned_notices(text, intent, checked) if checked else []
        notices += _unmapped_resolution_notices(text, checked, data, domain)
        written = _write_nlu_example(data_dir / "nlu" / f"{intent}.yml", intent, markup, (text, intent, checked))
    return replace(written, warnings=tuple(notices))


def _load_nlu_data_file(path: Path) -> Any:
    from rasa.shared.nlu.training_data.loading import load_data

    with _unreadable_data(path), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_data(str(path))


# --------------------------------------------------------------------------- anger examples


def _anger_files(anger_dir: Path) -> List[Path]:
    """The files bot.anger_data.load_examples reads from a directory."""
    if not anger_dir.is_dir():
        return []
    return sorted(p for p in anger_dir.rglob("*") if p.suffix in (".yml", ".yaml"))


def _read_anger_file(path: Path) -> Counter:
    # The loader's own per-file reader: its rules, without the data-set-wide check that both labels exist.
    return Counter((e.text, e.angry) for e in anger_data._read_file(path))


def _verify_anger_file(path: Path, expected: Counter) -> bool:
    try:
        return _read_anger_file(path) == expected
    except Exception:  # AngerDataError or a YAML error: not what we meant to write
        return False


def _anger_file_before(path: Path) -> Tuple[Optional[bytes], Counter]:
    if not path.exists():
        return None, Counter()
    with _unreadable_data(path):
        return path.read_bytes(), _read_anger_file(path)


def _label(angry: bool) -> str:
    return "angry" if angry else "calm"


def _existing_anger_examples(anger_dir: Path) -> List[Tuple[str, str]]:
    with _unreadable_data(anger_dir):
        examples = [e for path in _anger_files(anger_dir) for e in anger_data._read_file(path)]
    return [(normalize(e.text).text, _label(e.angry)) for e in examples]


def _write_anger_example(path: Path, label: str, text: str) -> WrittenExample:
    original, before = _anger_file_before(path)
    scalar = yaml_scalar(text)
    if original is None:
        content = new_anger_file(label, scalar)
        index, line_text = _last_line_of(content)
    else:
        content, index, line_text = _insert_anger_line(original.decode("utf-8"), label, scalar, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_verified(path, original, content, _verify_anger_file, before + Counter([(text, label == "angry")]))
    return WrittenExample(path, index + 1, line_text, created_file=original is None)


def _is_yaml_file_name(file_name: Any) -> bool:
    return isinstance(file_name, str) and Path(file_name).name == file_name and Path(file_name).suffix in (".yml", ".yaml")


def add_anger_example(
    text: str,
    angry: bool,
    data_dir: Union[str, Path] = DATA_DIR,
    file_name: str = ANGER_FILE_NAME,
    force: bool = False,
) -> WrittenExample:
    """Appends `text` to the `angry:` or `calm:` list of data/anger/<file_name>.

    The same duplicate and conflict rules as `add_nlu_example`, over all of data/anger/,
    with the labels angry and calm. Raises ExampleRefused subclasses.
    """
    text = text.strip() if isinstance(text, str) else text
    _check_text(text)
    if not _is_yaml_file_name(file_name):
        raise InvalidExample(
            "bad_file_name",
            f"file_name must be a plain *.yml file name, not {file_name!r}",
            f"文件名「{file_name}」不对：只能是 data/anger/ 下的 *.yml 文件名。",
        )
    label = _label(bool(angry))
    data_dir = _existing_directory(data_dir)
    with _exclusive_lock(data_dir):
        normalized = normalize(text).text
        existing = _existing_anger_examples(data_dir / "anger")
        notices = compare_with_existing(normalized, label, existing, force, ANGER_LABELS_ZH)
        dev_split = data_dir / DEV_SPLIT_ANGER
        if dev_split.exists():
            with _unreadable_data(dev_split):
                dev_texts = [e.text for e in anger_data._read_file(dev_split)]
            _check_not_dev_split(normalized, dev_texts, str(data_dir.name / DEV_SPLIT_ANGER))
        written = _write_anger_example(data_dir / "anger" / file_name, label, text)
    return replace(written, warnings=tuple(notices))
