"""Check the evidence photos a message carries (ids made by the photo store in handoff/)."""

from __future__ import annotations

import logging
from typing import List, Optional

from rasa_sdk import Tracker

from actions import deps
from actions.clients.photos_client import PhotoServiceError
from actions.conversation import photo_owner

logger = logging.getLogger(__name__)

MIN_PHOTOS, MAX_PHOTOS = 1, 9


async def check_photos(photo_ids: List[str], tracker: Tracker) -> Optional[str]:
    """None when the photos are fine; else what to tell the shopper (in Chinese)."""
    if len(photo_ids) < MIN_PHOTOS:
        return "还没有收到照片哦，请从相册选择照片上传。"
    if len(photo_ids) > MAX_PHOTOS:
        return f"一次最多上传{MAX_PHOTOS}张照片，您发了{len(photo_ids)}张，请挑选最能说明问题的{MAX_PHOTOS}张再发一次。"
    if len(set(photo_ids)) < len(photo_ids):
        return "有照片重复发了，请换几张不同角度的照片。"
    owner = photo_owner(tracker)
    hashes = set()
    for photo_id in photo_ids:
        try:
            info = await deps.photo_client().get(photo_id)
        except PhotoServiceError as error:
            logger.warning("photo check failed for %s: %s", tracker.sender_id, error)
            return "照片服务暂时有点忙，没能读取到您的照片，请稍等一下再发一次。"
        if info is None or info.owner != owner:
            return "有一张照片没有上传成功，请重新上传一下。"
        if info.sha256 in hashes or info.duplicate_of in photo_ids:
            return "有两张照片是同一张，请换一张不同角度的照片。"
        hashes.add(info.sha256)
    return None
