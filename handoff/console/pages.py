"""The two pages: GET /chat (the in-app chat; the app appends #token=<shopper token>, nothing
in the query so that the token stays out of server logs) and GET /console (agents sign in there).

Both are static files; a strict Content-Security-Policy allows only this service's own scripts,
styles, images and sockets, so even a message that slipped through as HTML could run nothing.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from handoff.static import STATIC_DIR

router = APIRouter(tags=["pages"])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/chat", include_in_schema=False)
async def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "chat.html", headers=PAGE_HEADERS)


@router.get("/console", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "console.html", headers={**PAGE_HEADERS, "X-Frame-Options": "DENY"})
