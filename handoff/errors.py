"""The one shape of every error the handoff service returns: {"detail": {"code": ..., "message": <Chinese>}}."""

from __future__ import annotations

from typing import Dict, Optional

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def api_error(status_code: int, code: str, message_zh: str, headers: Optional[Dict[str, str]] = None) -> HTTPException:
    return HTTPException(status_code=status_code, detail={"code": code, "message": message_zh}, headers=headers)


def unauthorized(code: str, message_zh: str) -> HTTPException:
    return api_error(401, code, message_zh, headers={"WWW-Authenticate": "Bearer"})


async def request_validation_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's own validation errors (422, English) in our shape."""
    return JSONResponse(status_code=400, content={"detail": {"code": "bad_request", "message": "请求格式不正确"}})
