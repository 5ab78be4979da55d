"""Checks of the NLU training data that `rasa data validate` does not make.

- every intent of the domain has examples, and each example sits under one intent;
- no near-duplicates (the same text once punctuation, spaces and emoji are gone, or
  two long examples that share almost all their character bigrams);
- every entity annotation starts and ends on a jieba token boundary (with the store
  dictionary), otherwise DIET cannot learn it; `--fix` adds the annotated spans that
  jieba cuts apart to bot/dictionary/annotated.txt.

    python -m scripts.data_hygiene          # report problems, exit 1 if any
    python -m scripts.data_hygiene --fix    # grow the dictionary until entities align
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Set, Tuple

from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text_normalization import normalize
from scripts.settings import PROJECT_ROOT

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
DICTIONARY_DIR = PROJECT_ROOT / "bot" / "dictionary"
ANNOTATED_WORDS = DICTIONARY_DIR / "annotated.txt"
DEV_SPLIT = PROJECT_ROOT / "data" / "eval" / "nlu.yml"
NEAR_DUPLICATE_SIMILARITY = 0.9
LONG_EXAMPLE_CHARS = 12  # skeletons this long are also compared by their character bigrams
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: Tuple[Tuple[int, int, str], ...]


def load_examples(path: Path = NLU_DIR) -> List[Example]:
    return examples_of(load_data(str(path)))


def examples_of(data: TrainingData) -> List[Example]:
    """The intent examples of Rasa training data, normalised, entities moved onto the normalised text."""
    examples = []
    for message in data.intent_examples:
        normalized = normalize(message.get("text"))
        entities = []
        for e in message.get("entities") or []:
            span = normalized.map_span(e["start"], e["end"])
            if span:
                entities.append((span[0], span[1], e["entity"]))
        examples.append(Example(normalized.text, message.get("intent"), tuple(entities)))
    return examples


def skeleton(text: str) -> str:
    """The text without punctuation, spaces, emoji and case."""
    return _NOT_WORD.sub("", text).lower()


def conflicting_intents(examples: List[Example]) -> Dict[str, Set[str]]:
    intents: Dict[str, Set[str]] = defaultdict(set)
    for example in examples:
        intents[skeleton(example.text) or example.text].add(example.intent)
    return {text: labels for text, labels in intents.items() if len(labels) > 1}


def _bigrams(text: str) -> Set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _similar_bigrams(grams_a: Set[str], grams_b: Set[str]) -> bool:
    if abs(len(grams_a) - len(grams_b)) > 0.2 * len(grams_a):
        return False
    return len(grams_a & grams_b) / len(grams_a | grams_b) >= NEAR_DUPLICATE_SIMILARITY


def is_near_duplicate(text_a: str, text_b: str) -> bool:
    """Whether two (normalised) texts are near-duplicates in the sense of `near_duplicates`:
    the same skeleton, or both long with nearly the same character bigrams."""
    key_a, key_b = skeleton(text_a), skeleton(text_b)
    if key_a and key_a == key_b:
        return True
    if len(key_a) < LONG_EXAMPLE_CHARS or len(key_b) < LONG_EXAMPLE_CHARS:
        return False
    return _similar_bigrams(_bigrams(key_a), _bigrams(key_b))


def near_duplicates(examples: List[Example]) -> List[Tuple[str, str]]:
    """Pairs with the same skeleton, or long examples with nearly the same bigrams."""
    pairs = []
    seen: Dict[str, str] = {}
    long_ones: List[Tuple[str, Set[str]]] = []
    for example in examples:
        key = skeleton(example.text)
        if key and key in seen and seen[key] != example.text:
            pairs.append((seen[key], example.text))
        seen.setdefault(key, example.text)
        if len(key) >= LONG_EXAMPLE_CHARS:
            long_ones.append((example.text, _bigrams(key)))
    for i, (text_a, grams_a) in enumerate(long_ones):
        for text_b, grams_b in long_ones[i + 1 :]:
            if _similar_bigrams(grams_a, grams_b):
                pairs.append((text_a, text_b))
    return pairs


def dev_split_leaks(training: List[Example], dev: List[Example]) -> List[str]:
    """Dev-split examples whose skeleton also appears in the training data."""
    trained = {skeleton(e.text) for e in training}
    return [e.text for e in dev if skeleton(e.text) in trained]


def comments_inside_examples(directory: Path = NLU_DIR) -> List[str]:
    """`# …` lines inside an `examples: |` block: YAML keeps them as text, Rasa skips them with a warning."""
    found = []
    for path in sorted(directory.glob("*.yml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.startswith("    #"):
                found.append(f"{path.name}:{number}: {line.strip()}")
    return found


def token_boundaries(text: str) -> Tuple[Set[int], Set[int]]:
    import jieba

    starts, ends = set(), set()
    for word, start, end in jieba.tokenize(text):
        if word.strip():
            starts.add(start)
            ends.add(end)
    return starts, ends


def load_dictionary() -> None:
    import jieba

    jieba.setLogLevel(60)
    for file in sorted(DICTIONARY_DIR.glob("*")):
        jieba.load_userdict(str(file))


def misaligned_entities(examples: List[Example]) -> List[Tuple[str, str]]:
    """(span text, example text) of annotations that do not fall on token boundaries."""
    load_dictionary()
    problems = []
    for example in examples:
        starts, ends = token_boundaries(example.text)
        for start, end, _ in example.entities:
            if start not in starts or end not in ends:
                problems.append((example.text[start:end], example.text))
    return problems


def fix_alignment(examples: List[Example], rounds: int = 4) -> int:
    """Adds misaligned spans to the dictionary, with more weight each round."""
    added = 0
    for round_number in range(rounds):
        problems = misaligned_entities(examples)
        if not problems:
            break
        existing = ANNOTATED_WORDS.read_text(encoding="utf-8").splitlines() if ANNOTATED_WORDS.exists() else []
        words = {line.split()[0]: line for line in existing if line.strip()}
        frequency = 200 * 10**round_number
        for span, _ in problems:
            words[span] = f"{span} {frequency}"
            added += 1
        # jieba reads every line as a word: this file can hold no comment line.
        ANNOTATED_WORDS.write_text("\n".join(sorted(words.values())) + "\n", encoding="utf-8")
    return added


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fix", action="store_true", help="add misaligned entity spans to the dictionary")
    parser.add_argument("--nlu-dir", type=Path, default=NLU_DIR, help="the NLU training data to check (default data/nlu)")
    args = parser.parse_args()
    examples = load_examples(args.nlu_dir)
    if args.fix:
        print(f"dictionary entries written: {fix_alignment(examples)}")
    report = {
        "examples under two intents": conflicting_intents(examples),
        "near-duplicates": near_duplicates(examples),
        "entities off token boundaries": misaligned_entities(examples),
        "dev-split examples also trained on": dev_split_leaks(examples, load_examples(DEV_SPLIT)),
        "comments inside examples blocks": comments_inside_examples(args.nlu_dir),
    }
    for title, problems in report.items():
        print(f"{title}: {len(problems)}")
        for problem in list(problems.items() if isinstance(problems, dict) else problems)[:20]:
            print(f"  {problem}")
    return 1 if any(report.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
