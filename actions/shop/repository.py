"""ShopRepository: the one interface the actions use to reach the store's system.

Two implementations: `SqliteShopRepository` (the embedded demo store in var/shop.db)
and `HttpShopRepository` (a store's own backend, contract in docs/shop-api.md).
Every method is async so that the HTTP adapter never blocks the action server.
"""

from __future__ import annotations

from typing import List, Optional, Protocol

from actions.shop.models import CaseRequest, CaseStatus, Order, ReturnCase


class ShopError(Exception):
    """The store's system could not answer (down, timed out, malformed reply)."""


class CaseTransitionError(ShopError):
    """A case cannot move from its current state to the one asked for."""


class ShopRepository(Protocol):
    async def get_order(self, order_id: str) -> Optional[Order]:
        """The order with this number, or None when there is none."""

    async def list_orders(self, shopper_id: str) -> List[Order]:
        """The shopper's orders, newest first."""

    async def create_case(self, request: CaseRequest) -> ReturnCase:
        """Open a return case; an open case for the same order, item and reason is
        returned as it is instead of opening a second one."""

    async def get_case(self, case_id: str) -> Optional[ReturnCase]:
        """The case with this return number, or None."""

    async def advance_case(
        self, case_id: str, status: CaseStatus, note: str = ""
    ) -> ReturnCase:
        """Move a case to `status` (raises CaseTransitionError when not allowed)."""

    async def list_cases(
        self, *, shopper_id: Optional[str] = None, order_id: Optional[str] = None
    ) -> List[ReturnCase]:
        """Cases of a shopper and/or an order, newest first."""
