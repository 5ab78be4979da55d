"""Command line for trainers: write one labelled shopper message into the training data.

    python -m trainer.cli add-example --intent report_broken --text "杯子碎了" [--entity 0:2:product] [--force]
    python -m trainer.cli add-anger --text "退款呢！！！" --angry|--calm [--force]

`--entity START:END:ENTITY[:VALUE]` marks the characters [START, END) of the text
(0-based, END excluded); repeat it or separate several with commas. Exit status: 0
written (where, and any warnings, on stdout), 1 refused (the reason in Chinese on
stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from trainer.examples import (
    ANGER_FILE_NAME,
    DATA_DIR,
    ExampleRefused,
    InvalidExample,
    Span,
    WrittenExample,
    add_anger_example,
    add_nlu_example,
)


def parse_entities(options: Sequence[str]) -> List[Span]:
    """Spans from `START:END:ENTITY[:VALUE]` options, each possibly a comma-separated list."""
    spans = []
    for option in options:
        for item in filter(None, (part.strip() for part in option.split(","))):
            fields = item.split(":", 3)
            if len(fields) < 3 or not all(f.strip().lstrip("-").isdigit() for f in fields[:2]):
                raise InvalidExample(
                    "bad_entity_option",
                    f"bad --entity {item!r}: expected START:END:ENTITY[:VALUE], e.g. 0:2:product",
                    f"--entity「{item}」的格式不对：应为 起点:终点:实体[:值]，例如 0:2:product（终点不含）。",
                )
            start, end, entity = int(fields[0]), int(fields[1]), fields[2].strip()
            spans.append(Span(start, end, entity, fields[3].strip() if len(fields) == 4 else None))
    return spans


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="training data directory (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)

    example = commands.add_parser("add-example", help="add a labelled NLU example to data/nlu/<intent>.yml")
    example.add_argument("--intent", required=True, help="one of domain.yml's intents")
    example.add_argument("--text", required=True, help="the shopper's message, one line")
    example.add_argument(
        "--entity",
        action="append",
        default=[],
        metavar="START:END:ENTITY[:VALUE]",
        help="an entity span (character offsets, END excluded); repeat or separate with commas",
    )
    example.add_argument("--force", action="store_true", help="write even if another intent has the same text")

    anger = commands.add_parser("add-anger", help="add a labelled anger example to data/anger/")
    anger.add_argument("--text", required=True, help="the shopper's message, one line")
    label = anger.add_mutually_exclusive_group(required=True)
    label.add_argument("--angry", dest="angry", action="store_true", help="the shopper is angry")
    label.add_argument("--calm", dest="angry", action="store_false", help="the shopper is not angry")
    anger.add_argument("--file", default=ANGER_FILE_NAME, help="file under data/anger/ (default: %(default)s)")
    anger.add_argument("--force", action="store_true", help="write even if the same text has the other label")
    return parser


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _report(written: WrittenExample) -> str:
    created = "（新建文件）" if written.created_file else ""
    lines = [f"已写入 {_shown_path(written.path)} 第 {written.line} 行{created}：{written.line_text.strip()}"]
    lines += [f"提醒：{notice.message_zh}" for notice in written.warnings]
    return "\n".join(lines) + "\n"


def _run(args: argparse.Namespace) -> WrittenExample:
    if args.command == "add-example":
        spans = parse_entities(args.entity)
        return add_nlu_example(args.intent, args.text, spans, data_dir=args.data_dir, force=args.force)
    return add_anger_example(args.text, args.angry, data_dir=args.data_dir, file_name=args.file, force=args.force)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        written = _run(args)
    except ExampleRefused as refused:
        sys.stderr.write(f"未写入：{refused.message_zh}\n（{refused.code}: {refused}）\n")
        return 1
    sys.stdout.write(_report(written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
