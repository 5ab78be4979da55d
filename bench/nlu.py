"""NLU benchmark (not a test): our pipeline against Rasa's stock pipeline, side by side.

For each pipeline: full training time and peak RSS from a fresh cache, model load
time, parse latency p50/p95/p99 and messages per second over >= 1,000 messages,
peak RSS while parsing, and intent accuracy / macro-F1 on the dev split. Writes
bench/results/nlu.json and prints the table with our/stock ratios.

    python -m bench.nlu [--stock-epochs 15] [--messages 1200]

The stock pipeline is JiebaTokenizer, one CountVectorsFeaturizer and DIETClassifier
with its defaults, except `epochs`: DIET's default 300 epochs with its transformer
and CRF run at about 40 s an epoch on this 2-core machine (3+ hours), so the stock
run is capped (`--stock-epochs`) and the cap is recorded in the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import yaml

from bot.anger_data import load_examples as load_anger_examples
from scripts import rasa_cli
from scripts.nlu_metrics import intent_metrics, load_dev_split, load_labelled
from scripts.settings import PROJECT_ROOT

RESULTS = PROJECT_ROOT / "bench" / "results" / "nlu.json"
WARM_UP = 20


def stock_config(epochs: int) -> Dict:
    return {
        "recipe": "default.v1",
        "language": "zh",
        "pipeline": [
            {"name": "JiebaTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "DIETClassifier", "epochs": epochs, "random_seed": 42},
        ],
        "policies": [],
    }


def benchmark_messages(count: int) -> List[str]:
    """Distinct real-looking messages: the dev split, the anger dev set, then training texts."""
    dev = [m.text for m in load_labelled(PROJECT_ROOT / rasa_cli.DEV_SPLIT, {})]
    anger = [e.text for e in load_anger_examples(PROJECT_ROOT / rasa_cli.DEV_SPLIT_ANGER)]
    training = [m.text for m in load_labelled(PROJECT_ROOT / rasa_cli.NLU_DATA, {})]
    messages = list(dict.fromkeys(dev + anger + training))
    return messages[:count]


def train(config_path: Path, out: Path, name: str, cache: Path) -> Dict:
    """Trains in a child process with an empty Rasa cache; returns seconds and peak RSS."""
    command = rasa_cli.train_command(str(config_path), out, name, nlu_only=True)
    env = rasa_cli.environment({"RASA_CACHE_DIRECTORY": str(cache)})
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"training {name} failed:\n{child.stderr.read().decode()[-3000:]}")
    return {"train_seconds": seconds, "train_peak_rss_mb": usage.ru_maxrss / 1024}


def measure_parsing(model: Path, messages: List[str]) -> Dict:
    """Runs in its own process (see --measure) so that peak RSS is the model's own."""
    import resource

    from scripts.model_parser import ModelParser

    parser = ModelParser(model)
    for text in messages[:WARM_UP]:
        parser.parse(text)
    latencies = []
    started = time.perf_counter()
    for text in messages:
        began = time.perf_counter()
        parser.parse(text)
        latencies.append((time.perf_counter() - began) * 1000)
    elapsed = time.perf_counter() - started
    dev = load_dev_split(PROJECT_ROOT)
    predicted = [parser.parse(m.text)["intent"]["name"] for m in dev]
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "load_seconds": parser.load_seconds,
        "messages": len(messages),
        "p50_ms": quantiles[49],
        "p95_ms": quantiles[94],
        "p99_ms": quantiles[98],
        "messages_per_second": len(messages) / elapsed,
        "parse_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **intent_metrics([m.intent for m in dev], predicted),
    }


def measure_in_child(model: Path, count: int) -> Dict:
    command = [sys.executable, "-m", "bench.nlu", "--measure", str(model), "--messages", str(count)]
    output = subprocess.run(command, cwd=PROJECT_ROOT, env=rasa_cli.environment(), capture_output=True, text=True)
    if output.returncode != 0:
        raise SystemExit(f"measuring {model.name} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


ROWS = [
    ("intent_accuracy", "dev intent accuracy", "{:.3f}"),
    ("intent_macro_f1", "dev intent macro-F1", "{:.3f}"),
    ("p50_ms", "parse p50 (ms)", "{:.1f}"),
    ("p95_ms", "parse p95 (ms)", "{:.1f}"),
    ("p99_ms", "parse p99 (ms)", "{:.1f}"),
    ("messages_per_second", "messages / s", "{:.0f}"),
    ("load_seconds", "model load (s)", "{:.1f}"),
    ("train_seconds", "training (s)", "{:.0f}"),
    ("train_peak_rss_mb", "training peak RSS (MB)", "{:.0f}"),
    ("parse_peak_rss_mb", "parsing peak RSS (MB)", "{:.0f}"),
]


def table(ours: Dict, stock: Dict) -> str:
    lines = [f"{'':<24}{'ours':>10}{'stock':>10}{'ours/stock':>12}"]
    for key, label, fmt in ROWS:
        ratio = ours[key] / stock[key] if stock[key] else float("nan")
        lines.append(f"{label:<24}{fmt.format(ours[key]):>10}{fmt.format(stock[key]):>10}{ratio:>12.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stock-epochs", type=int, default=15)
    parser.add_argument("--messages", type=int, default=1200)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure_parsing(args.measure, benchmark_messages(args.messages))))
        return 0
    if len(benchmark_messages(args.messages)) < 1000:
        raise SystemExit("fewer than 1,000 distinct messages available for the benchmark")
    results: Dict[str, Dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours_config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
        ours_config["policies"] = []
        configs = {"ours": ours_config, "stock": stock_config(args.stock_epochs)}
        for name, config in configs.items():
            path = work / f"{name}.yml"
            path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
            print(f"training {name}…", flush=True)
            results[name] = train(path, work, name, work / f"cache-{name}")
            print(f"measuring {name}…", flush=True)
            results[name].update(measure_in_child(work / f"{name}.tar.gz", args.messages))
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "stock_epochs": args.stock_epochs,
        "results": results,
        "ratios": {key: results["ours"][key] / results["stock"][key] for key, _, _ in ROWS if results["stock"][key]},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(table(results["ours"], results["stock"]))
    print(f"\nstock DIET epochs capped at {args.stock_epochs} (default 300); results in {RESULTS.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
