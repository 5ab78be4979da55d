"""POST /api/photos in-process: upload bombs, disguised and broken files, then hypothesis over
parts, names, types and bytes. Every refusal is a 4xx in the project's shape with a Chinese
message, and a refused request leaves nothing behind: no file in PHOTO_DIR, no Redis key."""

from __future__ import annotations

import random
from pathlib import Path
from typing import List, Tuple

import pytest
import redis
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from handoff.settings import HandoffSettings
from tests.test_fuzz import bombs
from tests.test_fuzz.budget import fuzz_settings
from tests.test_fuzz.checks import assert_clear_refusal
from tests.test_fuzz.texts import utf8_char
from tests.test_handoff import images
from tests.test_handoff.conftest import bearer

pytestmark = pytest.mark.fuzz

URL = "/api/photos"
Part = Tuple[str, Tuple[str, bytes, str]]  # (form field, (file name, content, declared type))


def stored(settings: HandoffSettings, redis_client: redis.Redis) -> Tuple[int, int]:
    """Files in PHOTO_DIR (temporary ones included) and photo keys in Redis."""
    photo_dir = Path(settings.photo_dir)
    files = sum(1 for _ in photo_dir.iterdir()) if photo_dir.exists() else 0
    return files, len(redis_client.keys("shouhou:photo*"))


def upload(client: TestClient, token: str, parts: List[Part]):
    return client.post(URL, files=parts, headers=bearer(token))


def one(content: bytes, name: str = "photo.jpg", declared: str = "image/jpeg") -> List[Part]:
    return [("file", (name, content, declared))]


BOMBS = {
    "20000x20000 png": (lambda: one(bombs.png_20000_square(), "huge.png", "image/png"), 413, "too_many_pixels"),
    "png decompression bomb": (lambda: one(bombs.png_decompression_bomb(), "bomb.png", "image/png"), 413, "too_many_pixels"),
    "jpeg claiming 65500x65500": (lambda: one(bombs.jpeg_claiming_size(65_500, 65_500)), 413, "too_many_pixels"),
    "zip renamed .jpg": (lambda: one(bombs.zip_named_jpg()), 415, "unsupported_type"),
    "truncated jpeg": (lambda: one(bombs.truncated_jpeg()), 400, "corrupt"),
    "svg with script": (lambda: one(bombs.SVG_WITH_SCRIPT, "cute.svg", "image/svg+xml"), 415, "unsupported_type"),
    "svg named .jpg": (lambda: one(bombs.SVG_WITH_SCRIPT), 415, "unsupported_type"),
    "gif": (lambda: one(images.gif(), "cat.gif", "image/gif"), 415, "unsupported_type"),
    "0-byte file": (lambda: one(b""), 400, "empty"),
    "bomb as the 2nd of 2 files": (
        lambda: one(images.jpeg()) + one(bombs.png_20000_square(), "2.png", "image/png"), 413, "too_many_pixels"),
}


@pytest.mark.parametrize("make, status, code", BOMBS.values(), ids=BOMBS.keys())
def test_an_upload_bomb_is_refused_clearly_and_leaves_nothing(
    console_client, settings, redis_client, shopper_token, cases, make, status, code
):
    cases.tick()
    response = upload(console_client, shopper_token("shopper-1"), make())
    assert response.status_code == status, response.text
    detail = assert_clear_refusal(response, {code})
    assert not detail["message"].startswith("第1张") and stored(settings, redis_client) == (0, 0)


def test_one_byte_over_the_limit_is_refused_and_the_limit_itself_is_accepted(
    console_client, settings, redis_client, shopper_token, cases
):
    cases.tick(2)
    token = shopper_token("shopper-1")
    over = upload(console_client, token, one(bombs.padded_jpeg(settings.photo_max_bytes + 1)))
    assert_clear_refusal(over, {"too_large"})
    assert over.status_code == 413 and stored(settings, redis_client) == (0, 0)

    at_limit = upload(console_client, token, one(bombs.padded_jpeg(settings.photo_max_bytes)))
    assert at_limit.status_code == 201, at_limit.text


def test_html_hidden_in_a_photo_is_not_served_back(console_client, shopper_token, cases):
    cases.tick()
    token = shopper_token("shopper-1")
    response = upload(console_client, token, one(bombs.jpeg_with_script_comment()))
    assert response.status_code == 201, response.text
    served = console_client.get(f"{URL}/{response.json()['photos'][0]['id']}", headers=bearer(token))
    assert served.status_code == 200 and b"<script" not in served.content
    assert served.headers["X-Content-Type-Options"] == "nosniff"


VALID_IMAGES = [images.jpeg(size=(24, 18)), images.png(size=(20, 20), seed=3), images.webp(size=(16, 12)),
                images.transparent_webp(size=(12, 12)), images.png(size=(10, 10), mode="I;16")]
HOSTILE = [bombs.png_20000_square(), bombs.zip_named_jpg(), bombs.truncated_jpeg(), bombs.SVG_WITH_SCRIPT, images.gif(),
           bombs.jpeg_claiming_size(9000, 9000), images.png_claiming_size(300, 300), b""]


def mutated(seed_image: bytes, seed: int, flips: int, cut: float) -> bytes:
    """The image with some bytes changed and maybe its tail cut off."""
    rng = random.Random(seed)
    data = bytearray(seed_image)
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data[: max(1, int(len(data) * cut))])


content = st.one_of(
    st.sampled_from(VALID_IMAGES),
    st.sampled_from(HOSTILE),
    st.binary(max_size=600),
    st.builds(mutated, st.sampled_from(VALID_IMAGES), st.integers(0, 2**32), st.integers(0, 12),
              st.sampled_from([1.0, 1.0, 0.9, 0.5, 0.1])),
)
part = st.tuples(
    st.sampled_from(["file", "file", "file", "files", "photo", ""]),
    st.tuples(st.text(utf8_char, max_size=40), content,
              st.one_of(st.sampled_from(["image/jpeg", "image/png", "text/html", "application/zip"]),
                        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30))),
)


@given(parts=st.lists(part, max_size=11))
@fuzz_settings(600)
def test_any_upload_is_stored_whole_or_refused_clearly_leaving_nothing(
    console_client, settings, redis_client, shopper_token, cases, parts
):
    cases.tick()
    before = stored(settings, redis_client)
    response = upload(console_client, shopper_token("shopper-1"), parts) if parts else console_client.post(
        URL, headers=bearer(shopper_token("shopper-1")))
    if response.status_code == 201:
        files = [p for p in parts if p[0] == "file"]
        assert len(response.json()["photos"]) == len(files) <= settings.photo_max_per_request
        assert stored(settings, redis_client)[0] == before[0] + len(files)
    else:
        assert_clear_refusal(response)
        assert stored(settings, redis_client) == before


bodies = st.one_of(
    st.binary(max_size=400),
    st.builds(lambda boundary, raw: (boundary, b"--" + boundary.encode() + b"\r\n" + raw),
              st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20),
              st.binary(max_size=300)),
)
declared_types = st.sampled_from(["multipart/form-data", "multipart/form-data; boundary=", "application/json",
                                  "application/x-www-form-urlencoded", "text/plain", ""])


@given(body=bodies, declared=declared_types)
@fuzz_settings(400)
def test_a_body_that_is_no_proper_form_is_refused_clearly(
    console_client, settings, redis_client, shopper_token, cases, body, declared
):
    cases.tick()
    boundary, raw = body if isinstance(body, tuple) else ("", body)
    content_type = f"multipart/form-data; boundary={boundary}" if boundary else declared
    headers = {**bearer(shopper_token("shopper-1")), "Content-Type": content_type}
    response = console_client.post(URL, content=raw, headers=headers)
    assert_clear_refusal(response)
    assert stored(settings, redis_client) == (0, 0)
