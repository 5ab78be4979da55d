"""The shape of an uploaded photo's metadata, shared by the handoff service and the action server's client.

No FastAPI, Pillow or Redis here, so that actions/clients/photos_client.py can import it
and the two sides cannot drift.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from pydantic import BaseModel

# Ids are made by the server: secrets.token_urlsafe(16) gives 22 URL-safe characters.
PHOTO_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


class PhotoInfo(BaseModel):
    id: str
    owner: str  # shopper id, or "guest:<conversation_id>"
    sha256: str  # of the stored pixels: the same photo sent twice has the same hash
    width: int
    height: int
    bytes: int  # size of the stored (re-encoded) file
    content_type: str  # image/jpeg or image/png
    created_at: datetime
    duplicate_of: Optional[str] = None  # id of the owner's earlier upload of the same pixels


def is_photo_id(value: str) -> bool:
    return bool(PHOTO_ID_PATTERN.match(value))
