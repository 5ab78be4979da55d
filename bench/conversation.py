"""Conversation benchmark: what dialogue, actions and Redis stores cost on top of the NLU.

Starts the whole assistant with a fresh demo store, as `make run` lays it out (scripts/stack.py:
one handoff service, action server and Rasa server with Redis tracker and lock stores) and as
`make run-cluster` does on the same machine (scripts/cluster.py: two of each behind nginx, a
conversation sticky to one Rasa server), and measures, for N concurrent scripted after-sales
conversations (N = 1, 10, 50):

- the reply latency of each shopper message through the REST webhook (p50/p95/p99, msg/s),
  with shoppers who all start together and answer at once (saturation), and with shoppers who
  start at different moments and take 1–3 s to read and type (how real shoppers arrive);
- the same messages sent to `POST /model/parse` alone, at the same concurrency, so the ratio
  shows the cost of the dialogue, the action server and the stores;
- turn 50 against turn 5 of long conversations (Rasa ships the whole tracker to the action
  server on every call, so a long conversation could slow down).

Not a test: prints a table and writes bench/results/conversation.json.

    make bench-conversation     # or: python -m bench.conversation [--levels 1 10 50] [--instances 1 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import httpx

from bench.stack_bench import at_least_one, percentiles, redis_and_model, write_results
from scripts.cluster import running_cluster
from scripts.settings import PROJECT_ROOT
from scripts.stack import Assistant, running_assistant

RESULTS = PROJECT_ROOT / "bench" / "results" / "conversation.json"
LAYOUTS = {"1": "one process of each service (make run)"}
PHONES = {"caked_milk_powder": "13912870456", "tshirt_l_got_m": "17708463125", "wrong_brand_handbag": "13751029846"}
OPENERS = {
    "caked_milk_powder": "奶粉打开全是结块，想退款",
    "tshirt_l_got_m": "买的L码发来的是M码",
    "wrong_brand_handbag": "收到的包不是我买的牌子",
}
LONG_TURNS = 50
LONG_CONVERSATIONS = 8
LONG_QUESTIONS = ["退货运费谁出", "退款多久到账", "退货地址是哪里", "刻字的能退吗", "几天内可以退"]


def script(assistant: Assistant, story: str) -> List[str]:
    """A guest's after-sales conversation from the first message to the return number."""
    return [OPENERS[story], assistant.orders[story], PHONES[story], "/inform{\"resolution\": \"exchange\"}",
            "现在拍不了，稍后上传", "对", "谢谢"]



async def send(client: httpx.AsyncClient, url: str, body: Dict, timings: List[float]) -> None:
    """One request, timed. A shopper's message names its conversation in the header the
    gateway sends, so that nginx in front of several Rasa servers keeps it on one of them."""
    headers = {"X-Conversation-Id": body["sender"]} if "sender" in body else {}
    began = time.perf_counter()
    response = await client.post(url, json=body, headers=headers)
    timings.append((time.perf_counter() - began) * 1000)
    response.raise_for_status()


async def conversation(client: httpx.AsyncClient, assistant: Assistant, sender: str, messages: List[str],
                       timings: List[float], think_seconds: float, pace: random.Random) -> None:
    """One shopper: each message after reading the last reply.

    think_seconds 0: every shopper starts at once and answers at once (saturation, lockstep).
    Otherwise shoppers behave independently, as real ones do: each opens the chat at a random
    moment within the first `think_seconds` and takes 0.5–1.5 × `think_seconds` to read and type.
    """
    url = f"{assistant.rasa_url}/webhooks/rest/webhook"
    if think_seconds:
        await asyncio.sleep(pace.uniform(0, think_seconds))
    for message in messages:
        await send(client, url, {"sender": sender, "message": message}, timings)
        if think_seconds:
            await asyncio.sleep(think_seconds * pace.uniform(0.5, 1.5))


async def parse_only(client: httpx.AsyncClient, assistant: Assistant, messages: List[str], timings: List[float],
                     think_seconds: float, pace: random.Random) -> None:
    """The same messages to `POST /model/parse`, arriving as the shoppers' messages did."""
    url = f"{assistant.rasa_url}/model/parse?token={assistant.token}"
    if think_seconds:
        await asyncio.sleep(pace.uniform(0, think_seconds))
    for message in messages:
        await send(client, url, {"text": message}, timings)
        if think_seconds:
            await asyncio.sleep(think_seconds * pace.uniform(0.5, 1.5))


async def level(assistant: Assistant, concurrency: int, run_id: str, think_seconds: float) -> Dict[str, float]:
    stories = list(OPENERS)
    scripts = [script(assistant, stories[i % len(stories)]) for i in range(concurrency)]
    limits = httpx.Limits(max_connections=concurrency + 5)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        webhook: List[float] = []
        began = time.perf_counter()
        pace = random.Random(concurrency)  # the same arrival pattern in every run
        await asyncio.gather(*(conversation(client, assistant, f"{run_id}-{concurrency}-{i}", s, webhook, think_seconds, pace)
                               for i, s in enumerate(scripts)))
        webhook_seconds = time.perf_counter() - began
        parse: List[float] = []
        pace = random.Random(concurrency)
        await asyncio.gather(*(parse_only(client, assistant, [m for m in s if not m.startswith("/")], parse,
                                          think_seconds, pace) for s in scripts))
    figures = {f"webhook_{k}": v for k, v in percentiles(webhook).items()}
    figures.update({f"parse_{k}": v for k, v in percentiles(parse).items()})
    figures["messages"] = len(webhook)
    figures["webhook_msgs_per_second"] = len(webhook) / webhook_seconds
    figures["p95_ratio_webhook_to_parse"] = figures["webhook_p95"] / figures["parse_p95"]
    return figures


async def long_conversations(assistant: Assistant, run_id: str) -> Dict[str, float]:
    """Turn 5 against turn 50: median latency of turns 3–7 and 48–52 over a few conversations."""
    turns: Dict[int, List[float]] = {}
    async with httpx.AsyncClient(timeout=120) as client:
        url = f"{assistant.rasa_url}/webhooks/rest/webhook"
        for c in range(LONG_CONVERSATIONS):
            for turn in range(1, LONG_TURNS + 3):
                timings: List[float] = []
                body = {"sender": f"{run_id}-long-{c}", "message": LONG_QUESTIONS[turn % len(LONG_QUESTIONS)]}
                await send(client, url, body, timings)
                turns.setdefault(turn, []).extend(timings)
    early = statistics.median(t for turn in range(3, 8) for t in turns[turn])
    late = statistics.median(t for turn in range(LONG_TURNS - 2, LONG_TURNS + 3) for t in turns[turn])
    return {"turn_5_ms": early, "turn_50_ms": late, "turn_50_over_turn_5": late / early}


def table(results: Dict) -> str:
    lines = []
    for instances, layout in results["layouts"].items():
        lines += [f"\n{LAYOUTS.get(instances, instances + ' instances of each service behind nginx')}:",
                  "| concurrent | think s | msgs | webhook p50 / p95 / p99 ms | msg/s | /model/parse p50 / p95 / p99 ms | p95 ratio |",
                  "|---|---|---|---|---|---|---|"]
        for key, f in layout["levels"].items():
            n, think = key.split("@")
            lines.append(
                f"| {n} | {think} | {f['messages']} | {f['webhook_p50']:.0f} / {f['webhook_p95']:.0f} / {f['webhook_p99']:.0f} "
                f"| {f['webhook_msgs_per_second']:.1f} | {f['parse_p50']:.0f} / {f['parse_p95']:.0f} / {f['parse_p99']:.0f} "
                f"| {f['p95_ratio_webhook_to_parse']:.1f}× |"
            )
        long = layout["long"]
        lines.append(f"long conversations: turn 5 {long['turn_5_ms']:.0f} ms, turn 50 {long['turn_50_ms']:.0f} ms "
                     f"({long['turn_50_over_turn_5']:.2f}×; target ≤ 1.2×)")
    return "\n".join(lines)


async def measure(assistant: Assistant, levels: Sequence[int], thinks: Sequence[float]) -> Dict:
    run_id = f"bench{int(time.time())}"
    await level(assistant, 4, f"{run_id}-warmup", 0)  # a few conversations: every Rasa server warm
    results: Dict = {"levels": {}}
    for think in thinks:
        for n in levels:
            print(f"measuring {n} concurrent conversation(s), {think} s between a reply and the next message…", flush=True)
            results["levels"][f"{n}@{think:g}"] = await level(assistant, n, f"{run_id}-{think:g}", think)
    print("measuring long conversations…", flush=True)
    results["long"] = await long_conversations(assistant, run_id)
    return results


@contextmanager
def running_layout(instances: int, model: Path, redis_url: str, workdir: Path) -> Iterator[Assistant]:
    """`make run`'s layout (one process of each service), or `make run-cluster`'s with N of each."""
    if instances == 1:
        with running_assistant(model, redis_url, workdir) as assistant:
            yield assistant
    else:
        with running_cluster(model, redis_url, workdir, instances=instances) as assistant:
            yield assistant


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="*", default=[1, 10, 50], help="none: long conversations only")
    # 0: every shopper sends the next message the moment the reply arrives (saturation);
    # 2: a shopper reads the reply and types the next one in about two seconds (1–3 s), and
    # shoppers start at different moments, as real ones do.
    parser.add_argument("--think", type=float, nargs="+", default=[0.0, 2.0])
    # 1: `make run` (one Rasa server, one action server); 2: `make run-cluster` on the same
    # 2 cores (nginx in front, a Rasa server per core, conversations sticky to one of them).
    parser.add_argument("--instances", type=at_least_one, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    redis_url, model = redis_and_model("bench-conversation")
    earlier = json.loads(RESULTS.read_text()).get("layouts", {}) if RESULTS.exists() else {}
    results: Dict = {"layouts": {}}
    for instances in args.instances:
        print(f"{LAYOUTS.get(str(instances), f'{instances} instances of each service behind nginx')}:", flush=True)
        with tempfile.TemporaryDirectory() as workdir, running_layout(instances, model, redis_url, Path(workdir)) as assistant:
            layout = asyncio.run(measure(assistant, args.levels, args.think))
        if not args.levels:  # a long-conversations-only run keeps the last levels
            layout["levels"] = earlier.get(str(instances), {}).get("levels", {})
        results["layouts"][str(instances)] = layout
    write_results(RESULTS, results, model, table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
