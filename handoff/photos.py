"""PhotoStore: uploaded evidence photos, files on disk and metadata in Redis (no FastAPI).

A photo is cleaned first (handoff/photo_images.py), then written to a temporary file in
photo_dir and renamed to `<id>.<ext>` (nothing half-written is ever visible), and only then
is its metadata recorded, so metadata never points at a missing file. Ids are made here
(secrets.token_urlsafe). Recording is one Lua script, atomic: the metadata hash and, per
owner, the first id seen for each pixel hash, so the same photo sent twice is marked
`duplicate_of` the first upload, even when both uploads race. Both Redis keys expire
`retention_seconds` after the upload (the owner's index after their latest upload); the files
have no TTL: `python -m handoff.cli purge` removes those whose metadata is gone or too old.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from redis.asyncio import Redis

from handoff import redis_keys
from handoff.photo_images import CleanPhoto, PhotoLimits, PhotoRejected, clean_photo
from handoff.photo_models import PhotoInfo, is_photo_id

FILE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}

# KEYS[1] photo metadata hash, KEYS[2] the owner's pixel-hash index; ARGV[1] sha256, ARGV[2] id,
# ARGV[3] retention seconds ('0' = keep), ARGV[4..] metadata field/value pairs.
# Returns the id of the owner's first upload of these pixels.
RECORD_PHOTO_SCRIPT = """
local first = redis.call('HGET', KEYS[2], ARGV[1])
if not first then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  first = ARGV[2]
end
local duplicate_of = ''
if first ~= ARGV[2] then duplicate_of = first end
redis.call('HSET', KEYS[1], 'duplicate_of', duplicate_of, unpack(ARGV, 4))
if tonumber(ARGV[3]) > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return first
"""


class PhotoNotFound(KeyError):
    """No photo with this id."""


class PhotoStore:
    def __init__(
        self, redis: Redis, photo_dir: Path, limits: PhotoLimits, retention_seconds: Optional[int] = None
    ) -> None:
        """`retention_seconds`: how long Redis keeps a photo's metadata (the app passes
        conversation_retention_seconds; None keeps it until purged)."""
        self._redis = redis
        self._photo_dir = Path(photo_dir)
        self._limits = limits
        self._retention_seconds = retention_seconds or 0
        self._record = redis.register_script(RECORD_PHOTO_SCRIPT)

    async def save(self, owner: str, data: bytes) -> PhotoInfo:
        """Clean and store one photo; raises PhotoRejected with the shopper's message."""
        clean = await asyncio.to_thread(clean_photo, data, self._limits)
        return await self._store(owner, clean)

    async def save_many(self, owner: str, files: Sequence[bytes]) -> List[PhotoInfo]:
        """All or nothing: every file is checked before any is stored; a refusal names the file."""
        cleaned = []
        for position, data in enumerate(files, start=1):
            try:
                cleaned.append(await asyncio.to_thread(clean_photo, data, self._limits))
            except PhotoRejected as rejected:
                if len(files) == 1:
                    raise
                raise rejected.for_item(position) from rejected
        return [await self._store(owner, clean) for clean in cleaned]

    async def get(self, photo_id: str) -> Optional[PhotoInfo]:
        if not is_photo_id(photo_id):
            return None
        fields = await self._redis.hgetall(redis_keys.PHOTO.format(photo_id=photo_id))
        return _parse_info(photo_id, fields) if fields else None

    async def read(self, photo_id: str) -> bytes:
        """The stored (clean) file; raises PhotoNotFound."""
        info = await self.get(photo_id)
        if info is None:
            raise PhotoNotFound(photo_id)
        return await asyncio.to_thread(self._path(info.id, info.content_type).read_bytes)

    async def find_duplicate(self, owner: str, sha256: str) -> Optional[str]:
        """Id of the owner's first upload with these pixels, if any."""
        first = await self._redis.hget(redis_keys.PHOTO_HASHES.format(owner=owner), sha256)
        return _text(first) if first else None

    async def _store(self, owner: str, clean: CleanPhoto) -> PhotoInfo:
        if not owner:
            raise ValueError("a photo needs an owner")
        photo_id = secrets.token_urlsafe(16)
        path = self._path(photo_id, clean.content_type)
        await asyncio.to_thread(_write_atomically, path, clean.content)
        metadata = {
            "owner": owner,
            "sha256": clean.sha256,
            "width": clean.width,
            "height": clean.height,
            "bytes": len(clean.content),
            "content_type": clean.content_type,
            "created_at": datetime.now(timezone.utc).isoformat(),
        }
        try:
            first = await self._record(
                keys=[redis_keys.PHOTO.format(photo_id=photo_id), redis_keys.PHOTO_HASHES.format(owner=owner)],
                args=[clean.sha256, photo_id, self._retention_seconds, *_flatten(metadata)],
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        duplicate_of = _text(first) if _text(first) != photo_id else None
        return PhotoInfo(id=photo_id, duplicate_of=duplicate_of, **metadata)

    def _path(self, photo_id: str, content_type: str) -> Path:
        return self._photo_dir / f"{photo_id}{FILE_EXTENSIONS[content_type]}"


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _flatten(metadata: Dict[str, object]) -> List[str]:
    return [str(part) for pair in metadata.items() for part in pair]


def _parse_info(photo_id: str, fields: Dict[Union[bytes, str], Union[bytes, str]]) -> PhotoInfo:
    values = {_text(key): _text(value) for key, value in fields.items()}
    values["duplicate_of"] = values.get("duplicate_of") or None
    return PhotoInfo(id=photo_id, **values)


def _text(value: Union[bytes, str]) -> str:
    return value.decode() if isinstance(value, bytes) else value
