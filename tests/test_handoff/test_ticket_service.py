"""TicketService on a real Redis: one open ticket per conversation, queue order, waits, and exactly-once claims."""

from __future__ import annotations

import asyncio
import logging
from typing import List

import pytest
from pydantic import ValidationError
from redis.asyncio import Redis

from handoff import redis_keys
from handoff.ownership import Owner, Ownership, get_ownership, transition
from handoff.settings import HandoffSettings
from handoff.tickets.models import TicketStatus, is_ticket_id
from handoff.tickets.service import ClaimOutcome, ClaimResult, TicketService, expected_wait_minutes
from tests.test_handoff.conftest import ticket_in

START = 1_717_200_000.0


class Clock:
    """The service's time, moved by the test instead of waiting."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += seconds


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def service(redis: Redis, settings: HandoffSettings, clock: Clock) -> TicketService:
    return TicketService(redis, settings, clock=clock)


@pytest.fixture()
def other_service(other_redis: Redis, settings: HandoffSettings, clock: Clock) -> TicketService:
    """The same service in a second process: its own Redis connection."""
    return TicketService(other_redis, settings, clock=clock)


async def queue_ids(service: TicketService) -> List[str]:
    return [ticket.ticket_id for ticket in await service.waiting()]


async def event_types(redis: Redis) -> List[str]:
    return [fields[b"type"].decode() for _, fields in await redis.xrange(redis_keys.TICKET_EVENTS)]


async def enqueue_id(
    service: TicketService, clock: Clock, conversation_id: str, reason: str, angry: bool = False
) -> str:
    clock.advance()
    ticket, _ = await service.enqueue(ticket_in(conversation_id, reason, angry))
    return ticket.ticket_id


# -- enqueue ---------------------------------------------------------------------------------------------------------


async def test_a_handoff_queues_a_ticket_and_moves_the_conversation_to_waiting(
    service: TicketService, redis: Redis
) -> None:
    ticket, created = await service.enqueue(ticket_in("conv-1", "complaint"))

    assert created and is_ticket_id(ticket.ticket_id)
    assert (ticket.status, ticket.priority, ticket.agent_id) == (TicketStatus.waiting, 0, None)
    assert ticket.created_at == START
    assert await service.get(ticket.ticket_id) == ticket
    assert (await service.get(ticket.ticket_id)).ticket.transcript[0].text == "杯子到了就是碎的"
    assert await queue_ids(service) == [ticket.ticket_id]
    assert await get_ownership(redis, "conv-1") == Ownership(Owner.waiting, None, ticket.ticket_id, START)
    [(_, event)] = await redis.xrange(redis_keys.TICKET_EVENTS)
    assert event == {b"type": b"ticket_created", b"ticket_id": ticket.ticket_id.encode()}


async def test_a_second_handoff_of_the_conversation_returns_its_open_ticket(
    service: TicketService, redis: Redis, clock: Clock
) -> None:
    first, _ = await service.enqueue(ticket_in("conv-1"))
    clock.advance(30)
    again, created = await service.enqueue(ticket_in("conv-1", "complaint"))

    assert not created and again == first
    assert await queue_ids(service) == [first.ticket_id]
    assert await event_types(redis) == ["ticket_created"]


async def test_a_claimed_ticket_is_still_the_conversations_open_ticket(service: TicketService) -> None:
    first, _ = await service.enqueue(ticket_in("conv-1"))
    await service.claim(first.ticket_id, "agent-1")
    again, created = await service.enqueue(ticket_in("conv-1"))
    assert not created and again.ticket_id == first.ticket_id and again.status is TicketStatus.claimed


async def test_two_handoffs_of_one_conversation_at_once_make_one_ticket(
    service: TicketService, other_service: TicketService, redis: Redis
) -> None:
    for index in range(10):
        conversation_id = f"conv-race-{index}"
        results = await asyncio.gather(
            service.enqueue(ticket_in(conversation_id)), other_service.enqueue(ticket_in(conversation_id))
        )
        assert sorted(created for _, created in results) == [False, True]
        assert results[0][0].ticket_id == results[1][0].ticket_id
    assert await redis.zcard(redis_keys.TICKET_QUEUE) == 10
    assert await redis.xlen(redis_keys.TICKET_EVENTS) == 10


async def test_a_conversation_waiting_without_a_ticket_is_a_data_error_but_still_queued(
    service: TicketService, redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    await transition(redis, "conv-1", Owner.bot, Owner.waiting)  # no ticket: should not happen
    with caplog.at_level(logging.ERROR, logger="handoff.tickets.service"):
        ticket, created = await service.enqueue(ticket_in("conv-1"))
    assert created and await queue_ids(service) == [ticket.ticket_id]
    assert (await get_ownership(redis, "conv-1")).ticket_id == ticket.ticket_id
    assert "data error: conversation conv-1 was waiting without an open ticket" in caplog.text


@pytest.mark.parametrize("breakage", ["missing", "closed"])
async def test_an_open_ticket_that_is_gone_or_closed_is_replaced(
    service: TicketService, redis: Redis, caplog: pytest.LogCaptureFixture, breakage: str
) -> None:
    old, _ = await service.enqueue(ticket_in("conv-1"))
    old_key = redis_keys.TICKET.format(ticket_id=old.ticket_id)
    if breakage == "missing":
        await redis.delete(old_key)
    else:
        await redis.hset(old_key, "status", "closed")
    await redis.zrem(redis_keys.TICKET_QUEUE, old.ticket_id)

    with caplog.at_level(logging.ERROR, logger="handoff.tickets.service"):
        new, created = await service.enqueue(ticket_in("conv-1"))
    assert created and new.ticket_id != old.ticket_id
    assert await queue_ids(service) == [new.ticket_id]
    assert (await get_ownership(redis, "conv-1")).ticket_id == new.ticket_id
    assert f"has open ticket {old.ticket_id}, which is {breakage}" in caplog.text


# -- queue order -----------------------------------------------------------------------------------------------------


async def test_a_complaint_queued_after_a_plain_request_is_served_first(service: TicketService, clock: Clock) -> None:
    request = await enqueue_id(service, clock, "conv-1", "requested")
    complaint = await enqueue_id(service, clock, "conv-2", "complaint")
    assert await queue_ids(service) == [complaint, request]


async def test_priorities_first_then_the_earliest_created(service: TicketService, clock: Clock) -> None:
    stuck = await enqueue_id(service, clock, "conv-1", "stuck")
    request = await enqueue_id(service, clock, "conv-2", "requested")
    policy = await enqueue_id(service, clock, "conv-3", "policy")  # same priority as a request, created later
    angry_request = await enqueue_id(service, clock, "conv-4", "requested", angry=True)  # counts as anger
    later_request = await enqueue_id(service, clock, "conv-5", "requested")
    complaint = await enqueue_id(service, clock, "conv-6", "complaint")
    assert await queue_ids(service) == [complaint, angry_request, request, policy, later_request, stuck]


async def test_equal_priorities_keep_creation_order_even_within_one_clock_tick(service: TicketService) -> None:
    ids = [(await service.enqueue(ticket_in(f"conv-{index}")))[0].ticket_id for index in range(12)]
    assert await queue_ids(service) == ids


# -- position and expected wait ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "agents", "minutes_per_ticket", "expected"),
    [(0, 0, 3.0, 3), (2, 0, 3.0, 9), (2, 1, 3.0, 9), (2, 2, 3.0, 5), (3, 2, 3.0, 6), (0, 4, 3.0, 1), (2, 1, 0.1, 1)],
)
def test_the_expected_wait_is_everyone_up_to_this_ticket_shared_by_the_agents(
    ahead: int, agents: int, minutes_per_ticket: float, expected: int
) -> None:
    assert expected_wait_minutes(ahead, agents, minutes_per_ticket) == expected


async def test_position_counts_the_tickets_ahead_and_the_agents_online(service: TicketService, clock: Clock) -> None:
    ids = [await enqueue_id(service, clock, f"conv-{index}", "requested") for index in range(3)]

    nobody = await service.position(ids[2])
    assert (nobody.ahead, nobody.agents_online, nobody.expected_wait_minutes) == (2, 0, 9)
    assert nobody.message_zh().startswith("正在为您转接人工客服。现在暂时没有客服在线")

    await service.mark_agent_online("agent-1")
    one = await service.position(ids[2])
    assert (one.agents_online, one.expected_wait_minutes) == (1, 9)
    assert one.message_zh() == "正在为您转接人工客服，您前面还有2位，预计等待9分钟。"

    await service.mark_agent_online("agent-2")
    two = await service.position(ids[2])
    assert (two.agents_online, two.expected_wait_minutes) == (2, 5)
    assert (await service.position(ids[0])).ahead == 0


async def test_heartbeats_older_than_the_window_do_not_count_and_are_pruned(
    service: TicketService, redis: Redis, clock: Clock, settings: HandoffSettings
) -> None:
    window = settings.agent_heartbeat_seconds
    await service.mark_agent_online("agent-stale", at=clock.now - window - 1)
    await service.mark_agent_online("agent-edge", at=clock.now - window)
    await service.mark_agent_online("agent-fresh")
    assert await service.agents_online() == 2
    assert await redis.zrange(redis_keys.AGENTS_ONLINE, 0, -1) == [b"agent-edge", b"agent-fresh"]

    clock.advance(1)  # agent-edge's heartbeat falls out of the window
    assert await service.agents_online() == 1


async def test_only_waiting_tickets_have_a_position(service: TicketService) -> None:
    ticket, _ = await service.enqueue(ticket_in("conv-1"))
    await service.claim(ticket.ticket_id, "agent-1")
    assert await service.position(ticket.ticket_id) is None
    assert await service.position("AAAAAAAAAAAAAAAA") is None
    assert await service.position("../not-an-id") is None


# -- claim ---------------------------------------------------------------------------------------------------------------


async def test_an_agent_claims_a_waiting_ticket_and_answers_the_conversation(
    service: TicketService, redis: Redis, clock: Clock
) -> None:
    ticket, _ = await service.enqueue(ticket_in("conv-1"))
    clock.advance(90)
    assert await service.claim(ticket.ticket_id, "agent-1") == ClaimResult(ClaimOutcome.won, agent_id="agent-1")

    claimed = await service.get(ticket.ticket_id)
    assert (claimed.status, claimed.agent_id) == (TicketStatus.claimed, "agent-1")
    assert await service.waiting() == []
    assert await get_ownership(redis, "conv-1") == Ownership(Owner.agent, "agent-1", ticket.ticket_id, START + 90)
    assert await event_types(redis) == ["ticket_created", "ticket_claimed"]


async def test_two_agents_claiming_at_once_exactly_one_wins_and_the_other_learns_who(
    service: TicketService, other_service: TicketService, redis: Redis
) -> None:
    for index in range(10):
        ticket, _ = await service.enqueue(ticket_in(f"conv-{index}"))
        first, second = await asyncio.gather(
            service.claim(ticket.ticket_id, "agent-1"), other_service.claim(ticket.ticket_id, "agent-2")
        )
        winner, loser = (first, second) if first.won else (second, first)
        assert winner.won and loser.outcome is ClaimOutcome.already_claimed
        assert loser.agent_id == winner.agent_id
        assert (await service.get(ticket.ticket_id)).agent_id == winner.agent_id
        assert (await get_ownership(redis, f"conv-{index}")).agent_id == winner.agent_id
    assert await redis.xlen(redis_keys.TICKET_EVENTS) == 20  # 10 created, 10 claimed: no double claim


async def test_claiming_a_claimed_unknown_or_finished_ticket_is_refused(service: TicketService, redis: Redis) -> None:
    ticket, _ = await service.enqueue(ticket_in("conv-1"))
    await service.claim(ticket.ticket_id, "agent-1")
    again = await service.claim(ticket.ticket_id, "agent-2")
    assert again == ClaimResult(ClaimOutcome.already_claimed, agent_id="agent-1")
    assert (await get_ownership(redis, "conv-1")).agent_id == "agent-1"

    assert await service.claim("AAAAAAAAAAAAAAAA", "agent-1") == ClaimResult(ClaimOutcome.not_found)
    assert await service.claim("not a ticket id", "agent-1") == ClaimResult(ClaimOutcome.not_found)

    closed, _ = await service.enqueue(ticket_in("conv-2"))
    await redis.hset(redis_keys.TICKET.format(ticket_id=closed.ticket_id), "status", "closed")
    refused = await service.claim(closed.ticket_id, "agent-1")
    assert refused == ClaimResult(ClaimOutcome.not_waiting, status=TicketStatus.closed)
    assert (await get_ownership(redis, "conv-2")).owner is Owner.waiting


async def test_missing_agent_ids_are_clear_errors(service: TicketService) -> None:
    ticket, _ = await service.enqueue(ticket_in("conv-1"))
    with pytest.raises(ValueError, match="needs the agent_id"):
        await service.claim(ticket.ticket_id, "")
    with pytest.raises(ValueError, match="needs the agent_id"):
        await service.mark_agent_online("")


# -- restart -------------------------------------------------------------------------------------------------------------


async def test_a_new_service_after_a_restart_sees_the_same_queue(
    service: TicketService, other_redis: Redis, settings: HandoffSettings, clock: Clock
) -> None:
    request = await enqueue_id(service, clock, "conv-1", "requested")
    complaint = await enqueue_id(service, clock, "conv-2", "complaint")
    await service.mark_agent_online("agent-1")

    restarted = TicketService(other_redis, settings, clock=clock)
    assert await queue_ids(restarted) == [complaint, request]
    assert (await restarted.position(request)).ahead == 1
    assert await restarted.agents_online() == 1
    assert (await restarted.claim(complaint, "agent-1")).won
    again, created = await restarted.enqueue(ticket_in("conv-1"))
    assert not created and again.ticket_id == request


def test_the_queue_settings_have_defaults_and_refuse_nonsense() -> None:
    defaults = HandoffSettings(_env_file=None)
    assert (defaults.handoff_minutes_per_ticket, defaults.agent_heartbeat_seconds) == (3.0, 60)
    with pytest.raises(ValidationError, match="handoff_minutes_per_ticket"):
        HandoffSettings(_env_file=None, handoff_minutes_per_ticket=0)
    with pytest.raises(ValidationError, match="agent_heartbeat_seconds"):
        HandoffSettings(_env_file=None, agent_heartbeat_seconds=-5)
