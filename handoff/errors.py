"""The one shape of every error the handoff service returns: {"detail": {"code": ..., "message": <Chinese>}}."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from fastapi import HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

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


# Errors FastAPI and Starlette raise themselves, with an English string as detail.
FRAMEWORK_ERRORS_ZH = {
    400: ("bad_request", "请求格式不正确"),  # e.g. a body that is not UTF-8
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持这种请求方式"),
}


async def http_error_handler(request: Request, error: StarletteHTTPException) -> Response:
    """Ours (api_error) as they are; the framework's own (a body it cannot decode, an unknown
    path) in our shape too, instead of {"detail": "There was an error parsing the body"}."""
    if not isinstance(error.detail, dict):
        code, message = FRAMEWORK_ERRORS_ZH.get(error.status_code, ("http_error", "请求无法处理，请稍后再试"))
        error = StarletteHTTPException(error.status_code, {"code": code, "message": message}, error.headers)
    return await http_exception_handler(request, error)


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


UNREADABLE_TEXT_ZH = "内容里有无法识别的字符，请删除后重新发送"


async def unreadable_text_handler(request: Request, error: UnicodeEncodeError) -> JSONResponse:
    """Text that is not valid Unicode (a lone surrogate like "\\ud800", which a JSON body can carry)
    cannot go to Rasa nor into Redis: the sender's fault, a clear 422 instead of a 500."""
    logger.info("unencodable text in %s %s: %s", request.method, request.url.path, error.reason)
    return JSONResponse(status_code=422, content={"detail": {"code": "unreadable_text", "message": UNREADABLE_TEXT_ZH}})
