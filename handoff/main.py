"""The handoff service: `create_app()` builds the FastAPI app.

Run: `.venv/bin/uvicorn --factory handoff.main:create_app --ws websockets --port 8000`
(`--ws websockets`: uvicorn's default "auto" needs websockets>=13; Rasa pins websockets 10.4).
The lifespan opens ONE async Redis client for the whole process (never one per request
or socket) and the photo store, ticket service and gateway over it (with one client for Rasa);
both are closed when the app stops.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator, Optional

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from handoff.agents import AgentStore
from handoff.console import canned_router, cases, pages
from handoff.console import live as console_live
from handoff.console import router as console
from handoff.console.queue import SharedQueue
from handoff.deps import RedisDep
from handoff.errors import (
    http_error_handler,
    redis_unavailable_handler,
    request_validation_handler,
    unreadable_text_handler,
)
from handoff.feed import ConversationFeed
from handoff.gateway import Gateway
from handoff.photo_images import PhotoLimits
from handoff.photos import PhotoStore
from handoff.rasa_client import RasaClient
from handoff.review import retraining, stories
from handoff.review import router as review
from handoff.review.inbox import ReviewInbox
from handoff.settings import HandoffSettings, get_settings
from handoff.shopper import chat, uploads
from handoff.shopper import live as chat_live
from handoff.tickets import router as tickets
from handoff.tickets.service import TicketService


def create_app(settings: Optional[HandoffSettings] = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = Redis.from_url(settings.redis_url)
        app.state.redis = client
        app.state.photo_store = PhotoStore(
            client, settings.photo_dir, _photo_limits(settings), settings.conversation_retention_seconds
        )
        app.state.ticket_service = TicketService(client, settings)
        app.state.shared_queue = SharedQueue(app.state.ticket_service)
        app.state.agent_store = AgentStore(client)
        rasa = RasaClient(settings.rasa_url, _secret(settings.rasa_token), settings.rasa_timeout_seconds)
        feed = ConversationFeed(client, settings.conversation_retention_seconds)
        app.state.feed = feed
        app.state.review_inbox = ReviewInbox(client, settings.inbox_retention_seconds)
        app.state.gateway = Gateway(client, rasa, feed, app.state.ticket_service, app.state.review_inbox, settings)
        app.state.rasa = rasa
        try:
            yield
        finally:
            await rasa.aclose()
            await client.close()

    app = FastAPI(title="Shouhou handoff", lifespan=lifespan)
    app.state.settings = settings
    app.add_exception_handler(RequestValidationError, request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(UnicodeEncodeError, unreadable_text_handler)
    app.add_exception_handler(RedisError, redis_unavailable_handler)
    app.include_router(uploads.router)
    app.include_router(tickets.router)
    app.include_router(chat.router)
    app.include_router(console.router)
    app.include_router(canned_router.router)
    app.include_router(cases.router)
    app.include_router(chat_live.router)
    app.include_router(console_live.router)
    app.include_router(review.router)
    app.include_router(retraining.router)
    app.include_router(stories.router)
    app.include_router(pages.router)
    app.mount("/static", pages.assets(), name="static")
    app.add_api_route("/health", health, methods=["GET"], tags=["health"])
    app.add_api_route("/live", live, methods=["GET"], tags=["health"])
    return app


async def live() -> JSONResponse:
    """Liveness: the process answers (a restart cannot fix Redis being away; /health is readiness)."""
    return JSONResponse(content={"status": "ok"})


async def health(redis: RedisDep) -> JSONResponse:
    """Readiness: 200 when Redis answers, 503 otherwise (a load balancer sends nothing here then)."""
    try:
        await redis.ping()
    except (RedisError, OSError):
        return JSONResponse(status_code=503, content={"status": "unavailable", "redis": False})
    return JSONResponse(content={"status": "ok", "redis": True})


def _secret(value: Optional[SecretStr]) -> Optional[str]:
    return value.get_secret_value() if value else None


def _photo_limits(settings: HandoffSettings) -> PhotoLimits:
    return PhotoLimits(
        max_bytes=settings.photo_max_bytes,
        max_pixels=settings.photo_max_pixels,
        max_side=settings.photo_max_side,
    )
