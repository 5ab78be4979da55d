"""Who answers a conversation: the bot, nobody yet (waiting for a person), or an agent (no FastAPI).

The authoritative state is one Redis hash per conversation (redis_keys.CONVERSATION) with the
fields owner, agent_id, ticket_id (the conversation's open handoff ticket) and updated_at; no
hash means the bot answers. Every move is a compare-and-set in one Lua script: it happens only
if the owner (and, when leaving an agent, that agent) is still what the caller expects, so two
processes can never both move the same conversation. The ticket scripts in
handoff/tickets/service.py write the same fields when they queue or claim a ticket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from typing import Dict, List, Optional, Union

from redis.asyncio import Redis

from handoff import redis_keys


class Owner(str, Enum):
    bot = "bot"  # the bot answers (also when the conversation has no hash yet)
    waiting = "waiting"  # handed off, queued for a person
    agent = "agent"  # a person answers


ALLOWED_TRANSITIONS = frozenset(
    {
        (Owner.bot, Owner.waiting),  # the bot hands off
        (Owner.waiting, Owner.agent),  # an agent takes the conversation
        (Owner.agent, Owner.agent),  # an agent transfers it to another agent
        (Owner.waiting, Owner.bot),  # the shopper gives up waiting, or the bot takes it back
        (Owner.agent, Owner.bot),  # the agent gives it back to the bot
    }
)

# KEYS[1] conversation hash; ARGV[1] expected owner, ARGV[2] expected agent_id ('' = not checked),
# ARGV[3..] field/value pairs to write. Returns 1 when moved, 0 when the state was not the expected one.
TRANSITION_SCRIPT = """
local owner = redis.call('HGET', KEYS[1], 'owner') or 'bot'
if owner ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'agent_id') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 1
"""


class InvalidTransition(ValueError):
    """A move the ownership rules do not allow (e.g. bot -> agent without queueing)."""

    def __init__(self, from_owner: Owner, to_owner: Owner) -> None:
        super().__init__(f"a conversation cannot go from {from_owner.value} to {to_owner.value}")
        self.from_owner = from_owner
        self.to_owner = to_owner


@dataclass(frozen=True)
class Ownership:
    owner: Owner
    agent_id: Optional[str] = None
    ticket_id: Optional[str] = None
    updated_at: Optional[float] = None


async def get_ownership(redis: Redis, conversation_id: str) -> Ownership:
    """The conversation's state; the bot owns a conversation Redis knows nothing about."""
    fields = await redis.hgetall(conversation_key(conversation_id))
    return _parse(fields) if fields else Ownership(owner=Owner.bot)


async def get_owner(redis: Redis, conversation_id: str) -> Owner:
    return (await get_ownership(redis, conversation_id)).owner


async def transition(
    redis: Redis,
    conversation_id: str,
    from_owner: Owner,
    to_owner: Owner,
    *,
    agent_id: Optional[str] = None,
    ticket_id: Optional[str] = None,
    from_agent_id: Optional[str] = None,
    now: Optional[float] = None,
) -> bool:
    """Move the conversation if it is still owned by `from_owner` (and `from_agent_id`, when leaving
    an agent); True when moved, False when someone else moved it first.

    Raises InvalidTransition for a move the rules forbid and ValueError for missing agent ids.
    `ticket_id` replaces the open ticket (None keeps it); going back to the bot clears both ids.
    """
    _check_move(from_owner, to_owner, agent_id, from_agent_id)
    fields = _fields(to_owner, agent_id, ticket_id, time.time() if now is None else now)
    script = redis.register_script(TRANSITION_SCRIPT)
    args = [from_owner.value, from_agent_id or "", *fields]
    moved = await script(keys=[conversation_key(conversation_id)], args=args)
    return bool(moved)


def _check_move(from_owner: Owner, to_owner: Owner, agent_id: Optional[str], from_agent_id: Optional[str]) -> None:
    if (from_owner, to_owner) not in ALLOWED_TRANSITIONS:
        raise InvalidTransition(from_owner, to_owner)
    if to_owner is Owner.agent and not agent_id:
        raise ValueError("moving a conversation to an agent needs the agent_id")
    if from_owner is Owner.agent and not from_agent_id:
        raise ValueError("moving a conversation away from an agent needs that agent's id (from_agent_id)")


def _fields(to_owner: Owner, agent_id: Optional[str], ticket_id: Optional[str], now: float) -> List[str]:
    new_agent_id = agent_id if to_owner is Owner.agent else None
    fields = ["owner", to_owner.value, "agent_id", new_agent_id or ""]
    if to_owner is Owner.bot:
        fields += ["ticket_id", ""]
    elif ticket_id is not None:
        fields += ["ticket_id", ticket_id]
    return fields + ["updated_at", repr(now)]


def conversation_key(conversation_id: str) -> str:
    """The conversation's hash (the ticket scripts write it too)."""
    if not conversation_id:
        raise ValueError("a conversation_id is required")
    return redis_keys.CONVERSATION.format(conversation_id=conversation_id)


def _parse(fields: Dict[Union[bytes, str], Union[bytes, str]]) -> Ownership:
    values = {_text(key): _text(value) for key, value in fields.items()}
    updated_at = values.get("updated_at")
    return Ownership(
        owner=Owner(values.get("owner") or Owner.bot.value),
        agent_id=values.get("agent_id") or None,
        ticket_id=values.get("ticket_id") or None,
        updated_at=float(updated_at) if updated_at else None,
    )


def _text(value: Union[bytes, str]) -> str:
    return value.decode() if isinstance(value, bytes) else value
