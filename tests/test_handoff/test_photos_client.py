"""PhotoClient against the real handoff app served by uvicorn on a loopback port (and against dead ports)."""

from __future__ import annotations

from typing import Callable, Iterator

import httpx
import pytest
import redis

from actions.clients.photos_client import PhotoClient, PhotoServiceError
from handoff.main import create_app
from handoff.settings import HandoffSettings
from tests.servers import loopback_socket, serve_in_thread, url_of
from tests.test_handoff import images
from tests.test_handoff.conftest import SERVICE_TOKEN, bearer


@pytest.fixture()
def service_url(settings: HandoffSettings, redis_client: redis.Redis) -> Iterator[str]:
    with serve_in_thread(create_app(settings)) as url:
        yield url


def upload_over_http(service_url: str, token: str, data: bytes) -> str:
    response = httpx.post(f"{service_url}/api/photos", files={"file": ("photo.jpg", data)}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()["photos"][0]["id"]


async def test_get_returns_the_metadata_the_actions_check(
    service_url: str, shopper_token: Callable[[str], str]
) -> None:
    token = shopper_token("shopper-1")
    first = upload_over_http(service_url, token, images.jpeg(seed=1))
    again = upload_over_http(service_url, token, images.jpeg(seed=1))

    async with PhotoClient(service_url, SERVICE_TOKEN, timeout=5) as client:
        info = await client.get(again)

    assert info is not None
    assert (info.id, info.owner, info.duplicate_of) == (again, "shopper-1", first)
    assert (info.width, info.height, info.content_type) == (64, 48, "image/jpeg")
    assert len(info.sha256) == 64


async def test_an_unknown_or_made_up_id_is_none(service_url: str) -> None:
    async with PhotoClient(service_url + "/", SERVICE_TOKEN) as client:
        assert await client.get("AAAAAAAAAAAAAAAAAAAAAA") is None
        assert await client.get("../health") is None


async def test_a_wrong_service_token_is_a_clear_error(service_url: str, shopper_token: Callable[[str], str]) -> None:
    photo_id = upload_over_http(service_url, shopper_token("shopper-1"), images.png())
    async with PhotoClient(service_url, "wrong-token") as client:
        with pytest.raises(PhotoServiceError, match="refused the service token"):
            await client.get(photo_id)


async def test_a_service_that_is_down_is_a_clear_error() -> None:
    listener = loopback_socket()
    url = url_of(listener)
    listener.close()  # nothing listens on this port any more
    async with PhotoClient(url, SERVICE_TOKEN, timeout=2) as client:
        with pytest.raises(PhotoServiceError, match="unreachable"):
            await client.get("AAAAAAAAAAAAAAAAAAAAAA")


async def test_a_service_that_never_answers_times_out() -> None:
    listener = loopback_socket()
    listener.listen()  # the kernel accepts the connection; nobody ever replies
    try:
        async with PhotoClient(url_of(listener), SERVICE_TOKEN, timeout=0.3) as client:
            with pytest.raises(PhotoServiceError, match="timed out"):
                await client.get("AAAAAAAAAAAAAAAAAAAAAA")
    finally:
        listener.close()
