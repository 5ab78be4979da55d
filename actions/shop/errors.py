"""Errors the store's system raises besides the two in repository.py.

Both are ShopError subclasses, so code that only handles ShopError still catches them;
they exist so that an action can tell "your request is wrong" from "the store is down".
"""

from __future__ import annotations

from actions.shop.repository import ShopError


class InvalidCaseRequestError(ShopError):
    """The store refused a case request: unknown order, item not on the order, or another shopper's order."""


class CaseNotFoundError(ShopError):
    """No case has this return number."""
