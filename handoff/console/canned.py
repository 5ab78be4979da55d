"""Canned replies (快捷短语) of the agents' console, in Redis (no FastAPI).

The defaults live in canned_replies.yml next to this module. A supervisor may replace the whole
list; it is then kept as one JSON value under CANNED_REPLIES, and `reset()` deletes it so the
defaults apply again.
"""

from __future__ import annotations

import logging
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import List, Sequence, Tuple

import yaml
from pydantic import BaseModel, Field, ValidationError
from redis.asyncio import Redis

from handoff import redis_keys

logger = logging.getLogger(__name__)

# String: the supervisor-edited canned replies as JSON {"replies": [...]}; absent = the YAML defaults.
CANNED_REPLIES = redis_keys.CANNED_REPLIES

DEFAULTS_PATH = Path(__file__).with_name("canned_replies.yml")
MAX_REPLIES = 200
ID_PATTERN = r"^[a-z0-9_-]{1,40}$"
TITLE_MAX_LENGTH = 20
TEXT_MAX_LENGTH = 500


class Group(str, Enum):
    """Where a reply sits in a conversation; the value is what the console shows."""

    opening = "开场"
    soothing = "安抚"
    verifying = "核实"
    solution = "处理方案"
    refund = "退款"
    closing = "结束"


class CannedReply(BaseModel):
    """One reply; `text` may hold placeholders such as {订单号} that the agent fills in."""

    id: str = Field(..., regex=ID_PATTERN)
    group: Group
    title: str = Field(..., min_length=1, max_length=TITLE_MAX_LENGTH)
    text: str = Field(..., min_length=1, max_length=TEXT_MAX_LENGTH)

    class Config:
        frozen = True
        extra = "forbid"  # a misspelt field is an error, not silently dropped
        anystr_strip_whitespace = True  # "   " is an empty text


class CannedReplyList(BaseModel):
    """The stored form, and the body and answer of the console's routes."""

    replies: List[CannedReply]


class CannedRepliesError(ValueError):
    """A refused list: `str()` is English (logs), `code` and `message_zh` are for the console."""

    def __init__(self, reason: str, code: str, message_zh: str) -> None:
        super().__init__(reason)
        self.code = code
        self.message_zh = message_zh


def check_replies(replies: Sequence[CannedReply]) -> List[CannedReply]:
    """The replies if there are at most MAX_REPLIES with unique ids; CannedRepliesError otherwise."""
    if len(replies) > MAX_REPLIES:
        raise CannedRepliesError(
            f"{len(replies)} canned replies, at most {MAX_REPLIES}",
            "too_many_canned_replies",
            f"快捷短语最多 {MAX_REPLIES} 条，当前有 {len(replies)} 条",
        )
    duplicates = _duplicate_ids(replies)
    if duplicates:
        raise CannedRepliesError(
            f"duplicate canned reply ids: {', '.join(duplicates)}",
            "duplicate_canned_reply_ids",
            f"快捷短语编号重复：{'、'.join(duplicates)}",
        )
    return list(replies)


def _duplicate_ids(replies: Sequence[CannedReply]) -> List[str]:
    seen, duplicates = set(), []
    for reply in replies:
        if reply.id in seen and reply.id not in duplicates:
            duplicates.append(reply.id)
        seen.add(reply.id)
    return duplicates


def load_defaults(path: Path = DEFAULTS_PATH) -> List[CannedReply]:
    """The default replies of `path`; ValueError naming the file if it is not a valid list."""
    return list(_load_defaults(path))


@lru_cache(maxsize=4)
def _load_defaults(path: Path) -> Tuple[CannedReply, ...]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        replies = CannedReplyList(replies=raw).replies
        return tuple(check_replies(replies))
    except (OSError, yaml.YAMLError, ValidationError, CannedRepliesError) as error:
        raise ValueError(f"{path}: not a valid list of canned replies ({error})") from error


class CannedReplies:
    def __init__(self, redis: Redis, defaults_path: Path = DEFAULTS_PATH) -> None:
        self._redis = redis
        self._defaults_path = defaults_path

    async def all(self) -> List[CannedReply]:
        """The supervisor's list if one is stored, else the defaults."""
        raw = await self._redis.get(CANNED_REPLIES)
        if raw is None:
            return load_defaults(self._defaults_path)
        try:
            return CannedReplyList.parse_raw(raw).replies
        except ValidationError as error:  # e.g. stored before a rule became stricter
            logger.error("stored canned replies unreadable, serving the defaults: %s", error)
            return load_defaults(self._defaults_path)

    async def replace(self, replies: Sequence[CannedReply]) -> List[CannedReply]:
        """Stores `replies` in place of the current list; CannedRepliesError if refused."""
        stored = check_replies(replies)
        await self._redis.set(CANNED_REPLIES, CannedReplyList(replies=stored).json(ensure_ascii=False))
        return stored

    async def reset(self) -> List[CannedReply]:
        """Forgets the stored list: the defaults apply again."""
        await self._redis.delete(CANNED_REPLIES)
        return load_defaults(self._defaults_path)
