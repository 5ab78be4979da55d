"""The store's order and after-sales system, behind one interface (ShopRepository)."""

from __future__ import annotations

from actions.settings import ActionSettings
from actions.shop.clock import store_now
from actions.shop.repository import ShopRepository


def make_repository(settings: ActionSettings) -> ShopRepository:
    """The repository the settings choose: the store's HTTP API, or the embedded SQLite store.

    With SQLite and `shop_demo_seed` on, the demo store is created when missing and reseeded once
    it is older than a day (a store with orders no seed wrote is never touched).
    """
    if settings.shop_backend == "http":
        from actions.shop.http_repository import HttpShopRepository

        return HttpShopRepository(
            base_url=settings.shop_api_url,
            token=settings.shop_api_token,
            timeout_seconds=settings.shop_api_timeout_seconds,
            retries=settings.shop_api_retries,
        )
    from actions.shop.seed import ensure_seeded
    from actions.shop.sqlite_repository import SqliteShopRepository

    if settings.shop_demo_seed:
        ensure_seeded(settings.shop_db_path, store_now())
    return SqliteShopRepository(settings.shop_db_path)
