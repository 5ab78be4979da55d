"""The conversation gateway: every shopper message passes here, and here it is decided who answers.

- Owner `bot` or `waiting` (handoff/ownership.py): the message goes to Rasa's REST channel and
  the bot answers; a shopper waiting for a person keeps being helped (and told their place).
- Owner `agent`: the message is written into the Rasa tracker without a bot prediction, for
  the agent (delivery to the console comes with it).
- Free text that starts with "/" is never read by Rasa as a forced intent (`/request_human`,
  `/inform{"order_id": …}`): the gateway keeps it text (a leading "／").
- One message at a time per conversation, across gateway instances (handoff/turns.py), and a
  reply of `[]` from Rasa is checked against the tracker: "nothing to say" is fine, "not
  recorded" is an error.
- A message is handled once per client message id, also when the instance handling it died
  or failed in the middle: its id stays "pending" with the id Rasa saw, and the resend looks
  in the tracker for it (after Rasa's own lock is free) before sending it to Rasa again.
- Every line of the turn goes into the conversation's feed (handoff/feed.py) inside the turn, so
  the chat page and the console read the shopper's message and its answers in order.
- Buttons reach Rasa as the commands they carry only with a valid signed token (handoff/buttons.py).
- Anger and a bot that is stuck hand off here, after the bot answered: anger at or above the
  scorer's threshold or rising over the last turns, or two messages in a row the NLU did not
  understand (nlu_fallback, in or out of a form); the gateway runs `action_handoff_to_human` through Rasa's HTTP
  API (the action builds the ticket with everything the bot learned) while the bot goes on
  helping. Rules cannot see the anger score; a request or a complaint hands off by rule.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa_sdk import Tracker
from redis.asyncio import Redis
from redis.exceptions import RedisError

from actions.conversation import latest_message_anger
from actions.handoff_packet import build_ticket
from handoff import redis_keys
from handoff.buttons import verify_button, with_signed_buttons
from handoff.feed import ConversationFeed
from handoff.ownership import Owner, get_owner
from handoff.rasa_client import RasaClient, RasaUnavailable
from handoff.review.inbox import Reason as ReviewReason
from handoff.review.inbox import ReviewInbox
from handoff.settings import HandoffSettings
from handoff.tickets.models import INTENT_REASONS, KEEP_WRITING_ZH, OPENING_ZH, HandoffReason
from handoff.tickets.service import TicketService
from handoff.turns import ConversationTurns

logger = logging.getLogger(__name__)

HANDOFF_ACTION = "action_handoff_to_human"
FALLBACK_INTENT = "nlu_fallback"
# Reasons only the gateway sees (a rule cannot read the anger score or count fallbacks).
GATEWAY_REASONS = (HandoffReason.anger, HandoffReason.stuck)
MESSAGE_ID_KEY = "gateway_message_id"  # in the message metadata: finds the message in the tracker
FULLWIDTH_SLASH = "\uff0f"  # ／
MAX_TEXT_CHARS = 2000
CLIENT_ID_MAX_CHARS = 64
CLIENT_ID_KEPT_SECONDS = 24 * 3600
CLIENT_DONE = "done"  # the client message's lines are in the feed
CLIENT_PENDING = "pending:"  # + the message id Rasa was given: a turn started and did not finish
BOT_DATA_KEYS = ("buttons", "image", "custom", "attachment")


class EmptyMessage(ValueError):
    """Nothing to send: the text is empty or whitespace."""


@dataclass(frozen=True)
class ShopperInput:
    """One thing a shopper sent: typed text, or a button (its signed token and the title shown)."""

    text: str
    client_id: Optional[str] = None  # the page's id of this message: a resend is handled once
    photo_ids: Tuple[str, ...] = ()
    button_token: Optional[str] = None


@dataclass
class GatewayReply:
    messages: List[Dict[str, Any]]  # the bot's answers as the page reads them (buttons signed)
    owner: Owner  # who answers the conversation now
    handed_off: bool = False  # this message sent the shopper to a person
    feed_ids: List[str] = field(default_factory=list)  # the feed lines of this turn, shopper's first
    duplicate: bool = False  # this client message id was handled already: nothing was done


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


def shopper_intents(tracker: Dict[str, Any]) -> List[Optional[str]]:
    """The intent the NLU gave each shopper message of this session, oldest first."""
    return [
        ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        for event in tracker.get("events") or []
        if event.get("event") == "user"
    ]


def stuck(tracker: Dict[str, Any], settings: HandoffSettings) -> bool:
    """The bot did not understand the last `fallbacks_before_handoff` messages in a row."""
    recent = shopper_intents(tracker)[-settings.fallbacks_before_handoff:]
    return len(recent) == settings.fallbacks_before_handoff and all(intent == FALLBACK_INTENT for intent in recent)


def reason_for_a_person(tracker: Dict[str, Any], settings: HandoffSettings) -> Optional[HandoffReason]:
    """Why this conversation should go to a person now, if it should."""
    intents = shopper_intents(tracker)
    if intents and intents[-1] in INTENT_REASONS:  # Rasa's rule should have handed it off
        return INTENT_REASONS[intents[-1]]
    if anger_calls_for_a_person(tracker, settings):
        return HandoffReason.anger
    if stuck(tracker, settings):
        return HandoffReason.stuck
    return None


def anger_calls_for_a_person(tracker: Dict[str, Any], settings: HandoffSettings) -> bool:
    angers = shopper_anger(tracker)
    if not angers:
        return False
    if angers[-1].get("angry"):
        return True
    scores = [float(a.get("score") or 0.0) for a in angers]
    return is_rising(scores, settings.anger_rising_turns, settings.anger_rising_step, settings.anger_rising_floor)


def tagged_message(tracker: Dict[str, Any], message_id: str) -> Optional[Dict[str, Any]]:
    """The shopper message (user event) the gateway tagged with `message_id`, if Rasa recorded it."""
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user" and (event.get("metadata") or {}).get(MESSAGE_ID_KEY) == message_id:
            return event
    return None


def parse_of(tracker: Dict[str, Any], message_id: str) -> Dict[str, Any]:
    """What the NLU made of the tagged message ({} if absent)."""
    return (tagged_message(tracker, message_id) or {}).get("parse_data") or {}


def review_reason(parse: Dict[str, Any], handed_off: bool, low_confidence: float) -> Optional[ReviewReason]:
    """Why a trainer should look at this message, if they should (the strongest reason)."""
    intent = parse.get("intent") or {}
    if handed_off:
        return ReviewReason.before_handoff
    if intent.get("name") == FALLBACK_INTENT:
        return ReviewReason.fallback
    if intent and float(intent.get("confidence") or 0.0) < low_confidence:
        return ReviewReason.low_confidence
    return None


def bot_replies_after(tracker: Dict[str, Any], message_id: str) -> List[Dict[str, Any]]:
    """What the bot said after the tagged message, as Rasa's REST channel sends it."""
    events = tracker.get("events") or []
    tagged = tagged_message(tracker, message_id)
    replies: List[Dict[str, Any]] = []
    for event in events[events.index(tagged) + 1 :] if tagged else []:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            data = event.get("data") or {}
            reply = {key: data[key] for key in BOT_DATA_KEYS if data.get(key)}
            replies.append({"text": event["text"], **reply} if event.get("text") else reply)
    return [reply for reply in replies if reply]


def received(tracker: Dict[str, Any], message_id: str) -> bool:
    """Rasa recorded the shopper message the gateway tagged with `message_id`."""
    return tagged_message(tracker, message_id) is not None


def valid_client_id(value: str) -> bool:
    return 0 < len(value) <= CLIENT_ID_MAX_CHARS and all(c.isalnum() or c in "-_" for c in value)


class Gateway:
    def __init__(
        self,
        redis: Redis,
        rasa: RasaClient,
        feed: ConversationFeed,
        tickets: TicketService,
        inbox: ReviewInbox,
        settings: HandoffSettings,
    ) -> None:
        self._redis = redis
        self._rasa = rasa
        self._feed = feed
        self._tickets = tickets
        self._inbox = inbox
        self._settings = settings
        self._button_secret = settings.shopper_token_secret.get_secret_value()
        self.turns = ConversationTurns(redis, wait_seconds=settings.rasa_timeout_seconds * 3)

    async def handle(self, conversation_id: str, sent: ShopperInput, metadata: Dict[str, Any]) -> GatewayReply:
        """Answer one shopper message (InvalidButton, EmptyMessage, RasaUnavailable or TurnTimeout otherwise)."""
        shown = as_free_text(sent.text)
        for_rasa = verify_button(self._button_secret, conversation_id, sent.button_token) if sent.button_token else shown
        async with self.turns.turn(conversation_id):
            message_id, resumed = uuid.uuid4().hex, False
            done_mark = None
            if sent.client_id:
                state = await self._client_state(conversation_id, sent.client_id)
                if state == CLIENT_DONE:
                    return GatewayReply([], await get_owner(self._redis, conversation_id), duplicate=True)
                if state.startswith(CLIENT_PENDING):  # a turn that died or failed half-way
                    message_id, resumed = state[len(CLIENT_PENDING) :], True
                done_mark = await self._mark_pending(conversation_id, sent.client_id, message_id)
            metadata = {**metadata, MESSAGE_ID_KEY: message_id}
            reply = await self._handle_turn(conversation_id, for_rasa, metadata, resumed)
            reply.messages = [self._for_page(conversation_id, message) for message in reply.messages]
            reply.feed_ids = await self._feed.push_many(
                conversation_id, [self._shopper_line(shown, sent), *reply.messages], and_set=done_mark
            )
            return reply

    async def _client_state(self, conversation_id: str, client_id: str) -> str:
        """"" (new), "pending:<message id>" (a turn started it) or "done" (its lines are in the feed)."""
        state = await self._redis.get(self._client_key(conversation_id, client_id))
        return (state.decode() if isinstance(state, bytes) else state) or ""

    async def _mark_pending(self, conversation_id: str, client_id: str, message_id: str) -> Tuple[str, str, int]:
        """Record the id Rasa is given; the "done" mark that goes with the feed lines (one transaction)."""
        key = self._client_key(conversation_id, client_id)
        await self._redis.set(key, CLIENT_PENDING + message_id, ex=CLIENT_ID_KEPT_SECONDS)
        return key, CLIENT_DONE, CLIENT_ID_KEPT_SECONDS

    @staticmethod
    def _client_key(conversation_id: str, client_id: str) -> str:
        return redis_keys.CLIENT_MESSAGE.format(conversation_id=conversation_id, client_id=client_id)

    @staticmethod
    def _shopper_line(shown: str, sent: ShopperInput) -> Dict[str, Any]:
        line: Dict[str, Any] = {"from": "shopper", "text": shown}
        if sent.client_id:
            line["client_id"] = sent.client_id
        if sent.photo_ids:
            line["photo_ids"] = list(sent.photo_ids)
        return line

    def _for_page(self, conversation_id: str, message: Dict[str, Any]) -> Dict[str, Any]:
        line = {key: value for key, value in message.items() if key != "recipient_id"}
        return with_signed_buttons(self._button_secret, conversation_id, {"from": "bot", **line})

    async def _handle_turn(
        self, conversation_id: str, text: str, metadata: Dict[str, Any], resumed: bool = False
    ) -> GatewayReply:
        owner = await get_owner(self._redis, conversation_id)
        recovered = await self._recover(conversation_id, metadata[MESSAGE_ID_KEY]) if resumed else None
        if recovered is not None:  # Rasa has it already: its answers come from the tracker
            tracker, messages = recovered
            if owner == Owner.agent:
                return GatewayReply([], owner)
        elif owner == Owner.agent:
            await self._record_for_agent(conversation_id, text, metadata)
            return GatewayReply([], owner)
        else:
            tracker, messages = await self._send_to_rasa(conversation_id, text, metadata)
        if not messages:
            tracker = await self._tracker_soon(conversation_id)
            if not received(tracker, metadata[MESSAGE_ID_KEY]):
                # Rasa's REST channel answers 200 [] when anything failed inside: not "nothing to say".
                raise RasaUnavailable("Rasa answered [] and did not record the message")
        owner_now = await get_owner(self._redis, conversation_id)
        if owner_now != Owner.bot:  # a rule handed off (a request, a complaint), or it was waiting already
            reply = GatewayReply(messages, owner_now, handed_off=owner == Owner.bot)
        else:
            try:
                tracker = tracker or await self._tracker_soon(conversation_id)
            except RasaUnavailable as error:  # answered already: deliver it; the next message looks again
                logger.warning("anger and fallbacks of %s not checked this turn: %s", conversation_id, error)
                return GatewayReply(messages, Owner.bot)
            reply = await self._maybe_hand_off(conversation_id, tracker, messages)
        await self._review(conversation_id, text, metadata[MESSAGE_ID_KEY], tracker, reply.handed_off)
        return reply

    async def _send_to_rasa(
        self, conversation_id: str, text: str, metadata: Dict[str, Any]
    ) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]]]:
        """The bot's answers (and the tracker when it was read). A Rasa that is only slow (a burst,
        the answer later than the HTTP timeout) still handles the message in order under its
        conversation lock: its answers are taken from the tracker once it has, in this same turn,
        so the shopper neither resends nor sees it out of order. A message Rasa never recorded
        fails the turn (RasaUnavailable)."""
        try:
            return None, await self._rasa.send(conversation_id, text, metadata)
        except RasaUnavailable as error:
            if not error.slow:  # refused or failed: nothing to wait for, the shopper is told at once
                raise
            recovered = await self._recover(conversation_id, metadata[MESSAGE_ID_KEY])
            if recovered is None:
                raise
            return recovered

    async def _recover(self, conversation_id: str, message_id: str) -> Optional[Tuple[Dict[str, Any], List[Dict[str, Any]]]]:
        """The tracker and the bot's answers to a message an earlier turn sent to Rasa, once Rasa
        no longer holds the conversation; None when Rasa never recorded it."""
        deadline = time.monotonic() + self._settings.rasa_timeout_seconds * 2
        rasa_lock = redis_keys.RASA_LOCK.format(conversation_id=conversation_id)
        while await self._redis.exists(rasa_lock) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        tracker = await self._tracker_soon(conversation_id, deadline)
        if not received(tracker, message_id):
            return None
        logger.warning("message %s of %s was answered by a turn that did not finish; its answers resent", message_id, conversation_id)
        return tracker, bot_replies_after(tracker, message_id)

    async def _tracker_soon(self, conversation_id: str, deadline: Optional[float] = None) -> Dict[str, Any]:
        """The tracker, asked again while Rasa is only slow (a GET is safe to repeat) until
        `deadline`, by default one Rasa timeout from now; a Rasa that refuses fails at once."""
        deadline = deadline or time.monotonic() + self._settings.rasa_timeout_seconds
        while True:
            try:
                return await self._rasa.tracker(conversation_id)
            except RasaUnavailable as error:
                if not error.slow or time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.2)

    async def _maybe_hand_off(
        self, conversation_id: str, tracker: Dict[str, Any], messages: List[Dict[str, Any]]
    ) -> GatewayReply:
        reason = reason_for_a_person(tracker, self._settings)
        if reason is None:
            return GatewayReply(messages, Owner.bot)
        messages += await self._hand_off(conversation_id, reason)
        owner = await get_owner(self._redis, conversation_id)
        return GatewayReply(messages, owner, handed_off=owner != Owner.bot)

    async def _review(
        self, conversation_id: str, text: str, message_id: str, tracker: Optional[Dict[str, Any]], handed_off: bool
    ) -> None:
        """Into the trainers' review inbox when the bot was unsure, fell back, or handed off right
        after this message. Never fails the turn."""
        try:
            if tracker is None and not handed_off:
                return  # waiting for a person, nothing new learned: the reply did not need the tracker
            parse = parse_of(tracker or await self._rasa.tracker(conversation_id), message_id)
            reason = review_reason(parse, handed_off, self._settings.inbox_low_confidence)
            if reason is not None:
                intent = parse.get("intent") or {}
                await self._inbox.observe(text, reason, conversation_id, intent.get("name"), intent.get("confidence"))
        except (RasaUnavailable, RedisError) as error:
            logger.warning("message of %s not reviewed: %r", conversation_id, error)

    async def _hand_off(self, conversation_id: str, reason: HandoffReason) -> List[Dict[str, Any]]:
        """Through action_handoff_to_human, which adds the order and the case from the shop; when
        that did not queue the conversation (the action server is down: Rasa only logs "the
        actions events are lost"), the gateway queues it itself from the tracker."""
        if reason in GATEWAY_REASONS:  # a request or a complaint: Rasa's rule has tried the action already
            try:
                await self._rasa.record(conversation_id, [{"event": "slot", "name": "handoff_reason", "value": reason.value}])
                messages = await self._rasa.execute(conversation_id, HANDOFF_ACTION)
                # /execute runs one action and stops; the shopper's next message follows a listen.
                await self._rasa.record(conversation_id, [{"event": "action", "name": "action_listen"}])
                if await get_owner(self._redis, conversation_id) != Owner.bot:
                    return messages
            except RasaUnavailable as error:
                logger.warning("handoff action of %s failed, queueing from the gateway: %s", conversation_id, error)
        logger.warning("conversation %s queued by the gateway (%s): the handoff action did not", conversation_id, reason.value)
        return await self._queue_without_actions(conversation_id, reason)

    async def _queue_without_actions(self, conversation_id: str, reason: HandoffReason) -> List[Dict[str, Any]]:
        tracker = Tracker.from_dict(await self._rasa.tracker(conversation_id))
        score, angry = latest_message_anger(tracker)
        ticket, _ = await self._tickets.enqueue(build_ticket(tracker, reason, angry, score))  # the agent looks up the order
        position = await self._tickets.position(ticket.ticket_id)
        texts = [OPENING_ZH[reason], *([position.message_zh()] if position else []), KEEP_WRITING_ZH]
        events = [{"event": "bot", "text": text} for text in texts] + [
            {"event": "slot", "name": "handoff_ticket_id", "value": ticket.ticket_id},
            {"event": "slot", "name": "handoff_reason", "value": None},
        ]
        try:
            await self._rasa.record(conversation_id, events)
        except RasaUnavailable as error:  # queued either way; the transcript misses these lines
            logger.error("handoff of %s not recorded in Rasa: %s", conversation_id, error)
        return [{"text": text} for text in texts]

    async def _record_for_agent(self, conversation_id: str, text: str, metadata: Dict[str, Any]) -> None:
        """Into the tracker without a bot prediction, parsed (intent, anger) so that the agent,
        the ticket's transcript and the trainers see what the bot would have understood."""
        parse_data = await self._rasa.parse(text)
        event = {"event": "user", "text": text, "parse_data": parse_data, "metadata": metadata, "input_channel": "gateway"}
        await self._rasa.record(conversation_id, [event])
