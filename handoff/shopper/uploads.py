"""Evidence photo routes: shoppers upload and view their own photos; internal callers read any.

POST /api/photos             multipart field `file` (1..photo_max_per_request files) -> 201 {"photos": [...]}
GET  /api/photos/{id}        the image, to its owner or the service token; 404 for anyone else
GET  /internal/photos/{id}   metadata for the action server (service token)

The checks themselves (type by content, limits, re-encoding) live in handoff/photo_images.py.
"""

from __future__ import annotations

import logging
from typing import List

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from handoff.deps import CurrentUploader, PhotoStoreDep, PhotoViewer, ServiceCaller, SettingsDep
from handoff.errors import api_error
from handoff.photo_images import PhotoRejected
from handoff.photo_models import PhotoInfo
from handoff.photos import PhotoNotFound
from handoff.settings import HandoffSettings

logger = logging.getLogger(__name__)

router = APIRouter(tags=["photos"])

FORM_FIELD = "file"
# Room for the multipart boundaries and headers around the files themselves.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Parsing stops at these counts; we then refuse anything above photo_max_per_request ourselves.
MAX_FORM_PARTS = 100
STATUS_BY_REJECTION = {
    PhotoRejected.EMPTY: 400,
    PhotoRejected.TOO_LARGE: 413,
    PhotoRejected.TOO_MANY_PIXELS: 413,
    PhotoRejected.UNSUPPORTED_TYPE: 415,
    PhotoRejected.CORRUPT: 400,
}


class PhotoOut(BaseModel):
    id: str
    width: int
    height: int
    bytes: int


class UploadedPhotos(BaseModel):
    photos: List[PhotoOut]


@router.post("/api/photos", status_code=201, response_model=UploadedPhotos)
async def upload_photos(
    request: Request, uploader: CurrentUploader, store: PhotoStoreDep, settings: SettingsDep
) -> UploadedPhotos:
    _check_declared_length(request, settings)
    files = await _read_files(request, settings)
    try:
        saved = await store.save_many(uploader, files)
    except PhotoRejected as rejected:
        logger.info("photo upload refused for %s: %s", uploader, rejected.code)
        raise api_error(STATUS_BY_REJECTION[rejected.code], rejected.code, rejected.message_zh) from rejected
    logger.info("%s uploaded photos %s", uploader, [info.id for info in saved])
    return UploadedPhotos(photos=[PhotoOut(**info.dict()) for info in saved])


@router.get("/api/photos/{photo_id}")
async def read_photo(photo_id: str, viewer: PhotoViewer, store: PhotoStoreDep) -> Response:
    info = await store.get(photo_id)
    if info is None or not viewer.may_see_photo_of(info.owner):
        raise _photo_not_found()
    try:
        content = await store.read(photo_id)
    except (PhotoNotFound, FileNotFoundError) as error:
        logger.error("photo %s has metadata but no file", photo_id)
        raise _photo_not_found() from error
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(content=content, media_type=info.content_type, headers=headers)


@router.get("/internal/photos/{photo_id}", response_model=PhotoInfo)
async def photo_metadata(photo_id: str, _: ServiceCaller, store: PhotoStoreDep) -> PhotoInfo:
    info = await store.get(photo_id)
    if info is None:
        raise _photo_not_found()
    return info


def _check_declared_length(request: Request, settings: HandoffSettings) -> None:
    """Refuse an oversized request before its body is read (a proxy should enforce it too)."""
    limit = settings.photo_max_per_request * settings.photo_max_bytes + MULTIPART_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        megabytes = f"{settings.photo_max_bytes / (1024 * 1024):g}"
        raise api_error(413, "request_too_large", f"上传内容太大，每张图片请压缩到{megabytes}MB以内")


async def _read_files(request: Request, settings: HandoffSettings) -> List[bytes]:
    try:
        form = await request.form(max_files=MAX_FORM_PARTS, max_fields=MAX_FORM_PARTS)
    except (StarletteHTTPException, MultiPartException, ValueError) as error:  # a malformed multipart body
        # (ValueError: python-multipart's own parse errors, FormParserError, reach us unwrapped)
        raise api_error(400, "bad_form", "上传内容格式不正确，请重新选择图片") from error
    try:
        parts = form.getlist(FORM_FIELD)
        if not parts:
            raise api_error(400, "no_file", "请选择要上传的图片")
        if not all(isinstance(part, UploadFile) for part in parts):
            raise api_error(400, "not_a_file", "请以文件形式上传图片")
        if len(parts) > settings.photo_max_per_request:
            raise api_error(400, "too_many_files", f"一次最多上传{settings.photo_max_per_request}张图片")
        # One byte past the limit is enough to know a file is too large.
        return [await part.read(settings.photo_max_bytes + 1) for part in parts]
    finally:
        await form.close()


def _photo_not_found() -> HTTPException:
    """The same answer whether the photo is missing or someone else's: existence is not revealed."""
    return api_error(404, "photo_not_found", "图片不存在或已失效")
