"""HttpShopRepository: a store's own backend behind the ShopRepository interface (contract: docs/shop-api.md).

Timeouts on every call; connection errors, timeouts and 5xx answers are retried with exponential
backoff (4xx never: asking again will not change the answer). Opening a case carries an
Idempotency-Key derived from order, item and reason, so a retried request cannot open two cases.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar, Union
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from actions.shop.errors import CaseNotFoundError, InvalidCaseRequestError
from actions.shop.models import CaseRequest, CaseStatus, Order, ReturnCase
from actions.shop.repository import CaseTransitionError, ShopError

logger = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)
MAX_BACKOFF_SECONDS = 5.0


class OrderList(BaseModel):
    orders: List[Order]


class CaseList(BaseModel):
    cases: List[ReturnCase]


def idempotency_key(order_id: str, sku: str, reason: str) -> str:
    """The same order, item and reason always give the same key (and so at most one open case)."""
    digest = hashlib.sha256(f"{order_id}\n{sku}\n{reason}".encode("utf-8")).hexdigest()
    return f"case-{digest[:40]}"


def _segment(raw: str) -> str:
    return quote(raw.strip(), safe="")


class HttpShopRepository:
    def __init__(self, base_url: str, token: Union[SecretStr, str, None], timeout_seconds: float = 3.0,
                 retries: int = 2, backoff_seconds: float = 0.2) -> None:
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the store's API URL must be an http(s) URL, not {base_url!r}")
        if retries < 0 or timeout_seconds <= 0:
            raise ValueError("retries must be ≥ 0 and timeout_seconds > 0")
        secret = token.get_secret_value() if isinstance(token, SecretStr) else token
        headers = {"Accept": "application/json"}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._attempts = retries + 1
        self._backoff = backoff_seconds
        self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers,
                                         timeout=httpx.Timeout(timeout_seconds))

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> "HttpShopRepository":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def get_order(self, order_id: str) -> Optional[Order]:
        if not order_id.strip():
            return None
        response, _ = await self._send("GET", f"/orders/{_segment(order_id)}")
        if response.status_code == 404:
            return None
        order = self._parse(response, Order, f"order {order_id.strip()}")
        if order.order_id != order_id.strip():
            raise ShopError(f"asked the store for order {order_id.strip()} and got order {order.order_id}")
        return order

    async def list_orders(self, shopper_id: str) -> List[Order]:
        response, _ = await self._send("GET", "/orders", params={"shopper_id": shopper_id.strip()})
        return self._parse(response, OrderList, f"orders of {shopper_id.strip()}").orders

    async def create_case(self, request: CaseRequest) -> ReturnCase:
        request = request.copy(update={"order_id": request.order_id.strip(), "sku": request.sku.strip()})
        key = idempotency_key(request.order_id, request.sku, request.reason.value)
        response, _ = await self._send("POST", "/cases", json=_json(request), headers={"Idempotency-Key": key})
        if response.status_code in (400, 404, 422):
            raise InvalidCaseRequestError(f"the store refused the case request: {_detail(response)}")
        return self._parse(response, ReturnCase, f"new case for order {request.order_id}")

    async def get_case(self, case_id: str) -> Optional[ReturnCase]:
        if not case_id.strip():
            return None
        response, _ = await self._send("GET", f"/cases/{_segment(case_id)}")
        if response.status_code == 404:
            return None
        return self._parse(response, ReturnCase, f"case {case_id.strip()}")

    async def advance_case(self, case_id: str, status: CaseStatus, note: str = "") -> ReturnCase:
        status = CaseStatus(status)
        body = {"status": status.value, "note": note}
        response, attempts = await self._send("POST", f"/cases/{_segment(case_id)}/status", json=body)
        if response.status_code == 404:
            raise CaseNotFoundError(f"no case has the return number {case_id.strip()!r}")
        if response.status_code == 409:
            if attempts > 1:  # an earlier attempt may have gone through before its answer was lost
                current = await self.get_case(case_id)
                if current is not None and current.status == status:
                    return current
            raise CaseTransitionError(_detail(response))
        return self._parse(response, ReturnCase, f"case {case_id.strip()}")

    async def list_cases(self, *, shopper_id: Optional[str] = None, order_id: Optional[str] = None
                         ) -> List[ReturnCase]:
        if shopper_id is None and order_id is None:
            raise ValueError("list_cases needs a shopper_id, an order_id or both")
        params = {k: v.strip() for k, v in (("shopper_id", shopper_id), ("order_id", order_id)) if v is not None}
        response, _ = await self._send("GET", "/cases", params=params)
        return self._parse(response, CaseList, f"cases of {params}").cases

    async def _send(self, method: str, path: str, **kwargs: Any) -> Tuple[httpx.Response, int]:
        """The first answer below 500, retrying transport errors, timeouts and 5xx; ShopError when none comes."""
        problem = ""
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                problem = f"did not answer within {self._timeout:g} s"
            except httpx.TransportError as error:
                problem = f"could not be reached ({type(error).__name__}: {error})"
            else:
                if response.status_code < 500:
                    self._refuse_auth_failures(response)
                    return response, attempt
                problem = f"answered HTTP {response.status_code}: {_detail(response)}"
            if attempt < self._attempts:
                delay = min(self._backoff * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                logger.warning("%s %s: the store's system %s; retry %d/%d in %.1f s", method, path, problem, attempt,
                               self._attempts - 1, delay)
                await asyncio.sleep(delay)
        raise ShopError(f"{method} {self.base_url}{path}: the store's system {problem} ({self._attempts} attempts)")

    def _refuse_auth_failures(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise ShopError(f"the store's system at {self.base_url} refused our API token (HTTP "
                            f"{response.status_code}): check SHOP_API_TOKEN")

    @staticmethod
    def _parse(response: httpx.Response, model: Type[Model], what: str) -> Model:
        if response.status_code not in (200, 201):
            raise ShopError(f"{what}: the store's system answered HTTP {response.status_code}: {_detail(response)}")
        try:
            return model.parse_raw(response.content, content_type="application/json")
        except ValidationError as error:
            if any(e["type"] == "value_error.jsondecode" for e in error.errors()):
                raise ShopError(f"{what}: the store's system sent a reply that is not JSON: "
                                f"{response.text[:120]!r}") from error
            raise ShopError(f"{what}: the store's system sent a malformed reply: {_short(error)}") from error


def _json(model: BaseModel) -> Dict[str, Any]:
    """A model as plain JSON types (enums as their values)."""
    return json.loads(model.json())


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else response.text[:200] or "(empty body)"


def _short(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
