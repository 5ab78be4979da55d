"""Soak benchmark (not a test): the 2-instance cluster at half its measured capacity for 30 minutes.

    make bench-soak      # or: python -m scripts.run --redis-only -- python -m bench.soak [--minutes 30 --rate R]

The load is bench/load.py's (simulated shoppers from bench/scenarios/load.yml, a share of angry
ones handed to simulated agents), at --rate shopper messages per second: by default half the
2-instance capacity in bench/results/load.json (`make bench-load` first). Every --sample seconds
it records each process's resident memory (RSS; nginx with its worker) and Redis's memory and key
count; every minute a census of Redis keys by kind: how many, and how many without an expiry.
At the end: errors, lost/doubled/out-of-order messages (the feeds against the pages), each
process's memory growth over the second half of the run (a leak shows as a steady slope), and
the kinds of keys kept without an expiry that grew with the traffic. Writes
bench/results/soak.json and the memory plot bench/results/soak_rss.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence
from urllib.parse import urlparse, urlunparse

import psutil
import redis

from bench.live_service import cancel_all
from bench.load import RESULTS as LOAD_RESULTS
from bench.load import Setup, check_feeds, hold_at, people_at, totals, window_figures
from bench.load import parse_options as load_options
from bench.load_people import Pace, PhotoBank
from bench.load_scenarios import load_scenarios
from bench.stack_bench import redis_and_model, write_results
from scripts.cluster import running_cluster
from scripts.settings import PROJECT_ROOT
from scripts.stack import Assistant

RESULTS = PROJECT_ROOT / "bench" / "results" / "soak.json"
PLOT = PROJECT_ROOT / "bench" / "results" / "soak_rss.png"
DEFAULT_RATE = 8.0  # msg/s when no load benchmark result is there
SOAK_DATABASE = 9  # its own Redis database, flushed before and after (the load benchmark uses 10)
CENSUS_SECONDS = 60
MB = 1024 * 1024
# Keys that may live without an expiry: accounts, shared queues and counters, and what a person
# still works on (a waiting or claimed ticket, its conversation's ownership and notes).
KEPT_WITHOUT_EXPIRY = {"agent", "agents:all", "agents:online", "tickets:waiting", "tickets:sequence", "tickets:events",
                       "canned_replies", "inbox:open", "inbox:daily", "inbox:misunderstood", "agent_tickets",
                       "ticket", "conversation", "ticket_notes", "retrain:job"}
# Kinds named by their first two parts (shouhou:tickets:waiting); every other key by its first part.
TWO_PART_KINDS = ("tickets", "agents", "inbox", "retrain")


@dataclass
class Sample:
    minute: float
    rss_mb: Dict[str, float]
    redis_memory_mb: float
    redis_keys: int


@dataclass
class Census:
    minute: float
    keys: Dict[str, int] = field(default_factory=dict)  # kind -> keys
    without_expiry: Dict[str, int] = field(default_factory=dict)  # kind -> keys with no TTL


def key_kind(key: str) -> str:
    """shouhou:feed:guest:… -> feed; shouhou:events:<id> -> events (Rasa's tracker); shouhou:tickets:waiting -> tickets:waiting."""
    parts = (key[len("shouhou:"):] if key.startswith("shouhou:") else key).split(":")
    return ":".join(parts[:2]) if parts[0] in TWO_PART_KINDS and len(parts) > 1 else parts[0]


def census(client: redis.Redis, minute: float) -> Census:
    """Every key by kind, with and without an expiry (a SCAN: the benchmark's, never a request's)."""
    result = Census(minute)
    keys, without = Counter(), Counter()
    for key in client.scan_iter(count=1000):
        kind = key_kind(key.decode(errors="replace"))
        keys[kind] += 1
        if client.ttl(key) == -1:
            without[kind] += 1
    result.keys, result.without_expiry = dict(keys), dict(without)
    return result


def rss_mb(pid: int) -> float:
    try:
        process = psutil.Process(pid)
        return round(sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / MB, 1)
    except psutil.NoSuchProcess:
        return 0.0


def sample(assistant: Assistant, client: redis.Redis, started: float) -> Sample:
    info = client.info("memory")
    return Sample(
        minute=round((time.monotonic() - started) / 60, 2),
        rss_mb={name: rss_mb(s.process.pid) for name, s in assistant.services.items() if s.process},
        redis_memory_mb=round(info["used_memory"] / MB, 1),
        redis_keys=client.dbsize(),
    )


async def watch(assistant: Assistant, redis_url: str, every: float, samples: List[Sample], censuses: List[Census]) -> None:
    client = redis.Redis.from_url(redis_url)
    started, last_census = time.monotonic(), -CENSUS_SECONDS
    while True:
        samples.append(await asyncio.to_thread(sample, assistant, client, started))
        if time.monotonic() - started - last_census >= CENSUS_SECONDS:
            last_census = time.monotonic() - started
            censuses.append(await asyncio.to_thread(census, client, samples[-1].minute))
        await asyncio.sleep(every)


def growth(samples: Sequence[Sample]) -> Dict[str, Dict[str, float]]:
    """Per process over the second half of the run: MB at its start and end, and the slope (MB per
    10 minutes, least squares): the first half is the warm-up (caches, pools, models filling)."""
    half = [s for s in samples if s.minute >= samples[-1].minute / 2]
    if len(half) < 3:
        return {}
    result = {}
    for name in half[0].rss_mb:
        minutes = [s.minute for s in half]
        values = [s.rss_mb.get(name, 0.0) for s in half]
        slope = statistics.linear_regression(minutes, values).slope if len(set(minutes)) > 1 else 0.0
        result[name] = {"start_mb": values[0], "end_mb": values[-1], "peak_mb": max(values),
                        "mb_per_10_minutes": round(slope * 10, 2)}
    return result


def growing_without_expiry(censuses: Sequence[Census]) -> Dict[str, Dict[str, int]]:
    """Kinds of keys without an expiry that grew between the second census and the last, except the
    ones allowed to live without one."""
    if len(censuses) < 3:
        return {}
    first, last = censuses[1], censuses[-1]
    return {
        kind: {"then": first.without_expiry.get(kind, 0), "now": count}
        for kind, count in last.without_expiry.items()
        if kind not in KEPT_WITHOUT_EXPIRY and count > first.without_expiry.get(kind, 0)
    }


def plot(samples: Sequence[Sample], rate: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (processes, store) = pyplot.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    minutes = [s.minute for s in samples]
    for name in samples[0].rss_mb:
        processes.plot(minutes, [s.rss_mb.get(name, 0.0) for s in samples], label=name)
    processes.set_ylabel("RSS (MB)")
    processes.set_title(f"Soak: 2 instances of each service at {rate:g} shopper messages/s")
    processes.legend(loc="center right", fontsize=8)
    processes.grid(alpha=0.3)
    store.plot(minutes, [s.redis_memory_mb for s in samples], color="black", label="Redis used_memory, whole server (MB)")
    store.set_xlabel("minutes")
    store.set_ylabel("Redis server (MB)")
    store.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def half_capacity() -> Optional[float]:
    try:
        capacity = json.loads(LOAD_RESULTS.read_text())["stacks"]["2"]["capacity"]
        return round(capacity["target_messages_per_second"] / 2, 1) if capacity else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


async def soak(assistant: Assistant, workdir: Path, setup: Setup, rate: float, minutes: float, every: float) -> Dict:
    options = setup.options
    samples: List[Sample] = []
    censuses: List[Census] = []
    async with people_at(assistant, workdir, setup, 2, "soak.agent") as run:
        watching = asyncio.create_task(watch(assistant, setup.redis_url, every, samples, censuses))
        window = await hold_at(run.arrivals, run.meter, "soak", rate, options.ramp, minutes * 60 - options.ramp)
    await cancel_all([watching])
    shoppers, tally = run.arrivals.shoppers, run.stage.tally
    feed_figures, in_feed = await check_feeds(setup.redis_url, shoppers)
    return {
        "rate": rate, "minutes": minutes,
        "hold": window_figures(shoppers, tally, window, options.p95_bound, in_feed=in_feed),
        "totals": totals(shoppers, tally, feed_figures),
        "memory_growth_second_half": growth(samples),
        "keys_without_expiry_growing": growing_without_expiry(censuses),
        "last_census": censuses[-1].__dict__ if censuses else {},
        "samples": [s.__dict__ for s in samples],
    }


def table(results: Dict) -> str:
    hold, messages = results["hold"], results["totals"]["messages"]
    lines = [
        f"Soak: {results['minutes']:g} min at {results['rate']:g} msg/s on 2 instances of each service",
        f"  held {hold['messages_per_second']:.1f} msg/s, reply p50/p95/p99 {hold['reply_ms']['p50']:.0f}/"
        f"{hold['reply_ms']['p95']:.0f}/{hold['reply_ms']['p99']:.0f} ms, errors {results['totals']['errors']} "
        f"{results['totals']['error_kinds'] or ''}",
        f"  messages {messages['sent']}: lost {messages['lost']}, doubled {messages['doubled']}, "
        f"conversations out of order {messages['conversations_out_of_order']}",
        "  memory over the second half (RSS MB: start -> end, slope per 10 min):",
    ]
    for name, figures in results["memory_growth_second_half"].items():
        lines.append(f"    {name:<10} {figures['start_mb']:>7.1f} -> {figures['end_mb']:>7.1f}  {figures['mb_per_10_minutes']:+.1f}")
    growing = results["keys_without_expiry_growing"]
    lines.append(f"  Redis keys without an expiry that grew: {growing or 'none'}")
    lines.append(f"  plot: {PLOT.relative_to(PROJECT_ROOT)}")
    return "\n".join(lines)


def parse_options(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30, help="length of the soak (default 30)")
    parser.add_argument("--rate", type=float, default=None,
                        help="shopper messages/s (default: half the 2-instance capacity in bench/results/load.json)")
    parser.add_argument("--sample", type=float, default=15, help="seconds between memory samples (default 15)")
    own, rest = parser.parse_known_args(argv)
    if own.minutes <= 0 or own.sample <= 0 or (own.rate is not None and own.rate <= 0):
        parser.error("--minutes, --sample and --rate must be positive")
    own.load = load_options(rest)  # the load's own options (think times, agents, angry share…)
    return own


def main(argv: Sequence[str] = ()) -> int:
    options = parse_options(argv)
    redis_url, model = redis_and_model("bench-soak")
    rate = options.rate or half_capacity() or DEFAULT_RATE
    load = options.load
    scenarios = load_scenarios(load.scenarios)
    pace = Pace(load.think, load.agent_think, load.agent_messages, load.reply_timeout, load.agent_wait)
    database = urlunparse(urlparse(redis_url)._replace(path=f"/{SOAK_DATABASE}"))
    setup = Setup(scenarios, PhotoBank(scenarios.photo_size), load, pace, model, database)
    redis.Redis.from_url(setup.redis_url).flushdb()
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as folder, running_cluster(model, setup.redis_url, Path(folder)) as assistant:
            print(f"soaking {options.minutes:g} min at {rate:g} msg/s (logs in {folder}/logs)", flush=True)
            results = asyncio.run(soak(assistant, Path(folder), setup, rate, options.minutes, options.sample))
    finally:
        redis.Redis.from_url(setup.redis_url).flushdb()
    write_results(RESULTS, results, model, table(results))
    plot([Sample(**s) for s in results["samples"]], rate, PLOT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
