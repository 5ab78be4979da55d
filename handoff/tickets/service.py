"""TicketService: the handoff queue in Redis (no FastAPI).

- enqueue: one open ticket per conversation (idempotent, one Lua script), queued by priority and
  then by creation; the conversation moves bot -> waiting and a `ticket_created` event goes to the
  stream the agents' console reads.
- claim: one Lua script, so exactly one agent wins a waiting ticket; the conversation moves to them.
- position: tickets ahead and the expected wait, from the agents whose heartbeat is recent.

Ticket ids are made here (secrets.token_urlsafe); times are unix seconds from `clock`.
Keys: handoff/redis_keys.py; the conversation hash's fields: handoff/ownership.py.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Dict, List, Optional, Tuple, Union

from redis.asyncio import Redis

from handoff import redis_keys
from handoff.ownership import Owner, conversation_key
from handoff.settings import HandoffSettings
from handoff.tickets.models import QueuePosition, TicketIn, TicketOut, TicketStatus, is_ticket_id

logger = logging.getLogger(__name__)

OPEN_STATUSES = {TicketStatus.waiting, TicketStatus.claimed}
# The events stream keeps about this many entries (XADD MAXLEN ~).
EVENTS_MAX_LEN = 10_000

# Queue a ticket unless the conversation has one open. KEYS: 1 conversation hash, 2 new ticket hash,
# 3 queue, 4 sequence counter, 5 events stream. ARGV: 1 ticket id, 2 priority, 3 now, 4 TicketIn JSON,
# 5 conversation id, 6 events max length, 7 id of a broken open ticket to replace ('' = none).
# Score: the priority followed by the 12-digit creation sequence, so priority first, then age.
# Returns {1 if created else 0, id of the conversation's open ticket, owner before}.
ENQUEUE_SCRIPT = """
local owner = redis.call('HGET', KEYS[1], 'owner') or 'bot'
local open = redis.call('HGET', KEYS[1], 'ticket_id') or ''
if owner ~= 'bot' and open ~= '' and open ~= ARGV[7] then return {0, open, owner} end
local sequence = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], 'conversation_id', ARGV[5], 'status', 'waiting', 'priority', ARGV[2],
  'created_at', ARGV[3], 'agent_id', '', 'ticket', ARGV[4])
redis.call('ZADD', KEYS[3], string.format('%d%012d', tonumber(ARGV[2]), sequence), ARGV[1])
redis.call('HSET', KEYS[1], 'owner', 'waiting', 'agent_id', '', 'ticket_id', ARGV[1], 'updated_at', ARGV[3])
redis.call('PERSIST', KEYS[1])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[6], '*', 'type', 'ticket_created', 'ticket_id', ARGV[1])
return {1, ARGV[1], owner}
"""

# Give a waiting ticket to one agent. KEYS: 1 ticket hash, 2 queue, 3 conversation hash, 4 events stream,
# 5 the agent's held tickets. ARGV: 1 ticket id, 2 agent id, 3 now, 4 events max length.
# Returns {outcome, agent who has the ticket (won/already_claimed) or the ticket's status}.
CLAIM_SCRIPT = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found', ''} end
if status == 'claimed' then return {'already_claimed', redis.call('HGET', KEYS[1], 'agent_id')} end
if status ~= 'waiting' then return {'not_waiting', status} end
redis.call('HSET', KEYS[1], 'status', 'claimed', 'agent_id', ARGV[2], 'claimed_at', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[5], ARGV[1])
redis.call('HSET', KEYS[3], 'owner', 'agent', 'agent_id', ARGV[2], 'ticket_id', ARGV[1], 'updated_at', ARGV[3])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'type', 'ticket_claimed', 'ticket_id', ARGV[1],
  'agent_id', ARGV[2])
return {'won', ARGV[2]}
"""

# Give a claimed ticket back to the bot, by the agent who has it. KEYS: 1 ticket hash, 2 conversation hash,
# 3 events stream, 4 the agent's held tickets, 5 the ticket's notes. ARGV: 1 ticket id, 2 agent id, 3 now, 4 note,
# 5 events max length, 6 retention seconds: a finished ticket (transcript, notes) and the conversation's ownership
# record (the bot answers again) expire that long after it ended.
# Returns {outcome, the agent who has it (not_yours) or the ticket's status (not_claimed)}.
RETURN_SCRIPT = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found', ''} end
if status ~= 'claimed' then return {'not_claimed', status} end
local agent = redis.call('HGET', KEYS[1], 'agent_id')
if agent ~= ARGV[2] then return {'not_yours', agent} end
redis.call('HSET', KEYS[1], 'status', 'returned', 'returned_at', ARGV[3], 'note', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[5], ARGV[6])
redis.call('SREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[2], 'owner', 'bot', 'agent_id', '', 'ticket_id', '', 'updated_at', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'type', 'ticket_returned', 'ticket_id', ARGV[1],
  'agent_id', ARGV[2])
return {'done', agent}
"""

# Hand a claimed ticket to another agent. KEYS: 1 ticket hash, 2 conversation hash, 3 events stream,
# 4 the giving agent's held tickets, 5 the receiving agent's. ARGV: 1 ticket id, 2 from agent, 3 to agent, 4 now, 5 events max length. Same refusals as returning.
TRANSFER_SCRIPT = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found', ''} end
if status ~= 'claimed' then return {'not_claimed', status} end
local agent = redis.call('HGET', KEYS[1], 'agent_id')
if agent ~= ARGV[2] then return {'not_yours', agent} end
redis.call('HSET', KEYS[1], 'agent_id', ARGV[3], 'transferred_at', ARGV[4])
redis.call('SMOVE', KEYS[4], KEYS[5], ARGV[1])
redis.call('HSET', KEYS[2], 'owner', 'agent', 'agent_id', ARGV[3], 'updated_at', ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'type', 'ticket_transferred', 'ticket_id', ARGV[1],
  'from_agent_id', ARGV[2], 'agent_id', ARGV[3])
return {'done', ARGV[3]}
"""


class HandOverOutcome(str, Enum):
    """How handing a claimed ticket over went (back to the bot, or to another agent)."""

    done = "done"
    not_found = "not_found"
    not_claimed = "not_claimed"  # still waiting, or already returned or closed
    not_yours = "not_yours"  # another agent has it


class ClaimOutcome(str, Enum):
    won = "won"
    already_claimed = "already_claimed"
    not_found = "not_found"
    not_waiting = "not_waiting"  # returned or closed


@dataclass(frozen=True)
class ClaimResult:
    outcome: ClaimOutcome
    agent_id: Optional[str] = None  # who has the ticket: the caller when won, another agent when already claimed
    status: Optional[TicketStatus] = None  # the ticket's status when it was not waiting

    @property
    def won(self) -> bool:
        return self.outcome is ClaimOutcome.won


class TicketService:
    def __init__(self, redis: Redis, settings: HandoffSettings, clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._settings = settings
        self._clock = clock
        self._enqueue = redis.register_script(ENQUEUE_SCRIPT)
        self._claim = redis.register_script(CLAIM_SCRIPT)
        self._return = redis.register_script(RETURN_SCRIPT)
        self._transfer = redis.register_script(TRANSFER_SCRIPT)

    async def enqueue(self, ticket_in: TicketIn) -> Tuple[TicketOut, bool]:
        """The conversation's open ticket, created and queued unless it already had one."""
        created, ticket, open_id = await self._enqueue_once(ticket_in, replace="")
        if ticket is None:  # the conversation points at a ticket that is gone or finished: replace it
            created, ticket, _ = await self._enqueue_once(ticket_in, replace=open_id)
        if ticket is None:
            raise RuntimeError(f"conversation {ticket_in.conversation_id} has no usable open ticket")
        return ticket, created

    async def get(self, ticket_id: str) -> Optional[TicketOut]:
        if not is_ticket_id(ticket_id):
            return None
        fields = await self._redis.hgetall(_ticket_key(ticket_id))
        return _parse_ticket(ticket_id, fields) if fields else None

    async def waiting(self) -> List[TicketOut]:
        """The waiting tickets, the next one to serve first."""
        return await self._tickets([_text(member) for member in await self._redis.zrange(redis_keys.TICKET_QUEUE, 0, -1)])

    async def held_by(self, agent_id: str) -> List[TicketOut]:
        """The tickets an agent holds now (claimed by them or transferred to them), oldest first."""
        tickets = await self._tickets([_text(member) for member in await self._redis.smembers(_held_key(agent_id))])
        held = [t for t in tickets if t.status == TicketStatus.claimed and t.agent_id == agent_id]
        return sorted(held, key=lambda ticket: ticket.created_at)

    async def _tickets(self, ticket_ids: List[str]) -> List[TicketOut]:
        """These tickets in one round trip, in the given order (ids without a ticket left out)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for ticket_id in ticket_ids:
                pipe.hgetall(_ticket_key(ticket_id))
            rows = await pipe.execute()
        return [_parse_ticket(ticket_id, fields) for ticket_id, fields in zip(ticket_ids, rows, strict=True) if fields]

    async def position(self, ticket_id: str) -> Optional[QueuePosition]:
        """Where a waiting ticket stands; None when it is not in the queue."""
        ahead = await self._redis.zrank(redis_keys.TICKET_QUEUE, ticket_id) if is_ticket_id(ticket_id) else None
        if ahead is None:
            return None
        online = await self.agents_online()
        minutes = expected_wait_minutes(ahead, online, self._settings.handoff_minutes_per_ticket)
        return QueuePosition(ticket_id=ticket_id, ahead=ahead, expected_wait_minutes=minutes, agents_online=online)

    async def with_position(self, ticket: TicketOut) -> TicketOut:
        return ticket.copy(update={"position": await self.position(ticket.ticket_id)})

    async def claim(self, ticket_id: str, agent_id: str) -> ClaimResult:
        """Exactly one agent wins a waiting ticket; everyone else learns why not."""
        if not agent_id:
            raise ValueError("claiming a ticket needs the agent_id")
        if not is_ticket_id(ticket_id):
            return ClaimResult(ClaimOutcome.not_found)
        conversation_id = await self._redis.hget(_ticket_key(ticket_id), "conversation_id")  # never changes
        if conversation_id is None:
            return ClaimResult(ClaimOutcome.not_found)
        conversation = conversation_key(_text(conversation_id))
        keys = [_ticket_key(ticket_id), redis_keys.TICKET_QUEUE, conversation, redis_keys.TICKET_EVENTS,
                _held_key(agent_id)]
        args = [ticket_id, agent_id, repr(self._clock()), EVENTS_MAX_LEN]
        outcome, detail = await self._claim(keys=keys, args=args)
        return _claim_result(ClaimOutcome(_text(outcome)), _text(detail))

    async def return_to_bot(self, ticket_id: str, agent_id: str, note: str = "") -> Tuple[HandOverOutcome, str]:
        """The agent who has the ticket gives the conversation back to the bot, with a note:
        (outcome, the other agent or the ticket's status when refused)."""
        ticket = await self.get(ticket_id)
        if ticket is None:
            return HandOverOutcome.not_found, ""
        keys = [_ticket_key(ticket_id), conversation_key(ticket.ticket.conversation_id), redis_keys.TICKET_EVENTS,
                _held_key(agent_id), redis_keys.TICKET_NOTES.format(ticket_id=ticket_id)]
        args = [ticket_id, agent_id, repr(self._clock()), note, EVENTS_MAX_LEN, self._settings.conversation_retention_seconds]
        outcome, detail = await self._return(keys=keys, args=args)
        return HandOverOutcome(_text(outcome)), _text(detail)

    async def transfer(self, ticket_id: str, from_agent_id: str, to_agent_id: str) -> Tuple[HandOverOutcome, str]:
        """The agent who has the ticket hands it (and the conversation) to another agent."""
        ticket = await self.get(ticket_id)
        if ticket is None:
            return HandOverOutcome.not_found, ""
        keys = [_ticket_key(ticket_id), conversation_key(ticket.ticket.conversation_id), redis_keys.TICKET_EVENTS,
                _held_key(from_agent_id), _held_key(to_agent_id)]
        args = [ticket_id, from_agent_id, to_agent_id, repr(self._clock()), EVENTS_MAX_LEN]
        outcome, detail = await self._transfer(keys=keys, args=args)
        return HandOverOutcome(_text(outcome)), _text(detail)

    async def mark_agent_online(self, agent_id: str, at: Optional[float] = None) -> None:
        """Record an agent's heartbeat (now, unless `at` is given)."""
        if not agent_id:
            raise ValueError("a heartbeat needs the agent_id")
        await self._redis.zadd(redis_keys.AGENTS_ONLINE, {agent_id: self._clock() if at is None else at})

    async def agents_online(self) -> int:
        """Agents with a heartbeat within agent_heartbeat_seconds; older entries are pruned."""
        cutoff = self._clock() - self._settings.agent_heartbeat_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(redis_keys.AGENTS_ONLINE, "-inf", f"({cutoff!r}")
            pipe.zcard(redis_keys.AGENTS_ONLINE)
            _, count = await pipe.execute()
        return int(count)

    async def _enqueue_once(self, ticket_in: TicketIn, replace: str) -> Tuple[bool, Optional[TicketOut], str]:
        """(created, ticket, open ticket id); ticket None when the conversation's open ticket is broken."""
        ticket_id, now = secrets.token_urlsafe(12), self._clock()
        created, open_id, owner_before = await self._run_enqueue(ticket_in, ticket_id, now, replace)
        if created:
            _log_queued(ticket_in.conversation_id, ticket_id, owner_before)
            return True, _fresh_ticket(ticket_id, ticket_in, now), ticket_id
        existing = await self.get(open_id)
        if existing is not None and existing.status in OPEN_STATUSES:
            return False, existing, open_id
        state = existing.status.value if existing else "missing"
        conversation_id = ticket_in.conversation_id
        logger.error("data error: conversation %s has open ticket %s, which is %s", conversation_id, open_id, state)
        return False, None, open_id

    async def _run_enqueue(
        self, ticket_in: TicketIn, ticket_id: str, now: float, replace: str
    ) -> Tuple[bool, str, str]:
        """The enqueue script: (created, id of the conversation's open ticket, owner before)."""
        keys = [
            conversation_key(ticket_in.conversation_id),
            _ticket_key(ticket_id),
            redis_keys.TICKET_QUEUE,
            redis_keys.TICKET_SEQUENCE,
            redis_keys.TICKET_EVENTS,
        ]
        ticket_json = ticket_in.json(ensure_ascii=False)
        conversation_id = ticket_in.conversation_id
        args = [ticket_id, ticket_in.priority, repr(now), ticket_json, conversation_id, EVENTS_MAX_LEN, replace]
        created, open_id, owner_before = await self._enqueue(keys=keys, args=args)
        return created == 1, _text(open_id), _text(owner_before)


def expected_wait_minutes(ahead: int, agents_online: int, minutes_per_ticket: float) -> int:
    """Whole minutes until this ticket is served: its turn and everyone's ahead, shared by the agents online."""
    return math.ceil(round((ahead + 1) * minutes_per_ticket / max(agents_online, 1), 6))


def _fresh_ticket(ticket_id: str, ticket_in: TicketIn, now: float) -> TicketOut:
    return TicketOut(
        ticket_id=ticket_id, status=TicketStatus.waiting, priority=ticket_in.priority, created_at=now, ticket=ticket_in
    )


def _log_queued(conversation_id: str, ticket_id: str, owner_before: str) -> None:
    if owner_before != Owner.bot.value:
        logger.error("data error: conversation %s was %s without an open ticket", conversation_id, owner_before)
    logger.info("queued ticket %s for conversation %s", ticket_id, conversation_id)


def _claim_result(outcome: ClaimOutcome, detail: str) -> ClaimResult:
    if outcome is ClaimOutcome.not_waiting:
        return ClaimResult(outcome, status=TicketStatus(detail))
    return ClaimResult(outcome, agent_id=detail or None)


def _parse_ticket(ticket_id: str, fields: Dict[Union[bytes, str], Union[bytes, str]]) -> TicketOut:
    values = {_text(key): _text(value) for key, value in fields.items()}
    return TicketOut(
        ticket_id=ticket_id,
        status=TicketStatus(values["status"]),
        priority=int(values["priority"]),
        created_at=float(values["created_at"]),
        agent_id=values.get("agent_id") or None,
        ticket=TicketIn.parse_raw(values["ticket"]),
    )


def _ticket_key(ticket_id: str) -> str:
    return redis_keys.TICKET.format(ticket_id=ticket_id)


def _held_key(agent_id: str) -> str:
    return redis_keys.AGENT_TICKETS.format(agent_id=agent_id)


def _text(value: Union[bytes, str, int]) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
