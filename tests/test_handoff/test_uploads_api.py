"""The photo routes through the real app (lifespan included), a real Redis and real files."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, List, Tuple

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image

from handoff.main import create_app
from handoff.settings import HandoffSettings
from handoff.shopper_tokens import issue_shopper_token
from tests.test_handoff import images
from tests.test_handoff.conftest import SERVICE_TOKEN, SHOPPER_TOKEN_SECRET, bearer

Files = List[Tuple[str, Tuple[str, bytes, str]]]


@pytest.fixture()
def client(settings: HandoffSettings, redis_client: redis.Redis) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def as_files(*contents: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> Files:
    return [("file", (f"{index}-{name}", data, content_type)) for index, data in enumerate(contents)]


def upload(client: TestClient, token: str, *contents: bytes, **naming: str):
    return client.post("/api/photos", files=as_files(*contents, **naming), headers=bearer(token))


def uploaded_id(client: TestClient, token: str, data: bytes) -> str:
    response = upload(client, token, data)
    assert response.status_code == 201, response.text
    return response.json()["photos"][0]["id"]


def test_health_says_redis_answers(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "redis": True}


def test_an_upload_returns_server_made_ids_and_sizes(client: TestClient, shopper_token: Callable[[str], str]) -> None:
    response = upload(client, shopper_token("shopper-1"), images.jpeg_with_gps(size=(80, 60)), images.png(seed=1))
    assert response.status_code == 201
    photos = response.json()["photos"]
    assert [set(photo) for photo in photos] == [{"id", "width", "height", "bytes"}] * 2
    assert [(photo["width"], photo["height"]) for photo in photos] == [(80, 60), (64, 48)]
    assert not any(photo["id"].startswith("0-") for photo in photos)  # the file name is not the id


def test_nine_files_are_accepted_and_ten_refused(
    client: TestClient, shopper_token: Callable[[str], str], settings: HandoffSettings
) -> None:
    token = shopper_token("shopper-1")
    assert len(upload(client, token, *(images.jpeg(size=(16, 16), seed=i) for i in range(9))).json()["photos"]) == 9

    response = upload(client, token, *(images.jpeg(size=(16, 16), seed=i) for i in range(10)))
    assert response.status_code == 400
    assert response.json() == {"detail": {"code": "too_many_files", "message": "一次最多上传9张图片"}}
    assert len(list(settings.photo_dir.iterdir())) == 9  # nothing of the refused request was stored


def test_the_type_comes_from_the_content_not_the_name(client: TestClient, shopper_token: Callable[[str], str]) -> None:
    token = shopper_token("shopper-1")
    renamed = upload(client, token, images.jpeg(), name="notes.txt", content_type="text/plain")
    assert renamed.status_code == 201

    disguised = upload(client, token, images.gif(), name="photo.jpg", content_type="image/jpeg")
    assert disguised.status_code == 415
    assert disguised.json() == {"detail": {"code": "unsupported_type", "message": "只支持 JPG/PNG/WebP 图片"}}


def test_refusals_have_fitting_statuses_and_chinese_messages(
    client: TestClient, shopper_token: Callable[[str], str]
) -> None:
    token = shopper_token("shopper-1")
    truncated = images.jpeg(size=(120, 90))[:400]
    corrupt = upload(client, token, images.png(), truncated)
    assert corrupt.status_code == 400
    assert corrupt.json()["detail"] == {"code": "corrupt", "message": "第2张图片：文件已损坏，请重新拍摄或选择其他图片"}

    huge = upload(client, token, images.png_claiming_size(8000, 8000))
    assert huge.status_code == 413 and huge.json()["detail"]["code"] == "too_many_pixels"

    no_file = client.post("/api/photos", data={"note": "杯子碎了"}, headers=bearer(token))
    assert no_file.status_code == 400 and no_file.json()["detail"]["message"] == "请选择要上传的图片"

    text_field = client.post("/api/photos", data={"file": "not a file"}, headers=bearer(token))
    assert text_field.status_code == 400 and text_field.json()["detail"]["code"] == "not_a_file"


def test_files_over_the_byte_limit_are_refused(
    settings: HandoffSettings, redis_client: redis.Redis, shopper_token: Callable[[str], str]
) -> None:
    big = images.png(size=(300, 300))
    small_limit = settings.copy(update={"photo_max_bytes": len(big) - 1, "photo_max_per_request": 2})
    with TestClient(create_app(small_limit)) as client:
        response = upload(client, shopper_token("shopper-1"), big)
        assert response.status_code == 413
        assert response.json()["detail"]["code"] == "too_large"
        assert response.json()["detail"]["message"].startswith("图片太大，请压缩到")

        declared_too_big = client.post(
            "/api/photos",
            content=b"x" * (2 * len(big) + 70_000),
            headers={**bearer(shopper_token("shopper-1")), "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert declared_too_big.status_code == 413
        assert declared_too_big.json()["detail"]["code"] == "request_too_large"


def test_a_malformed_multipart_body_is_a_clear_400(client: TestClient, shopper_token: Callable[[str], str]) -> None:
    response = client.post(
        "/api/photos",
        content=b"garbage",
        headers={**bearer(shopper_token("shopper-1")), "Content-Type": "multipart/form-data"},
    )
    assert response.status_code == 400
    assert response.json()["detail"]["code"] == "bad_form"


def test_uploading_needs_a_valid_token(client: TestClient) -> None:
    anonymous = client.post("/api/photos", files=as_files(images.jpeg()))
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert anonymous.json()["detail"]["message"] == "身份校验失败，请重新打开聊天"

    forged = issue_shopper_token("shopper-1", "not-the-secret-0123456789abcdef-xyz", ttl_seconds=600)
    assert upload(client, forged, images.jpeg()).status_code == 401
    assert upload(client, SERVICE_TOKEN, images.jpeg()).status_code == 401  # the service uploads nothing


def test_an_expired_token_gets_401_with_a_chinese_message(client: TestClient) -> None:
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    expired = issue_shopper_token("shopper-1", SHOPPER_TOKEN_SECRET, ttl_seconds=600, now=an_hour_ago)
    response = upload(client, expired, images.jpeg())
    assert response.status_code == 401
    assert response.json() == {"detail": {"code": "token_expired", "message": "登录已过期，请重新打开聊天"}}


def test_the_owner_reads_the_clean_photo(client: TestClient, shopper_token: Callable[[str], str]) -> None:
    token = shopper_token("shopper-1")
    photo_id = uploaded_id(client, token, images.jpeg_with_gps())
    response = client.get(f"/api/photos/{photo_id}", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (64, 48) and dict(image.getexif()) == {}


def test_another_shopper_gets_the_same_404_as_for_a_photo_that_does_not_exist(
    client: TestClient, shopper_token: Callable[[str], str]
) -> None:
    photo_id = uploaded_id(client, shopper_token("shopper-1"), images.jpeg())
    someone_else = client.get(f"/api/photos/{photo_id}", headers=bearer(shopper_token("shopper-2")))
    nobody = client.get("/api/photos/AAAAAAAAAAAAAAAAAAAAAA", headers=bearer(shopper_token("shopper-2")))
    assert someone_else.status_code == nobody.status_code == 404
    assert (
        someone_else.json() == nobody.json() == {"detail": {"code": "photo_not_found", "message": "图片不存在或已失效"}}
    )
    assert client.get(f"/api/photos/{photo_id}").status_code == 401


def test_a_guests_photos_are_theirs_alone(
    client: TestClient, guest_token: Callable[[str], str], shopper_token: Callable[[str], str]
) -> None:
    photo_id = uploaded_id(client, guest_token("conv-1"), images.png())
    assert client.get(f"/api/photos/{photo_id}", headers=bearer(guest_token("conv-1"))).status_code == 200
    assert client.get(f"/api/photos/{photo_id}", headers=bearer(guest_token("conv-2"))).status_code == 404
    assert client.get(f"/api/photos/{photo_id}", headers=bearer(shopper_token("conv-1"))).status_code == 404


def test_the_service_token_reads_any_photo(client: TestClient, shopper_token: Callable[[str], str]) -> None:
    photo_id = uploaded_id(client, shopper_token("shopper-1"), images.png())
    response = client.get(f"/api/photos/{photo_id}", headers=bearer(SERVICE_TOKEN))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"


def test_the_internal_metadata_endpoint_needs_the_service_token(
    client: TestClient, shopper_token: Callable[[str], str]
) -> None:
    token = shopper_token("shopper-1")
    first = uploaded_id(client, token, images.jpeg(seed=8))
    again = uploaded_id(client, token, images.jpeg(seed=8))

    assert client.get(f"/internal/photos/{again}").status_code == 401
    as_owner = client.get(f"/internal/photos/{again}", headers=bearer(token))
    assert as_owner.status_code == 401 and as_owner.json()["detail"]["code"] == "service_token_required"

    metadata = client.get(f"/internal/photos/{again}", headers=bearer(SERVICE_TOKEN)).json()
    assert metadata["id"] == again and metadata["owner"] == "shopper-1" and metadata["duplicate_of"] == first
    assert {"sha256", "width", "height", "bytes", "content_type", "created_at"} <= set(metadata)
    assert client.get("/internal/photos/AAAAAAAAAAAAAAAAAAAAAA", headers=bearer(SERVICE_TOKEN)).status_code == 404
