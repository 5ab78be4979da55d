"""A small store backend implementing docs/shop-api.md, for the HTTP adapter's tests.

FastAPI over a real SqliteShopRepository, served by uvicorn on a free loopback port in a
background thread. `Faults` makes the next request on a path misbehave (slow, 503, 503 after
doing the work, a reply that is not JSON, JSON of the wrong shape), and `requests` records
what the server received so tests can count attempts and read headers.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import defaultdict, deque
from decimal import Decimal
from typing import Any, Deque, Dict, List, Optional, Tuple

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from actions.shop.errors import CaseNotFoundError, InvalidCaseRequestError
from actions.shop.http_repository import idempotency_key
from actions.shop.models import CaseRequest, CaseStatus
from actions.shop.repository import CaseTransitionError
from actions.shop.sqlite_repository import SqliteShopRepository
from tests.servers import serve_in_thread

FAULTS = ("slow", "503", "503-after", "not-json", "wrong-shape")


class Faults:
    def __init__(self, slow_seconds: float = 1.0) -> None:
        self.slow_seconds = slow_seconds
        self._queued: Dict[Tuple[str, str], Deque[str]] = defaultdict(deque)
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []

    def queue(self, method: str, path: str, *faults: str) -> None:
        assert all(f in FAULTS for f in faults), faults
        self._queued[(method, path)].extend(faults)

    def take(self, method: str, path: str) -> Optional[str]:
        queued = self._queued[(method, path)]
        return queued.popleft() if queued else None

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))


class StatusChange(BaseModel):
    status: CaseStatus
    note: str = ""


def _json(content: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(content, custom_encoder={Decimal: str}), status_code=status_code)


def create_contract_app(repository: SqliteShopRepository, token: str, faults: Faults) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def misbehave(request: Request, call_next):
        faults.requests.append((request.method, request.url.path, dict(request.headers)))
        fault = faults.take(request.method, request.url.path)
        if fault == "slow":
            await asyncio.sleep(faults.slow_seconds)
        if fault == "503":
            return JSONResponse({"detail": "系统维护中"}, status_code=503)
        response = await call_next(request)
        if fault == "503-after":
            return JSONResponse({"detail": "网关超时"}, status_code=503)
        if fault == "not-json":
            return Response("<html>502 Bad Gateway</html>", status_code=200, media_type="text/html")
        if fault == "wrong-shape":
            return JSONResponse({"result": "ok"})
        return response

    def authorised(authorization: str = Header("")) -> None:
        if not secrets.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong API token")

    guarded = [Depends(authorised)]

    @app.get("/orders/{order_id}", dependencies=guarded)
    async def get_order(order_id: str):
        order = await repository.get_order(order_id)
        if order is None:
            raise HTTPException(404, f"no order {order_id}")
        return _json(order)

    @app.get("/orders", dependencies=guarded)
    async def list_orders(shopper_id: str):
        return _json({"orders": await repository.list_orders(shopper_id)})

    @app.post("/cases", dependencies=guarded)
    async def create_case(request: CaseRequest, key: str = Header("", alias="Idempotency-Key")):
        if key != idempotency_key(request.order_id.strip(), request.sku.strip(), request.reason.value):
            raise HTTPException(400, "Idempotency-Key is missing or does not match order_id, sku and reason")
        before = {c.case_id for c in await repository.list_cases(order_id=request.order_id)}
        try:
            case = await repository.create_case(request)
        except InvalidCaseRequestError as error:
            raise HTTPException(422, str(error)) from error
        return _json(case, status_code=200 if case.case_id in before else 201)

    @app.get("/cases/{case_id}", dependencies=guarded)
    async def get_case(case_id: str):
        case = await repository.get_case(case_id)
        if case is None:
            raise HTTPException(404, f"no case {case_id}")
        return _json(case)

    @app.post("/cases/{case_id}/status", dependencies=guarded)
    async def advance_case(case_id: str, change: StatusChange):
        try:
            return _json(await repository.advance_case(case_id, change.status, change.note))
        except CaseNotFoundError as error:
            raise HTTPException(404, str(error)) from error
        except CaseTransitionError as error:
            raise HTTPException(409, str(error)) from error

    @app.get("/cases", dependencies=guarded)
    async def list_cases(shopper_id: Optional[str] = None, order_id: Optional[str] = None):
        if shopper_id is None and order_id is None:
            raise HTTPException(400, "give shopper_id, order_id or both")
        return _json({"cases": await repository.list_cases(shopper_id=shopper_id, order_id=order_id)})

    return app


serve = serve_in_thread  # the contract server runs like every other test server
