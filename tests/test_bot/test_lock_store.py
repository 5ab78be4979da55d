"""The atomic ticket lock against a real Redis, with several "processes" (stores) racing."""

from __future__ import annotations

import asyncio
import json
import threading
from urllib.parse import urlparse

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore


def lock_store(redis_url: str) -> AtomicRedisLockStore:
    parsed = urlparse(redis_url)
    config = EndpointConfig(
        url=parsed.hostname, port=parsed.port, db=int(parsed.path.lstrip("/")), key_prefix="shouhou",
        socket_timeout=2, type="bot.lock_store.AtomicRedisLockStore",
    )
    return AtomicRedisLockStore(config)


def test_tickets_taken_at_once_by_many_processes_are_all_different(redis_url, redis_client):
    stores = [lock_store(redis_url) for _ in range(4)]
    tickets, start = [], threading.Barrier(40)

    def take(store: AtomicRedisLockStore) -> None:
        start.wait()
        tickets.append(store.issue_ticket("c1", 60))

    threads = [threading.Thread(target=take, args=(stores[i % 4],)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(40))  # Rasa's GET/SET store loses some of these
    stored = json.loads(redis_client.get("shouhou:lock:c1"))
    assert [json.loads(t)["number"] for t in stored["tickets"]] == list(range(40))
    assert 0 < redis_client.pttl("shouhou:lock:c1") <= 61_000  # expires with its last ticket (clocks of callers differ by ms)


def test_turns_of_racing_processes_never_overlap_and_the_lock_is_gone_after(redis_url, redis_client):
    stores = [lock_store(redis_url) for _ in range(3)]
    inside, overlaps, served = [0], [], []

    async def turn(store: AtomicRedisLockStore, n: int) -> None:
        async with store.lock("c2", lock_lifetime=30, wait_time_in_seconds=0.005):
            inside[0] += 1
            overlaps.append(inside[0])
            await asyncio.sleep(0.002)
            served.append(n)
            inside[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(turn(stores[n % 3], n) for n in range(30)))

    asyncio.run(main())
    assert max(overlaps) == 1 and sorted(served) == list(range(30))
    assert redis_client.exists("shouhou:lock:c2") == 0


def test_expired_tickets_of_a_dead_process_are_dropped(redis_url, redis_client):
    store = lock_store(redis_url)
    dead = store.issue_ticket("c3", 0.05)  # its process died in the turn
    mine = store.issue_ticket("c3", 30)
    assert store.get_lock("c3").is_locked(mine)
    asyncio.run(asyncio.sleep(0.1))
    store.update_lock("c3")
    assert not store.get_lock("c3").is_locked(mine) and dead != mine
    store.cleanup("c3", mine)
    assert redis_client.exists("shouhou:lock:c3") == 0


def test_redis_down_is_a_lock_error_not_a_hang():
    from rasa.core.lock_store import LockError

    store = lock_store("redis://127.0.0.1:1/0")
    with pytest.raises(LockError):
        store.issue_ticket("c4")
