"""A real conversation becomes a Rasa test story: "save as test story" in the trainers' page or
the console writes Rasa's own export of it (GET /conversations/{id}/story) into
tests/saved_stories/test_<name>.yml, phone numbers masked.

POST /api/staff/conversations/{conversation_id}/test-story   {name} -> {"path"}

Saved stories are kept apart from tests/stories/ on purpose: a conversation that went to a person
has turns no policy predicts, so a trainer reviews the file (fixing what the bot should have done)
and moves it into tests/stories/, where `make test` keeps it passing from then on.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import yaml
from fastapi import APIRouter
from pydantic import BaseModel, Field

from handoff.console.masking import mask_phones
from handoff.deps import CurrentAgent, RasaDep, SettingsDep
from handoff.errors import api_error
from handoff.rasa_client import RasaUnavailable

logger = logging.getLogger(__name__)

router = APIRouter(tags=["trainer"])

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,60}$"


class SaveStoryIn(BaseModel):
    name: str = Field(..., regex=NAME_PATTERN)  # the file's and the story's name, e.g. caked_milk_powder_angry


class SavedStory(BaseModel):
    path: str


@router.post("/api/staff/conversations/{conversation_id}/test-story", response_model=SavedStory, status_code=201)
async def save_test_story(
    conversation_id: str, body: SaveStoryIn, staff: CurrentAgent, rasa: RasaDep, settings: SettingsDep
) -> SavedStory:
    try:
        exported = await rasa.story(conversation_id)
    except RasaUnavailable as error:
        raise api_error(503, "bot_unavailable", "暂时取不到这段对话，请稍后重试") from error
    content = yaml.safe_load(exported) or {}
    stories = content.get("stories") or []
    if not stories or not any(step.get("intent") or step.get("user") for s in stories for step in s.get("steps", [])):
        raise api_error(404, "conversation_empty", "这段对话里还没有顾客的消息")
    for number, story in enumerate(stories, start=1):
        story["story"] = body.name if len(stories) == 1 else f"{body.name} ({number})"
    path = Path(settings.saved_stories_dir) / f"test_{body.name}.yml"
    if path.exists():
        raise api_error(409, "story_exists", "已经有同名的测试故事，请换一个名字")
    header = f"# Saved from conversation {conversation_id} by {staff.agent_id} on {time.strftime('%Y-%m-%d %H:%M')}.\n"
    text = header + mask_phones(yaml.safe_dump(content, allow_unicode=True, sort_keys=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    logger.info("%s saved conversation %s as %s", staff.agent_id, conversation_id, path.name)
    return SavedStory(path=str(path.relative_to(path.parents[1])))
