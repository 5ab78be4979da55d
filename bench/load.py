"""Load benchmark (not a test): simulated shoppers and agents against 1, then 2 instances of each service.

How to run it: `make bench-load` (Redis from REDIS_URL or the embedded one, the trained model,
nginx; extra options through LOAD_ARGS='…'), or by hand with a Redis at hand:

    python -m scripts.run --redis-only -- python -m bench.load \
        [--rate 48 --steps 6 --refine 2 --ramp 10 --duration 30 --drain 30 --instances 1,2 \
         --angry-share 0.2 --agents 8 --agent-messages 2 --p95-bound 1000 --profile-seconds 20]

The defaults take about 12-15 minutes; a quick look: LOAD_ARGS='--rate 40 --steps 4 --refine 1
--ramp 5 --duration 20 --drain 15 --profile-seconds 15' (about 10). It uses Redis database 10 of
REDIS_URL's server, flushed before each stack and at the end, and writes the table below to stdout,
bench/results/load.json, and py-spy's raw stacks to bench/results/profiles/<process>.raw.txt
(collapsed stacks, one per line: flamegraph.pl or speedscope draw them).

How to read it: for each instance count the cluster (scripts/cluster.py: nginx in front of N
gateways, N Rasa servers, N action servers, one Redis) starts on a flushed database. New
conversations open at the rate that makes each step's target of shopper messages per second (the
target over the messages a conversation has on average); each step ramps to its rate over --ramp
seconds and holds it for --duration seconds, and only the hold is measured. The first step, and a
step after a miss, first settle at their rate for about a conversation's lifetime (conversations
fill up; an overloaded step's backlog clears). Steps go up to --rate until one misses the bound,
then the gap between the last rate within it and the first beyond it is halved --refine times. A
stack's capacity is its highest step with reply p95 <= --p95-bound and no error; "scaling" is the
2-instance capacity over the 1-instance one, in messages per second at that same p95 bound (target
>= 1.6x). On 2 cores the CPU caps it: each step records the cores every process used during its
hold ("other work on the machine" is whatever else ran meanwhile: a busy machine shows up there,
and in the latencies), and on the largest stack the load goes back to its capacity while py-spy
samples rasa-1 and gateway-1 (the summary lists packages and functions by share of the samples
that were working, idle event loops and idle threads left out). Columns and figures:
  msg/s        shopper messages acknowledged per second in the hold (below the target when the
               stack cannot keep up: each shopper waits for the answer before writing again);
  p50/p95/p99  reply latency of the messages to the bot sent in the hold: from the page sending
               the frame to the first bot line answering it on the page's socket. Lines to an
               agent are not in it (a simulated person answers them after a think time);
               "agent -> shopper" is the service's part of those: the agent's POST to the line on
               the shopper's page;
  errors       error frames, failed HTTP calls, dropped sockets, messages never acknowledged;
  lost         messages a page sent that are not in the conversation's feed (read from Redis once
               the run is over); doubled: a client id more than once in a feed; out of order:
               conversations whose feed does not hold the shopper's lines in sending order (all
               three: target 0); page missed: feed lines the page's socket never showed.
Every shopper is a guest with a conversation of its own: the scenarios (bench/scenarios/load.yml,
the seed guides' stories) give the demo store's order number and phone when the bot asks, so
shoppers of the same story share its order, never a conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlparse, urlunparse

import httpx
import redis
from redis.asyncio import Redis

from bench.live_service import cancel_all, create_agent_accounts, stream_order
from bench.load_people import (
    AGENT_NAME,
    AGENT_PASSWORD,
    HTTP_TIMEOUT_SECONDS,
    Message,
    Pace,
    PhotoBank,
    SimulatedAgent,
    SimulatedShopper,
    Stage,
    StoryOrders,
    Tally,
)
from bench.load_scenarios import DEFAULT_PATH, ScenarioError, Scenarios, load_scenarios
from bench.profiling import CpuMeter, ProfileSummary, cores_by_kind, finish_recording, start_recording
from bench.stack_bench import latency, redis_and_model, write_results
from handoff.feed import PAGE, ConversationFeed
from scripts.cluster import running_cluster
from scripts.settings import PROJECT_ROOT
from scripts.stack import Assistant

RESULTS = PROJECT_ROOT / "bench" / "results" / "load.json"
PROFILES = PROJECT_ROOT / "bench" / "results" / "profiles"
BENCH_DATABASE = 10  # its own Redis database, flushed before each stack and at the end
TICK_SECONDS = 0.05
AGENTS_READY_SECONDS = 30
PROFILED = ("rasa-1", "gateway-1")
SCALING_TARGET = 1.6
TARGETS = {"lost": 0, "doubled": 0, "conversations_out_of_order": 0, "scaling_ratio": SCALING_TARGET}


# ---- the load over time -----------------------------------------------------------------------


@dataclass
class RateSchedule:
    """The target message rate: from `start_rate` at `since` to `rate` after `ramp` seconds, then held."""

    start_rate: float = 0.0
    rate: float = 0.0
    since: float = 0.0
    ramp: float = 0.0

    def at(self, now: float) -> float:
        if self.ramp <= 0 or now - self.since >= self.ramp:
            return self.rate
        return self.start_rate + (self.rate - self.start_rate) * max(now - self.since, 0.0) / self.ramp


class Arrivals:
    """Opens conversations at the schedule's message rate divided by the messages a conversation has
    on average (evenly spaced, not bursty): shoppers then pace themselves on the answers."""

    def __init__(self, stage: Stage, instances: int, mean_messages: float, angry_share: float) -> None:
        self.stage, self.instances = stage, instances
        self.mean_messages, self.angry_share = mean_messages, angry_share
        self.schedule = RateSchedule(since=time.monotonic())
        self.picks = random.Random(stage.rng.random())  # scenario picks of their own: think times do not shift them
        self.shoppers: List[SimulatedShopper] = []
        self.tasks: List[asyncio.Task] = []

    async def run(self) -> None:
        credit, last = 0.0, time.monotonic()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            credit += self.schedule.at(now) / self.mean_messages * (now - last)
            last = now
            while credit >= 1.0:
                credit -= 1.0
                self.open_one()

    def open_one(self) -> None:
        scenario = self.stage.scenarios.pick(self.picks, self.angry_share)
        name = f"load-{self.instances}x-{len(self.shoppers) + 1:05d}"
        shopper = SimulatedShopper(self.stage, name, scenario)
        self.shoppers.append(shopper)
        self.tasks.append(asyncio.create_task(shopper.converse()))


@dataclass
class Window:
    """One step: its ramp from `ramp_start`, its hold (what is measured), the CPU used in the hold."""

    label: str
    rate: float
    ramp_start: float
    hold_start: float = 0.0
    hold_end: float = 0.0
    cores: Dict[str, float] = field(default_factory=dict)


async def hold_at(arrivals: Arrivals, meter: CpuMeter, label: str, rate: float, ramp: float, hold: float,
                  settle: float = 0.0, at_hold_start: Callable[[], None] = lambda: None) -> Window:
    """Ramp from the current rate to `rate` (then `settle` seconds at it), then hold it; the window of the hold."""
    now = time.monotonic()
    arrivals.schedule = RateSchedule(arrivals.schedule.at(now), rate, now, ramp)
    window = Window(label, rate, ramp_start=now)
    await asyncio.sleep(ramp + settle)
    at_hold_start()
    window.hold_start, cpu_start = time.monotonic(), meter.read()
    await asyncio.sleep(hold)
    window.hold_end, cpu_end = time.monotonic(), meter.read()
    window.cores = CpuMeter.cores_between(cpu_start, cpu_end)
    return window


def step_rates(top_rate: float, steps: int) -> List[float]:
    return [round(top_rate * (index + 1) / steps, 2) for index in range(steps)]


# ---- figures ----------------------------------------------------------------------------------


def window_figures(shoppers: Sequence[SimulatedShopper], tally: Tally, window: Window, p95_bound: float,
                   until_now: bool = False, in_feed: Optional[Counter] = None) -> Dict:
    """Throughput, reply latency and errors of one window. `until_now`: decided while the run goes on,
    so a message still unanswered counts with the time it has waited so far (at least that slow).
    `in_feed` (client id -> times in its feed, once the run is over) adds the window's lost messages."""
    now = time.monotonic()
    messages = [message for shopper in shoppers for message in shopper.messages]
    acked = [m for m in messages if m.sent.acked_at is not None and window.hold_start <= m.sent.acked_at < window.hold_end]
    to_bot = [m for m in messages if m.to == "bot" and window.hold_start <= m.sent.sent_at < window.hold_end]
    replies = [m.reply_ms if m.reply_ms is not None or not until_now else (now - m.sent.sent_at) * 1000 for m in to_bot]
    errors = tally.errors_between(window.ramp_start, window.hold_end)
    seconds = window.hold_end - window.hold_start
    figures = {
        "label": window.label, "target_messages_per_second": window.rate, "hold_seconds": round(seconds, 1),
        "messages_per_second": round(len(acked) / seconds, 2) if seconds > 0 else 0.0,
        "conversations_opened": sum(window.ramp_start <= s.opened_at < window.hold_end for s in shoppers),
        "reply_ms": latency(replies),
        "unanswered": sum(m.reply_ms is None for m in to_bot),
        "agent_to_shopper_ms": latency(agent_deliveries(shoppers, tally, window.hold_start, window.hold_end)),
        "errors": sum(errors.values()), "error_kinds": dict(errors),
        "cores": window.cores, "cores_by_kind": cores_by_kind(window.cores),
    }
    if in_feed is not None:
        sent = [m for m in messages if window.ramp_start <= m.sent.sent_at < window.hold_end]
        figures["lost"] = sum(in_feed[m.sent.client_id] == 0 for m in sent)
        figures["doubled"] = sum(max(in_feed[m.sent.client_id] - 1, 0) for m in sent)
    figures["passed"] = figures["reply_ms"]["samples"] > 0 and figures["reply_ms"]["p95"] <= p95_bound and not figures["errors"]
    figures["slowest"] = slowest(to_bot, shoppers)
    return figures


def slowest(to_bot: Sequence[Message], shoppers: Sequence[SimulatedShopper], count: int = 5) -> List[Dict]:
    """The slowest answered messages of a window: which kind of turn makes the tail."""
    scenario_of = {id(message): shopper.scenario.name for shopper in shoppers for message in shopper.messages}
    answered = sorted((m for m in to_bot if m.reply_ms is not None), key=lambda m: m.reply_ms, reverse=True)
    return [{"reply_ms": round(m.reply_ms), "scenario": scenario_of[id(m)], "text": m.sent.text[:40],
             "photos": len(m.sent.photo_ids), "owner_after": m.sent.owner} for m in answered[:count]]


def agent_deliveries(shoppers: Sequence[SimulatedShopper], tally: Tally, start: float, end: float) -> List[float]:
    """Agent line delivery (ms): the agent's POST began -> the line reached the shopper's page."""
    delays = []
    for shopper in shoppers:
        for line_id, arrived in shopper.page.arrived_at.items():
            posted = tally.agent_lines_posted.get((shopper.conversation_id, line_id))
            if posted is not None and start <= posted < end:
                delays.append((arrived - posted) * 1000)
    return delays


async def feed_lines(feed: ConversationFeed, conversation_id: str) -> List[Tuple[str, Dict]]:
    lines: List[Tuple[str, Dict]] = []
    while True:
        page = await feed.after(conversation_id, lines[-1][0] if lines else "0-0", count=PAGE)
        lines += page
        if len(page) < PAGE:
            return lines


def conversation_check(shopper: SimulatedShopper, lines: List[Tuple[str, Dict]], run_counts: Counter) -> Dict[str, int]:
    """The page's messages against the conversation's feed: lost (never acknowledged, the shopper gave
    up first; or acknowledged), doubled, out of order, missed by the page. `run_counts` gets each client
    id's number of lines in the feed (client ids are unique to the run)."""
    in_feed = [line.get("client_id") for _, line in lines if line.get("from") == "shopper"]
    counts = Counter(in_feed)
    run_counts.update(counts)
    sent = list(shopper.page.sent)  # sending order
    first_seen = list(dict.fromkeys(client_id for client_id in in_feed if client_id in shopper.page.sent))
    seen_on_page = shopper.page.arrived_at
    last_seen = max(seen_on_page, key=stream_order) if seen_on_page else None
    missed = [line_id for line_id, _ in lines
              if last_seen is not None and stream_order(line_id) <= stream_order(last_seen) and line_id not in seen_on_page]
    acknowledged = {client_id for client_id, s in shopper.page.sent.items() if s.acked_at is not None}
    return {
        "sent": len(sent),
        "lost": sum(counts[client_id] == 0 for client_id in sent),
        "lost_after_acknowledgement": sum(counts[client_id] == 0 for client_id in acknowledged),
        "doubled": sum(count - 1 for count in counts.values() if count > 1),
        "out_of_order": int(first_seen != [client_id for client_id in sent if counts[client_id]]),
        "page_missed": len(missed),
        "unacked": sum(s.acked_at is None for s in shopper.page.sent.values()),
    }


FEED_FIGURES = ("sent", "lost", "lost_after_acknowledgement", "doubled", "conversations_out_of_order", "page_missed", "unacked")


async def check_feeds(redis_url: str, shoppers: Sequence[SimulatedShopper]) -> Tuple[Dict[str, int], Counter]:
    """The feed figures of every conversation together, and each client id's count of feed lines."""
    client = Redis.from_url(redis_url)
    counts: Counter = Counter()
    try:
        feed = ConversationFeed(client, retention_seconds=3600)
        checks = [conversation_check(s, await feed_lines(feed, s.conversation_id), counts) for s in shoppers]
    finally:
        await client.close()
    totals: Counter = Counter()
    for check in checks:
        totals.update(check)
    totals["conversations_out_of_order"] = totals.pop("out_of_order", 0)
    return {key: totals.get(key, 0) for key in FEED_FIGURES}, counts


def totals(shoppers: Sequence[SimulatedShopper], tally: Tally, feed_check: Dict[str, int]) -> Dict:
    all_errors = Counter(kind for _, kind in tally.errors)
    return {
        "conversations": len(shoppers),
        "scenarios": dict(Counter(s.scenario.name for s in shoppers)),
        "outcomes": dict(Counter(s.outcome for s in shoppers)),
        "handed_off": sum(s.handed_off for s in shoppers),
        "served_by_an_agent": sum(s.served_by_agent for s in shoppers),
        "ticket_reasons": dict(tally.ticket_reasons),
        "messages": feed_check,
        "errors": sum(all_errors.values()), "error_kinds": dict(all_errors),
        "events": dict(tally.events),
        "photo_upload_ms": latency(tally.upload_ms),
        "agent_to_shopper_ms": latency(agent_deliveries(shoppers, tally, 0.0, float("inf"))),
    }


def capacity(steps: Sequence[Dict]) -> Optional[Dict]:
    """The highest rate within the bound; `limit_reached` False when no step missed it (--rate too low)."""
    passed = [step for step in steps if step["passed"]]
    if not passed:
        return None
    best = max(passed, key=lambda step: step["target_messages_per_second"])
    return {"target_messages_per_second": best["target_messages_per_second"],
            "messages_per_second": best["messages_per_second"], "reply_p95_ms": best["reply_ms"]["p95"],
            "limit_reached": any(not step["passed"] for step in steps)}


def scaling(stacks: Dict[str, Dict]) -> Optional[Dict]:
    one, most = stacks.get("1"), stacks[max(stacks, key=int)]
    if one is None or most is one or not one["capacity"] or not most["capacity"]:
        return None
    ratio = most["capacity"]["messages_per_second"] / max(one["capacity"]["messages_per_second"], 1e-9)
    return {"instances": most["instances"], "ratio": round(ratio, 2), "target": SCALING_TARGET,
            "met": ratio >= SCALING_TARGET,
            "lower_bound_only": not most["capacity"]["limit_reached"],  # --rate did not reach its limit
            "upper_bound_only": not one["capacity"]["limit_reached"]}


# ---- one stack --------------------------------------------------------------------------------


@dataclass
class Setup:
    scenarios: Scenarios
    photos: PhotoBank
    options: argparse.Namespace
    pace: Pace
    model: Path
    redis_url: str


@dataclass
class Run:
    """Shoppers arriving at a stack, agents at their consoles, the CPU meter over every process."""

    stage: Stage
    arrivals: Arrivals
    meter: CpuMeter


@asynccontextmanager
async def people_at(assistant: Assistant, workdir: Path, setup: Setup, instances: int, agent_prefix: str) -> AsyncIterator[Run]:
    """Agents signed in and at their consoles, then shoppers arriving (at the rate the caller sets on
    `arrivals.schedule`); on the way out, the conversations under way are drained and the agents leave."""
    options = setup.options
    orders = StoryOrders(workdir / "shop.db", assistant.orders, setup.scenarios.order_labels())
    agent_ids = [f"{agent_prefix}{index + 1}" for index in range(options.agents)]
    await create_agent_accounts(setup.redis_url, agent_ids, AGENT_PASSWORD, AGENT_NAME)
    meter = CpuMeter({name: s.process.pid for name, s in assistant.services.items() if s.process}, setup.redis_url)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, limits=limits) as client:
        stage = Stage(assistant.handoff_url, setup.scenarios, orders, setup.photos, setup.pace, client, options.seed)
        agents = [SimulatedAgent(stage, agent_id) for agent_id in agent_ids]
        agent_tasks = [asyncio.create_task(agent.work_shift()) for agent in agents]
        await all_ready(agents)
        arrivals = Arrivals(stage, instances, setup.scenarios.mean_messages(options.angry_share, options.agent_messages),
                            options.angry_share)
        opening = asyncio.create_task(arrivals.run())
        try:
            yield Run(stage, arrivals, meter)
        finally:
            await drain(arrivals, stage, opening, options)
            await cancel_all(agent_tasks)


async def measure_stack(assistant: Assistant, workdir: Path, setup: Setup, instances: int, profile: bool) -> Dict:
    options = setup.options
    async with people_at(assistant, workdir, setup, instances, "load.agent") as run:
        windows = await search_capacity(run.arrivals, run.stage, run.meter, options, instances)
        profile_window, recordings = None, []
        if profile and options.profile_seconds > 0:
            profile_window, recordings = await profile_at(run.arrivals, run.stage, run.meter, assistant, options, windows)
    shoppers, tally = run.arrivals.shoppers, run.stage.tally
    feed_figures, in_feed = await check_feeds(setup.redis_url, shoppers)
    steps = [window_figures(shoppers, tally, window, options.p95_bound, in_feed=in_feed) for window in windows]
    result = {"instances": instances, "steps": steps, "capacity": capacity(steps),
              "totals": totals(shoppers, tally, feed_figures)}
    if profile_window is not None:
        result["profile_hold"] = window_figures(shoppers, tally, profile_window, options.p95_bound, in_feed=in_feed)
        result["profiles"] = [await asyncio.to_thread(finish_recording, r, options.profile_seconds + 30) for r in recordings]
    return result


async def all_ready(agents: Sequence[SimulatedAgent]) -> None:
    """The agents at their consoles before the first shopper comes (bounded)."""
    waits = [asyncio.create_task(agent.ready.wait()) for agent in agents]
    await asyncio.wait(waits, timeout=AGENTS_READY_SECONDS)
    await cancel_all(waits)


async def search_capacity(arrivals: Arrivals, stage: Stage, meter: CpuMeter, options: argparse.Namespace,
                          instances: int) -> List[Window]:
    """Step the rate up until a step misses the bound (decided at the end of its hold), then halve the
    gap between the last rate within it and the first beyond it --refine times. The first step, and
    a step after a miss, settle at their rate before the hold (settling_seconds)."""
    windows: List[Window] = []
    settle = settling_seconds(arrivals, options)
    last_passed = True

    async def within_bound(label: str, rate: float) -> bool:
        nonlocal last_passed
        fresh = not windows or not last_passed  # the first step, or after a backlog
        if not last_passed:
            await recover(arrivals, options)
        window = await hold_at(arrivals, meter, label, rate, options.ramp, options.duration, settle=settle if fresh else 0.0)
        windows.append(window)
        interim = window_figures(arrivals.shoppers, stage.tally, window, options.p95_bound, until_now=True)
        print(progress_line(instances, interim), flush=True)
        last_passed = interim["passed"]
        return last_passed

    within, beyond = 0.0, None
    for index, rate in enumerate(step_rates(options.rate, options.steps)):
        if not await within_bound(f"step {index + 1}", rate):
            beyond = rate
            break
        within = rate
    for index in range(options.refine if beyond is not None else 0):
        rate = round((within + beyond) / 2, 2)
        if await within_bound(f"refine {index + 1}", rate):
            within = rate
        else:
            beyond = rate
    return windows


async def recover(arrivals: Arrivals, options: argparse.Namespace) -> None:
    """After a step beyond the bound: no new conversations until the backlog is gone (the oldest
    message waiting for its acknowledgement is younger than a second), bounded by --reply-timeout."""
    arrivals.schedule = RateSchedule(since=time.monotonic())
    deadline = time.monotonic() + options.reply_timeout + 10
    while time.monotonic() < deadline and oldest_waiting_seconds(arrivals.shoppers) > 1.0:
        await asyncio.sleep(0.5)


def oldest_waiting_seconds(shoppers: Sequence[SimulatedShopper]) -> float:
    now = time.monotonic()
    waiting = [now - s.messages[-1].sent.sent_at for s in shoppers
               if s.messages and s.outcome == "running" and s.messages[-1].sent.acked_at is None]
    return max(waiting, default=0.0)


def settling_seconds(arrivals: Arrivals, options: argparse.Namespace) -> float:
    """About one conversation's lifetime (messages x think time), at least one ramp: at the start the
    conversations fill up in that time, after an overloaded step its backlog clears."""
    lifetime = arrivals.mean_messages * (sum(options.think) / 2 + 0.2)
    return max(options.ramp, lifetime)


def progress_line(instances: int, figures: Dict) -> str:
    reply = figures["reply_ms"]
    return (f"  {instances} instance(s), {figures['label']}: target {figures['target_messages_per_second']:g} msg/s -> "
            f"{figures['messages_per_second']:.1f} msg/s, p95 {reply['p95']:.0f} ms (n={reply['samples']}), "
            f"errors {figures['errors']}: {'within' if figures['passed'] else 'MISSED'} the bound")


async def profile_at(arrivals: Arrivals, stage: Stage, meter: CpuMeter, assistant: Assistant,
                     options: argparse.Namespace, windows: Sequence[Window]) -> Tuple[Window, List]:
    """Back to the highest rate that was within the bound, then py-spy on one Rasa server and one gateway."""
    interim = [window_figures(arrivals.shoppers, stage.tally, w, options.p95_bound, until_now=True) for w in windows]
    within = [w.rate for w, figures in zip(windows, interim, strict=True) if figures["passed"]]
    rate = max(within) if within else min(w.rate for w in windows)
    if not interim[-1]["passed"]:
        await recover(arrivals, options)
    recordings: List = []

    def start_py_spy() -> None:
        for name in PROFILED:
            recordings.append(start_recording(name, assistant.services[name].process.pid, options.profile_seconds, PROFILES))

    window = await hold_at(arrivals, meter, "profile", rate, options.ramp, options.profile_seconds,
                           settle=settling_seconds(arrivals, options), at_hold_start=start_py_spy)
    return window, recordings


async def drain(arrivals: Arrivals, stage: Stage, opening: asyncio.Task, options: argparse.Namespace) -> None:
    """No new conversations; those under way get --drain seconds, then leave after their current message."""
    await cancel_all([opening])
    running = [task for task in arrivals.tasks if not task.done()]
    if running:
        await asyncio.wait(running, timeout=options.drain)
    stage.stop_writing.set()
    running = [task for task in arrivals.tasks if not task.done()]
    if running:
        await asyncio.wait(running, timeout=options.reply_timeout + 10)
    await cancel_all([task for task in arrivals.tasks if not task.done()])


def run_stack(setup: Setup, instances: int, profile: bool) -> Dict:
    """Start the cluster on a flushed database, measure it, stop it."""
    redis.Redis.from_url(setup.redis_url).flushdb()
    with ExitStack() as stack:
        workdir = Path(setup.options.workdir) / f"{instances}x" if setup.options.workdir else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix=f"load-{instances}x-")))
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        assistant = stack.enter_context(running_cluster(setup.model, setup.redis_url, workdir, instances=instances))
        print(f"{instances} instance(s) of each service up in {time.monotonic() - started:.0f} s "
              f"(logs in {workdir / 'logs'})", flush=True)
        return asyncio.run(measure_stack(assistant, workdir, setup, instances, profile))


# ---- the table --------------------------------------------------------------------------------


CELL_HEADER = f"{'msg/s':>6} {'p50':>5} {'p95':>6} {'p99':>6} {'errors':>6} {'':6}"
CELL_WIDTH = len(CELL_HEADER)


def table(results: Dict) -> str:
    stacks, options = results["stacks"], results["options"]
    header = [
        f"Load: {options['scenarios']}, {options['angry_share']:.0%} angry shoppers, think {options['think']} s, "
        f"{options['agents']} agents answering K={options['agent_messages']}; ramp {options['ramp']:g} s + "
        f"hold {options['duration']:g} s per step; reply latency in ms, bound p95 <= {options['p95_bound']:g} ms",
        f"{'target':>8} | " + " | ".join(f"{instances_label(int(n)):<{CELL_WIDTH}}" for n in stacks),
        f"{'msg/s':>8} | " + " | ".join(CELL_HEADER for _ in stacks),
    ]
    rates = sorted({step["target_messages_per_second"] for stack in stacks.values() for step in stack["steps"]})
    rows = [f"{rate:>8g} | " + " | ".join(step_cell(stack, rate) for stack in stacks.values()) for rate in rates]
    return "\n".join(header + rows + summary_lines(results))


def instances_label(count: int) -> str:
    return f"{count} instance{'s' if count > 1 else ''} of each service"


def step_cell(stack: Dict, rate: float) -> str:
    step = next((s for s in stack["steps"] if s["target_messages_per_second"] == rate), None)
    if step is None:
        return f"{'(not run)':^{CELL_WIDTH}}"
    reply = step["reply_ms"]
    return (f"{step['messages_per_second']:6.1f} {reply['p50']:5.0f} {reply['p95']:6.0f} {reply['p99']:6.0f} "
            f"{step['errors']:6d} {'ok' if step['passed'] else 'MISSED':6}")


def summary_lines(results: Dict) -> List[str]:
    lines = []
    for key, stack in results["stacks"].items():
        lines += stack_lines(key, stack)
    ratio = results.get("scaling")
    if ratio:
        bound = " (a lower bound: raise --rate)" if ratio["lower_bound_only"] else ""
        bound += " (an upper bound: 1 instance passed every step)" if ratio["upper_bound_only"] else ""
        lines.append(f"\nscaling: {ratio['instances']} instances carry {ratio['ratio']:.2f}x the messages per second of one "
                     f"within the same p95 bound{bound}: target >= {ratio['target']}: {'met' if ratio['met'] else 'MISSED'}")
    else:
        lines.append("\nscaling: no ratio (a stack had no step within the bound, or only one instance count was run)")
    return lines


def stack_lines(key: str, stack: Dict) -> List[str]:
    cap, t = stack["capacity"], stack["totals"]
    m = t["messages"]
    lines = [f"\n{instances_label(int(key))}:"]
    if cap:
        lines.append(f"  capacity {cap['messages_per_second']:.1f} msg/s (step {cap['target_messages_per_second']:g}), "
                     f"reply p95 {cap['reply_p95_ms']:.0f} ms")
        at = next(s for s in stack["steps"] if s["target_messages_per_second"] == cap["target_messages_per_second"])
        lines.append("  CPU during that hold (cores): " + ", ".join(
            f"{name} {value:.2f}" for name, value in at["cores_by_kind"].items() if name != "machine cores"))
    else:
        lines.append("  capacity: no step within the bound")
    lines.append(f"  messages {m['sent']}: lost {m['lost']} ({m['lost_after_acknowledgement']} after their acknowledgement, "
                 f"the others given up unacknowledged), doubled {m['doubled']}, conversations out of order "
                 f"{m['conversations_out_of_order']}, page missed {m['page_missed']} lines, unacknowledged {m['unacked']}")
    within = [s for s in stack["steps"] if s["passed"]]
    lines.append(f"  in the steps within the bound: lost {sum(s['lost'] for s in within)}, "
                 f"doubled {sum(s['doubled'] for s in within)}")
    kinds = ", ".join(f"{kind} x{count}" for kind, count in t["error_kinds"].items())
    lines.append(f"  conversations {t['conversations']}, handed off {t['handed_off']}, served by an agent "
                 f"{t['served_by_an_agent']} (tickets {t['ticket_reasons']}), errors {t['errors']}{': ' + kinds if kinds else ''}")
    lines.append(f"  agent -> shopper p95 {t['agent_to_shopper_ms']['p95']:.0f} ms (n={t['agent_to_shopper_ms']['samples']}), "
                 f"photo upload p95 {t['photo_upload_ms']['p95']:.0f} ms (n={t['photo_upload_ms']['samples']}); "
                 f"outcomes {t['outcomes']}")
    if stack.get("profiles"):
        hold = stack["profile_hold"]
        lines.append(f"  profile hold at {hold['target_messages_per_second']:g} msg/s: {hold['messages_per_second']:.1f} msg/s, "
                     f"p95 {hold['reply_ms']['p95']:.0f} ms; CPU (cores): " + ", ".join(
                         f"{name} {value:.2f}" for name, value in hold["cores"].items() if name != "machine cores"))
        lines += ProfileSummary(stack["profiles"]).lines()
    return lines


# ---- main -------------------------------------------------------------------------------------


def bench_database_url(redis_url: str) -> str:
    parsed = urlparse(redis_url)
    return urlunparse(parsed._replace(path=f"/{BENCH_DATABASE}"))


def seconds_range(value: str) -> Tuple[float, float]:
    try:
        low, _, high = value.partition(",")
        bounds = (float(low), float(high or low))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not seconds like 1,3: {value!r}") from error
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError("give min,max with 0 <= min <= max")
    return bounds


def instance_counts(value: str) -> List[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of instance counts: {value!r}") from error
    if not counts or any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError("give instance counts of 1 or more, e.g. 1,2")
    return counts


def parse_options(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=48, help="the last step's target shopper messages/s (default 48)")
    parser.add_argument("--steps", type=int, default=6, help="steps up to --rate (default 6: 8, 16, … 48)")
    parser.add_argument("--refine", type=int, default=2, help="halvings of the gap after the first step beyond the bound (default 2)")
    parser.add_argument("--ramp", type=float, default=10, help="seconds to ramp to each step's rate (default 10)")
    parser.add_argument("--duration", type=float, default=30, help="seconds each step's rate is held and measured (default 30)")
    parser.add_argument("--drain", type=float, default=30, help="seconds for conversations under way at the end (default 30)")
    parser.add_argument("--instances", type=instance_counts, default=[1, 2], help="instance counts, one stack each (default 1,2)")
    parser.add_argument("--angry-share", type=float, default=0.2, help="share of angry shoppers (default 0.2)")
    parser.add_argument("--agents", type=int, default=8, help="agents at the console, 5 chats each (default 8)")
    parser.add_argument("--agent-messages", type=int, default=2, help="K: lines a handed-off shopper and the agent exchange (default 2)")
    parser.add_argument("--think", type=seconds_range, default=(1.0, 3.0), help="a shopper's think time, min,max seconds (default 1,3)")
    parser.add_argument("--agent-think", type=seconds_range, default=(1.0, 2.0), help="an agent's, min,max seconds (default 1,2)")
    parser.add_argument("--reply-timeout", type=float, default=30, help="a message not acknowledged by then is an error (default 30)")
    parser.add_argument("--agent-wait", type=float, default=60, help="a handed-off shopper waits this long for an agent (default 60)")
    parser.add_argument("--p95-bound", type=float, default=1000, help="reply p95 bound of a step within capacity, ms (default 1000)")
    parser.add_argument("--profile-seconds", type=float, default=20, help="py-spy on the largest stack at its capacity; 0: none (default 20)")
    parser.add_argument("--scenarios", type=Path, default=DEFAULT_PATH, help="the conversations (default bench/scenarios/load.yml)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of scenario picks and think times")
    parser.add_argument("--workdir", help="keep each stack's store, photos and service logs here (default: a temporary folder)")
    options = parser.parse_args(argv)
    if options.rate <= 0 or options.steps < 1 or options.duration <= 0 or options.agents < 1 or options.agent_messages < 1:
        parser.error("--rate, --steps, --duration, --agents and --agent-messages must be positive")
    if not 0 <= options.angry_share <= 1:
        parser.error("--angry-share is a share between 0 and 1")
    return options


def options_record(options: argparse.Namespace) -> Dict:
    record = {key: value for key, value in vars(options).items() if key not in ("scenarios", "workdir")}
    scenarios = Path(options.scenarios).resolve()
    record["scenarios"] = str(scenarios.relative_to(PROJECT_ROOT) if scenarios.is_relative_to(PROJECT_ROOT) else scenarios)
    record["think"] = "{:g}-{:g}".format(*options.think)
    record["agent_think"] = "{:g}-{:g}".format(*options.agent_think)
    return record


def main(argv: Sequence[str] = ()) -> int:
    options = parse_options(argv)
    redis_url, model = redis_and_model("bench-load")
    try:
        scenarios = load_scenarios(options.scenarios)
    except ScenarioError as error:
        sys.exit(f"error: {error}")
    pace = Pace(options.think, options.agent_think, options.agent_messages, options.reply_timeout, options.agent_wait)
    setup = Setup(scenarios, PhotoBank(scenarios.photo_size), options, pace, model, bench_database_url(redis_url))
    largest = max(options.instances)
    stacks = {}
    try:
        for instances in options.instances:
            stacks[str(instances)] = run_stack(setup, instances, profile=instances == largest)
    finally:
        redis.Redis.from_url(setup.redis_url).flushdb()
    results = {"options": options_record(options), "stacks": stacks, "scaling": scaling(stacks), "targets": TARGETS}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    write_results(RESULTS, results, model, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
