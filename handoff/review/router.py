"""The trainers' routes (signed in with the trainer or supervisor role): the review inbox,
labelling a message into the training data, and what the live model makes of any text.

GET  /api/trainer/inbox               open items, most frequent first (?intent=&since=&until=&limit=&offset=)
GET  /api/trainer/inbox/daily         messages that landed in the inbox per day (?days=30)
POST /api/trainer/inbox/{key}/label   {intent, text?, spans?, anger?, force?} -> written into data/, item closed
POST /api/trainer/inbox/{key}/ignore  the item leaves the open list
POST /api/trainer/parse               {text} -> the live model's parse (intent ranking, entities, anger)
GET  /api/trainer/meta                the domain's intents and entities (the page's choices)

Labelled examples are written by trainer/examples.py (Rasa's format, files' order and comments
kept, duplicates refused, a conflict with another intent refused unless forced).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Literal, Optional

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from handoff.console.masking import mask_phones
from handoff.deps import CurrentTrainer, RasaDep, ReviewInboxDep, SettingsDep
from handoff.domain import domain_entities, domain_intents
from handoff.errors import api_error
from handoff.rasa_client import RasaUnavailable
from handoff.review.inbox import InboxItem, Status
from trainer.examples import ExampleRefused, WrittenExample, add_anger_example, add_nlu_example

logger = logging.getLogger(__name__)

router = APIRouter(tags=["trainer"])


class InboxItemOut(BaseModel):
    key: str
    text: str
    count: int
    first_seen: float
    last_seen: float
    reasons: List[str]
    predicted_intent: Optional[str]
    confidence: Optional[float]
    conversation_id: Optional[str]
    right_intent: Optional[str]


class Inbox(BaseModel):
    items: List[InboxItemOut]


@router.get("/api/trainer/inbox", response_model=Inbox)
async def open_items(
    trainer: CurrentTrainer,
    inbox: ReviewInboxDep,
    intent: Optional[str] = Query(None, max_length=64),
    since: Optional[float] = None,
    until: Optional[float] = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> Inbox:
    items = await inbox.open_items(limit=limit, offset=offset, intent=intent or None, since=since, until=until)
    return Inbox(items=[_out(item) for item in items])


@router.get("/api/trainer/inbox/daily")
async def daily(trainer: CurrentTrainer, inbox: ReviewInboxDep, days: int = Query(30, ge=1, le=365)) -> Dict:
    return {"days": await inbox.daily_counts(days)}


class Span(BaseModel):
    start: int = Field(..., ge=0)
    end: int = Field(..., ge=1)
    entity: str = Field(..., min_length=1, max_length=64)
    value: Optional[str] = Field(None, max_length=200)


class LabelIn(BaseModel):
    intent: str = Field(..., min_length=1, max_length=64)
    text: Optional[str] = Field(None, min_length=1, max_length=500)  # the item's text, corrected if needed
    spans: List[Span] = Field(default_factory=list, max_items=20)
    anger: Optional[Literal["angry", "calm"]] = None
    force: bool = False  # write even when the same text sits under another intent


class Labelled(BaseModel):
    written_to: List[str]
    warnings: List[str]


@router.post("/api/trainer/inbox/{key}/label", response_model=Labelled)
async def label(key: str, body: LabelIn, trainer: CurrentTrainer, inbox: ReviewInboxDep, settings: SettingsDep) -> Labelled:
    item = await _open_item(inbox, key)
    text = body.text or item.text
    data_dir = Path(settings.training_data_dir)
    try:
        nlu = add_nlu_example(body.intent, text, [span.dict(exclude_none=True) for span in body.spans],
                              data_dir=data_dir, force=body.force)
    except ExampleRefused as refused:
        raise api_error(409, refused.code, refused.message_zh) from refused
    written, warnings = [_where(nlu)], [notice.message_zh for notice in nlu.warnings]
    if body.anger:  # the intent is written by now: a refused anger label is a warning, not a failure
        try:
            anger = add_anger_example(text, body.anger == "angry", data_dir=data_dir, force=body.force)
            written.append(_where(anger))
            warnings += [notice.message_zh for notice in anger.warnings]
        except ExampleRefused as refused:
            warnings.append(f"意图已写入；情绪标注没有写入：{refused.message_zh}")
    await inbox.close(key, Status.labelled, trainer.agent_id, labelled_intent=body.intent)
    logger.info("%s labelled %r as %s", trainer.agent_id, mask_phones(text), body.intent)
    return Labelled(written_to=written, warnings=warnings)


@router.post("/api/trainer/inbox/{key}/ignore", status_code=204)
async def ignore(key: str, trainer: CurrentTrainer, inbox: ReviewInboxDep) -> Response:
    await _open_item(inbox, key)
    await inbox.close(key, Status.ignored, trainer.agent_id)
    return Response(status_code=204)


class ParseIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=500)


@router.post("/api/trainer/parse")
async def parse(body: ParseIn, trainer: CurrentTrainer, rasa: RasaDep) -> Dict:
    try:
        return await rasa.parse(body.text)
    except RasaUnavailable as error:
        raise api_error(503, "bot_unavailable", "模型暂时无法解析，请稍后重试") from error


@router.get("/api/trainer/meta")
async def meta(trainer: CurrentTrainer) -> Dict:
    return {"intents": sorted(domain_intents()), "entities": sorted(domain_entities())}


async def _open_item(inbox: ReviewInboxDep, key: str) -> InboxItem:
    item = await inbox.get(key) if len(key) <= 64 else None
    if item is None:
        raise api_error(404, "item_not_found", "找不到这条消息，可能已过期")
    if item.status != Status.open.value:
        raise api_error(409, "item_closed", "这条消息已经处理过了")
    return item


def _out(item: InboxItem) -> InboxItemOut:
    return InboxItemOut(**{name: getattr(item, name) for name in InboxItemOut.__fields__})


def _where(written: WrittenExample) -> str:
    return f"{written.path.parent.name}/{written.path.name}:{written.line}"
