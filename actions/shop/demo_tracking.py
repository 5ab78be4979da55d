"""Logistics histories for demo parcels: realistic 已揽收 → 运输中 → 派送中 → 已签收 events with cities.

Pure: every random choice comes from the `rng` passed in, so a seed is reproducible.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import List, Optional

from actions.shop.demo_catalog import COURIER_NAMES, Shopper
from actions.shop.models import TrackingEvent

# How far through the trip each step happens (share of the time from pick-up to delivery).
_STEP_SHARES = (0.0, 0.08, 0.16, 0.62, 0.72, 0.86, 0.93)
LOST_TRANSFER_CITY = "武汉"
LOST_MARK = "遗失"  # the word a lost parcel's last event carries

_TRACKING_NUMBER_FORMATS = {
    "顺丰": ("SF", 13),
    "中通": ("78", 12),
    "京东": ("JDVA", 11),
    "圆通": ("YT", 13),
    "韵达": ("43", 11),
}


def tracking_number(carrier: str, rng: random.Random) -> str:
    prefix, digits = _TRACKING_NUMBER_FORMATS[carrier]
    return prefix + "".join(rng.choice("0123456789") for _ in range(digits))


def district_of(shopper: Shopper) -> str:
    match = re.search(r"([^省市]{2,5}区)", shopper.address)
    return match.group(1) if match else ""


def _courier(rng: random.Random) -> str:
    return f"{rng.choice(COURIER_NAMES)}（电话 1{rng.choice('3589')}{rng.randrange(10 ** 8, 10 ** 9)}）"


def _route(carrier: str, origin: str, shopper: Shopper, rng: random.Random) -> List[tuple]:
    """(location, description) of each step before the last one, in order."""
    dest, district = shopper.city, district_of(shopper)
    branch = f"{dest}{district}营业部"
    return [
        (f"{origin}市", f"【{origin}市】{carrier}快递员已揽收，快递员 {_courier(rng)}"),
        (f"{origin}转运中心", f"快件已到达【{origin}转运中心】"),
        (f"{origin}转运中心", f"快件已从【{origin}转运中心】发出，下一站【{dest}转运中心】"),
        (f"{dest}转运中心", f"快件已到达【{dest}转运中心】"),
        (f"{dest}转运中心", f"快件已从【{dest}转运中心】发出，下一站【{branch}】"),
        (branch, f"快件已到达【{branch}】"),
        (branch, f"【{branch}】派送中，快递员 {_courier(rng)} 正在为您派件，请保持电话畅通"),
    ]


def _signing(signed_by: str, shopper: Shopper, rng: random.Random) -> tuple:
    place = f"{shopper.city}{district_of(shopper)}"
    descriptions = {
        "本人": "已签收，签收人：本人。感谢使用，期待再次为您服务",
        "家人": f"已签收，签收人：家人代签（{rng.choice(['父亲', '母亲', '爱人'])}）。如有疑问请联系派件员",
        "快递柜": f"已签收，您的快件已存放至【丰巢智能快递柜·{place}】，取件码 {rng.randrange(100000, 999999)}",
        "驿站": f"已签收，签收人：菜鸟驿站代收（{place}店），取件码 {rng.randrange(1, 30)}-{rng.randrange(1, 6)}-"
        f"{rng.randrange(1000, 9999)}",
        "前台": "已签收，签收人：公司前台代收。如有疑问请联系派件员",
    }
    return place, descriptions[signed_by]


def _events(steps: List[tuple], start: datetime, span: timedelta, rng: random.Random) -> List[TrackingEvent]:
    events = []
    for (location, description), share in zip(steps, _STEP_SHARES, strict=False):  # a lost parcel stops early
        jitter = timedelta(minutes=rng.randrange(0, 20)) if share else timedelta(0)
        offset = timedelta(seconds=round((span * share).total_seconds())) + jitter
        events.append(TrackingEvent(time=start + offset, location=location, description=description))
    return events


def delivered(carrier: str, origin: str, shopper: Shopper, shipped_at: datetime, signed_at: datetime,
              signed_by: str, rng: random.Random) -> List[TrackingEvent]:
    """The whole trip of a parcel signed for at `signed_at`."""
    steps = _route(carrier, origin, shopper, rng)
    events = _events(steps, shipped_at, signed_at - shipped_at, rng)
    location, description = _signing(signed_by, shopper, rng)
    return events + [TrackingEvent(time=signed_at, location=location, description=description)]


def on_the_way(carrier: str, origin: str, shopper: Shopper, shipped_at: datetime, now: datetime,
               rng: random.Random, stuck_after_step: Optional[int] = None) -> List[TrackingEvent]:
    """A trip still under way: every step already due by `now`, or only the first steps when stuck."""
    steps = _route(carrier, origin, shopper, rng)
    events = _events(steps, shipped_at, timedelta(hours=60), rng)
    if stuck_after_step is not None:
        return events[: stuck_after_step + 1]
    return [event for event in events if event.time <= now - timedelta(minutes=10)] or events[:1]


def lost(carrier: str, origin: str, shopper: Shopper, shipped_at: datetime, rng: random.Random) -> List[TrackingEvent]:
    """A parcel that went missing at a transfer centre on the way."""
    hub = f"{LOST_TRANSFER_CITY}转运中心"
    first = _events(_route(carrier, origin, shopper, rng)[:2], shipped_at, timedelta(hours=60), rng)
    return first + [
        TrackingEvent(time=shipped_at + timedelta(hours=11), location=f"{origin}转运中心",
                      description=f"快件已从【{origin}转运中心】发出，下一站【{hub}】"),
        TrackingEvent(time=shipped_at + timedelta(hours=20), location=hub, description=f"快件已到达【{hub}】"),
        TrackingEvent(
            time=shipped_at + timedelta(hours=70), location=hub,
            description=f"快件在【{hub}】操作时发生{LOST_MARK}，快递公司已登记异常件，正在核实处理，给您带来不便深表歉意",
        ),
    ]
