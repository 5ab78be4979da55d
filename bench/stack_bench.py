"""What the benchmarks that start the whole assistant share: their inputs, percentiles, results."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from bot.fingerprint import model_path
from scripts.settings import PROJECT_ROOT


def redis_and_model(make_target: str) -> Tuple[str, Path]:
    """REDIS_URL and the trained model, or a clear exit saying what to run."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        sys.exit(f"error: REDIS_URL is not set; run `make {make_target}`, which provides a Redis")
    model = model_path()
    if not model.exists():
        sys.exit("error: no trained model; run `make train`")
    return redis_url, model


def percentiles(values: Sequence[float]) -> Dict[str, float]:
    """p50/p95/p99 (a single value stands for all three; none gives zeros)."""
    if len(values) < 2:
        value = values[0] if values else 0.0
        return {"p50": value, "p95": value, "p99": value}
    q = statistics.quantiles(values, n=100)
    return {"p50": q[49], "p95": q[94], "p99": q[98]}


def latency(values: Sequence[Optional[float]]) -> Dict[str, float]:
    """Percentiles of the values measured (None: not measured), with how many there were."""
    measured = [value for value in values if value is not None]
    return {**percentiles(measured), "samples": len(measured)}


def at_least_one(value: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def write_results(path: Path, results: Dict, model: Path, table: str) -> None:
    """Stamp the results with the model, the machine and the time; write them and print the table."""
    results.update({"model": model.name, "cpus": os.cpu_count(), "measured_at": time.strftime("%Y-%m-%d %H:%M")})
    path.write_text(json.dumps(results, indent=2))
    print(table)
    print(f"\nwritten to {path.relative_to(PROJECT_ROOT)}")
