"""The pages: GET /chat (the in-app chat; the app appends #token=<shopper token>, nothing in the
query so that the token stays out of server logs), GET /console (agents sign in there) and
GET /trainer (the trainers' page), and their scripts and styles under /static/.

Both pages are static files; a strict Content-Security-Policy allows only this service's own
scripts, styles, images and sockets, so even a message that slipped through as HTML could run
nothing. The console and the trainers' page may not be framed (clickjacking); the chat may, by the
store's app.
Under /static/ only scripts, styles and icons are served, never the pages themselves (they must
come with their headers) nor anything else in the folder.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

from handoff.static import STATIC_DIR

router = APIRouter(tags=["pages"])


def _policy(frame_ancestors: str) -> str:
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        f"connect-src 'self'; frame-ancestors {frame_ancestors}; base-uri 'none'; form-action 'self'"
    )


COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}
CHAT_HEADERS = {**COMMON_HEADERS, "Content-Security-Policy": _policy("*")}
CONSOLE_HEADERS = {**COMMON_HEADERS, "Content-Security-Policy": _policy("'none'"), "X-Frame-Options": "DENY"}
ASSET_SUFFIXES = (".js", ".css", ".svg")


class AssetFiles(StaticFiles):
    """The pages' scripts, styles and icons; 404 for anything else in the folder."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not path.endswith(ASSET_SUFFIXES):
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        response.headers.update(COMMON_HEADERS)
        return response


def assets() -> AssetFiles:
    return AssetFiles(directory=STATIC_DIR)


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/chat", include_in_schema=False)
async def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "chat.html", headers=CHAT_HEADERS)


@router.get("/console", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "console.html", headers=CONSOLE_HEADERS)


@router.get("/trainer", include_in_schema=False)
async def trainer_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "trainer.html", headers=CONSOLE_HEADERS)
