"""The conversation gateway: every shopper message passes here, and here it is decided who answers.

- Owner `bot` or `waiting` (handoff/ownership.py): the message goes to Rasa's REST channel and
  the bot answers; a shopper waiting for a person keeps being helped (and told their place).
- Owner `agent`: the message is written into the Rasa tracker without a bot prediction, for
  the agent (delivery to the console comes with it).
- Free text that starts with "/" is never read by Rasa as a forced intent (`/request_human`,
  `/inform{"order_id": …}`): the gateway keeps it text (a leading "／").
- One message at a time per conversation (`ConversationTurns`), and a reply of `[]` from Rasa
  is checked against the tracker: "nothing to say" is fine, "not recorded" is an error.
- Anger hands off here, after the bot answered: at or above the scorer's threshold, or when
  it rose over the last turns, the gateway runs `action_handoff_to_human` through Rasa's HTTP
  API (the action builds the ticket with everything the bot learned) while the bot goes on
  helping. Rules cannot see the anger score; a request or a complaint hands off by rule.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, List, Sequence, Tuple

from redis.asyncio import Redis

from handoff.ownership import Owner, get_owner
from handoff.rasa_client import RasaClient, RasaUnavailable
from handoff.settings import HandoffSettings

HANDOFF_ACTION = "action_handoff_to_human"
MESSAGE_ID_KEY = "gateway_message_id"  # in the message metadata: finds the message in the tracker
FULLWIDTH_SLASH = "\uff0f"  # ／
MAX_TEXT_CHARS = 2000


class EmptyMessage(ValueError):
    """Nothing to send: the text is empty or whitespace."""


@dataclass
class GatewayReply:
    messages: List[Dict[str, Any]]  # what the shopper reads, as Rasa's REST channel sends it
    owner: Owner  # who answers the conversation now
    handed_off: bool = False  # this message sent the shopper to a person


def as_free_text(text: str) -> str:
    """The shopper's text, never a Rasa command: Rasa reads a text starting with "/" (after
    stripping whitespace) as a forced intent with entities, so a typed leading "/" becomes the
    full-width "／", which our normaliser keeps (bot/text_normalization.py)."""
    stripped = (text or "").strip()
    if not stripped:
        raise EmptyMessage("empty message")
    stripped = stripped[:MAX_TEXT_CHARS]
    return FULLWIDTH_SLASH + stripped[1:] if stripped.startswith("/") else stripped


def shopper_anger(tracker: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The anger results bot/anger.py put on the shopper's messages of this session, oldest first."""
    return [
        (event.get("parse_data") or {}).get("anger") or {}
        for event in tracker.get("events") or []
        if event.get("event") == "user"
    ]


def is_rising(scores: Sequence[float], turns: int, step: float, floor: float) -> bool:
    """The last `turns` scores each rose by at least `step`, the last at `floor` or above."""
    recent = list(scores[-turns:])
    return (
        len(recent) == turns
        and recent[-1] >= floor
        and all(later - earlier >= step - 1e-9 for earlier, later in zip(recent, recent[1:], strict=False))
    )


def anger_calls_for_a_person(tracker: Dict[str, Any], settings: HandoffSettings) -> bool:
    angers = shopper_anger(tracker)
    if not angers:
        return False
    if angers[-1].get("angry"):
        return True
    scores = [float(a.get("score") or 0.0) for a in angers]
    return is_rising(scores, settings.anger_rising_turns, settings.anger_rising_step, settings.anger_rising_floor)


class ConversationTurns:
    """One message at a time per conversation, in this process. Rasa's lock store makes a second
    message of the same conversation wait by polling once a second; queued here, it waits only
    until the first one is answered. (Several gateway processes: sticky routing by conversation.)"""

    def __init__(self) -> None:
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        lock, waiting = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._locks[conversation_id]
            if waiting == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, waiting - 1)

    def __len__(self) -> int:
        return len(self._locks)


def received(tracker: Dict[str, Any], message_id: str) -> bool:
    """Rasa recorded the shopper message the gateway tagged with `message_id`."""
    return any(
        event.get("event") == "user" and (event.get("metadata") or {}).get(MESSAGE_ID_KEY) == message_id
        for event in reversed(tracker.get("events") or [])
    )


class Gateway:
    def __init__(self, redis: Redis, rasa: RasaClient, settings: HandoffSettings) -> None:
        self._redis = redis
        self._rasa = rasa
        self._settings = settings
        self.turns = ConversationTurns()

    async def handle(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> GatewayReply:
        text = as_free_text(text)
        async with self.turns.turn(conversation_id):
            return await self._handle_turn(conversation_id, text, {**metadata, MESSAGE_ID_KEY: uuid.uuid4().hex})

    async def _handle_turn(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> GatewayReply:
        owner = await get_owner(self._redis, conversation_id)
        if owner == Owner.agent:
            await self._record_for_agent(conversation_id, text, metadata)
            return GatewayReply([], owner)
        messages = await self._rasa.send(conversation_id, text, metadata)
        tracker = await self._rasa.tracker(conversation_id)
        if not messages and not received(tracker, metadata[MESSAGE_ID_KEY]):
            # Rasa's REST channel answers 200 [] when anything failed inside: not "nothing to say".
            raise RasaUnavailable("Rasa answered [] and did not record the message")
        owner_now = await get_owner(self._redis, conversation_id)
        if owner_now != Owner.bot:  # a rule handed off (a request, a complaint), or it was waiting already
            return GatewayReply(messages, owner_now, handed_off=owner == Owner.bot)
        if not anger_calls_for_a_person(tracker, self._settings):
            return GatewayReply(messages, owner_now)
        messages += await self._rasa.execute(conversation_id, HANDOFF_ACTION)
        # /execute runs one action and stops; the shopper's next message follows a listen.
        await self._rasa.record(conversation_id, [{"event": "action", "name": "action_listen"}])
        owner = await get_owner(self._redis, conversation_id)
        return GatewayReply(messages, owner, handed_off=owner != Owner.bot)

    async def _record_for_agent(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> None:
        """Into the tracker without a bot prediction, parsed (intent, anger) so that the agent,
        the ticket's transcript and the trainers see what the bot would have understood."""
        parse_data = await self._rasa.parse(text)
        event = {"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata, "input_channel": "gateway"}
        await self._rasa.record(conversation_id, [event])
