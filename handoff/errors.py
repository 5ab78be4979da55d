"""The one shape of every error the handoff service returns: {"detail": {"code": ..., "message": <Chinese>}}."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)


def api_error(status_code: int, code: str, message_zh: str, headers: Optional[Dict[str, str]] = None) -> HTTPException:
    return HTTPException(status_code=status_code, detail={"code": code, "message": message_zh}, headers=headers)


def unauthorized(code: str, message_zh: str) -> HTTPException:
    return api_error(401, code, message_zh, headers={"WWW-Authenticate": "Bearer"})


async def request_validation_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's own validation errors: still 422, in our shape, naming the fields at fault."""
    fields = sorted({_field_name(problem) for problem in error.errors()} - {""})
    message = f"请求格式不正确：{'、'.join(fields)}" if fields else "请求格式不正确"
    return JSONResponse(status_code=422, content={"detail": {"code": "bad_request", "message": message}})


def _field_name(problem: Dict[str, Any]) -> str:
    """loc ("body", "ticket", "reason") -> "ticket.reason"; a body that is not JSON has no field name."""
    if problem.get("type") == "json_invalid":
        return ""
    return ".".join(str(part) for part in problem.get("loc", ())[1:])


STORE_DOWN_ZH = "系统暂时繁忙，请稍后再试，您的消息不会丢失。"


async def redis_unavailable_handler(request: Request, error: Exception) -> JSONResponse:
    """Redis went away (a restart, a failover): a clear 503 to retry, never a stack trace."""
    logger.warning("Redis unavailable during %s %s: %r", request.method, request.url.path, error)
    return JSONResponse(status_code=503, content={"detail": {"code": "store_unavailable", "message": STORE_DOWN_ZH}})
