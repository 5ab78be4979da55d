"""Canned replies (快捷短语) of the agents' console.

GET    /api/agent/canned-replies    the list (any signed-in agent)
PUT    /api/agent/canned-replies    replace the whole list (supervisor); answers the stored list
DELETE /api/agent/canned-replies    back to the defaults of canned_replies.yml (supervisor)
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends

from handoff.console.canned import CannedReplies, CannedRepliesError, CannedReplyList
from handoff.deps import CurrentAgent, CurrentSupervisor, RedisDep
from handoff.errors import api_error

logger = logging.getLogger(__name__)

router = APIRouter(tags=["console"])


def _canned_replies(redis: RedisDep) -> CannedReplies:
    return CannedReplies(redis)


CannedRepliesDep = Annotated[CannedReplies, Depends(_canned_replies)]


@router.get("/api/agent/canned-replies", response_model=CannedReplyList)
async def list_canned_replies(agent: CurrentAgent, canned: CannedRepliesDep) -> CannedReplyList:
    return CannedReplyList(replies=await canned.all())


@router.put("/api/agent/canned-replies", response_model=CannedReplyList)
async def replace_canned_replies(
    body: CannedReplyList, supervisor: CurrentSupervisor, canned: CannedRepliesDep
) -> CannedReplyList:
    try:
        stored = await canned.replace(body.replies)
    except CannedRepliesError as error:
        raise api_error(422, error.code, error.message_zh) from error
    logger.info("canned replies replaced by %s (%d replies)", supervisor.agent_id, len(stored))
    return CannedReplyList(replies=stored)


@router.delete("/api/agent/canned-replies", response_model=CannedReplyList)
async def reset_canned_replies(supervisor: CurrentSupervisor, canned: CannedRepliesDep) -> CannedReplyList:
    defaults = await canned.reset()
    logger.info("canned replies reset to the defaults by %s", supervisor.agent_id)
    return CannedReplyList(replies=defaults)
