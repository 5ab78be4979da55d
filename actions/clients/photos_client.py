"""PhotoClient: the action server's way to the handoff service's photo metadata (/internal/photos/{id}).

The actions use it to check the photo ids a shopper's message carries: that each exists,
belongs to this shopper and is not the same photo twice (`duplicate_of`, `sha256`).
One httpx.AsyncClient per PhotoClient; close it with `aclose()` or `async with`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Optional, Type

import httpx
from pydantic import ValidationError

from handoff.photo_models import PhotoInfo, is_photo_id


class PhotoServiceError(Exception):
    """The handoff service could not answer (down, timed out, refused our token, malformed reply)."""


class PhotoClient:
    def __init__(self, base_url: str, service_token: str, timeout: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            headers={"Authorization": f"Bearer {service_token}"},
            timeout=timeout,
        )

    async def get(self, photo_id: str) -> Optional[PhotoInfo]:
        """The photo's metadata, or None when there is no such photo."""
        if not is_photo_id(photo_id):
            return None  # not an id the service makes: it cannot exist
        try:
            response = await self._http.get(f"/internal/photos/{photo_id}")
        except httpx.TimeoutException as error:
            raise PhotoServiceError(f"photo service at {self._base_url} timed out") from error
        except httpx.HTTPError as error:
            raise PhotoServiceError(f"photo service at {self._base_url} is unreachable: {error!r}") from error
        if response.status_code == 404:
            return None
        if response.status_code == 401:
            raise PhotoServiceError("photo service refused the service token (check SERVICE_TOKEN on both sides)")
        if response.status_code != 200:
            raise PhotoServiceError(f"photo service answered HTTP {response.status_code} for photo {photo_id}")
        try:
            return PhotoInfo.parse_obj(response.json())
        except (ValueError, ValidationError) as error:
            raise PhotoServiceError(f"photo service sent malformed metadata for photo {photo_id}") from error

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "PhotoClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.aclose()
