"""What every answer of the handoff service must look like, whatever it was sent."""

from __future__ import annotations

import re
from typing import Iterable, Optional

import httpx

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def error_of(response: httpx.Response) -> dict:
    """The project's error shape, {"detail": {"code": ..., "message": <Chinese>}}, or an AssertionError."""
    assert response.headers.get("content-type", "").startswith("application/json"), response.text[:300]
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"detail"}, body
    detail = body["detail"]
    assert isinstance(detail, dict) and set(detail) == {"code", "message"}, body
    assert isinstance(detail["code"], str) and CODE.match(detail["code"]), body
    assert isinstance(detail["message"], str) and CHINESE.search(detail["message"]), body
    return detail


def assert_clear_refusal(response: httpx.Response, codes: Optional[Iterable[str]] = None) -> dict:
    """A 4xx in the project's shape, with one of `codes` when given."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    detail = error_of(response)
    if codes is not None:
        assert detail["code"] in set(codes), (response.status_code, detail)
    return detail
