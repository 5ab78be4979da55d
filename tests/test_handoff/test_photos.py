"""PhotoStore on a real Redis (the tests' own database) and real files in tmp_path."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import AsyncIterator

import pytest
import pytest_asyncio
from PIL import ExifTags, Image
from redis.asyncio import Redis

from handoff import redis_keys
from handoff.photo_images import PhotoLimits, PhotoRejected
from handoff.photos import PhotoNotFound, PhotoStore
from tests.test_handoff import images

LIMITS = PhotoLimits(max_bytes=10 * 1024 * 1024, max_pixels=40_000_000, max_side=2560)


@pytest_asyncio.fixture(loop_scope="function")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()


@pytest.fixture()
def photo_dir(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture()
def store(redis: Redis, photo_dir: Path) -> PhotoStore:
    return PhotoStore(redis, photo_dir, LIMITS)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def refusal(store: PhotoStore, data: bytes) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        await store.save("shopper-1", data)
    return caught.value


async def assert_nothing_stored(redis: Redis, photo_dir: Path) -> None:
    assert await redis.keys("*") == []
    assert not photo_dir.exists() or list(photo_dir.iterdir()) == []


async def test_a_jpeg_with_gps_exif_is_stored_without_any_exif(store: PhotoStore) -> None:
    original = images.jpeg_with_gps()
    assert opened(original).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry GPS

    info = await store.save("shopper-1", original)
    stored = await store.read(info.id)

    assert info.content_type == "image/jpeg"
    assert opened(stored).format == "JPEG"
    assert dict(opened(stored).getexif()) == {}
    assert b"Exif" not in stored and b"ShouhouPhone" not in stored
    assert (info.width, info.height, info.bytes) == (64, 48, len(stored))


async def test_the_exif_orientation_is_applied_before_the_exif_is_dropped(store: PhotoStore) -> None:
    # Orientation 6: the camera held upright, the sensor's pixels stored sideways.
    info = await store.save("shopper-1", images.jpeg_with_gps(size=(60, 40), orientation=6))
    assert (info.width, info.height) == (40, 60)
    assert opened(await store.read(info.id)).size == (40, 60)


async def test_a_png_stays_png(store: PhotoStore, photo_dir: Path) -> None:
    info = await store.save("shopper-1", images.png())
    assert info.content_type == "image/png"
    assert opened(await store.read(info.id)).format == "PNG"
    assert (photo_dir / f"{info.id}.png").is_file()


async def test_a_webp_photo_becomes_jpeg_and_a_transparent_one_png(store: PhotoStore) -> None:
    photo = await store.save("shopper-1", images.webp())
    transparent = await store.save("shopper-1", images.transparent_webp(seed=1))
    assert (photo.content_type, opened(await store.read(photo.id)).format) == ("image/jpeg", "JPEG")
    assert (transparent.content_type, opened(await store.read(transparent.id)).mode) == ("image/png", "RGBA")


async def test_a_large_photo_is_scaled_down_to_the_longest_side(redis: Redis, photo_dir: Path) -> None:
    store = PhotoStore(
        redis, photo_dir, PhotoLimits(max_bytes=LIMITS.max_bytes, max_pixels=LIMITS.max_pixels, max_side=100)
    )
    info = await store.save("shopper-1", images.jpeg(size=(300, 120)))
    assert (info.width, info.height) == (100, 40)
    assert opened(await store.read(info.id)).size == (100, 40)


async def test_a_gif_is_refused_and_nothing_is_stored(store: PhotoStore, redis: Redis, photo_dir: Path) -> None:
    error = await refusal(store, images.gif())
    assert (error.code, error.message_zh) == (PhotoRejected.UNSUPPORTED_TYPE, "只支持 JPG/PNG/WebP 图片")
    await assert_nothing_stored(redis, photo_dir)


async def test_a_text_file_is_refused(store: PhotoStore, redis: Redis, photo_dir: Path) -> None:
    error = await refusal(store, "我的订单号是 20250301001，杯子碎了".encode())
    assert error.code == PhotoRejected.UNSUPPORTED_TYPE
    await assert_nothing_stored(redis, photo_dir)


async def test_an_empty_file_is_refused(store: PhotoStore) -> None:
    assert (await refusal(store, b"")).code == PhotoRejected.EMPTY


async def test_a_file_over_the_byte_limit_is_refused_with_the_limit_in_megabytes(redis: Redis, photo_dir: Path) -> None:
    data = images.png(size=(200, 200))
    store = PhotoStore(
        redis, photo_dir, PhotoLimits(max_bytes=len(data) - 1, max_pixels=LIMITS.max_pixels, max_side=2560)
    )
    error = await refusal(store, data)
    assert error.code == PhotoRejected.TOO_LARGE
    assert error.message_zh.startswith("图片太大，请压缩到") and error.message_zh.endswith("MB以内")
    assert (
        "图片太大，请压缩到10MB以内"
        == (await refusal(PhotoStore(redis, photo_dir, LIMITS), b"x" * (LIMITS.max_bytes + 1))).message_zh
    )
    await assert_nothing_stored(redis, photo_dir)


# 64 million pixels (over our 40 million) and 400 million (over Pillow's own bomb limit), in a few hundred bytes.
@pytest.mark.parametrize("side", [8_000, 20_000])
async def test_too_many_pixels_are_refused_from_the_header_without_decoding(
    store: PhotoStore, redis: Redis, photo_dir: Path, side: int
) -> None:
    forged = images.png_claiming_size(side, side)
    assert len(forged) < 1000
    error = await refusal(store, forged)
    assert (error.code, error.message_zh) == (PhotoRejected.TOO_MANY_PIXELS, "图片尺寸过大，请裁剪或缩小后再上传")
    await assert_nothing_stored(redis, photo_dir)


async def test_the_pixel_limit_is_a_setting(redis: Redis, photo_dir: Path) -> None:
    store = PhotoStore(redis, photo_dir, PhotoLimits(max_bytes=LIMITS.max_bytes, max_pixels=64 * 48 - 1, max_side=2560))
    assert (await refusal(store, images.jpeg(size=(64, 48)))).code == PhotoRejected.TOO_MANY_PIXELS
    assert (await store.save("shopper-1", images.jpeg(size=(63, 48)))).width == 63


async def test_a_forged_header_within_the_limit_is_refused_as_corrupt(store: PhotoStore) -> None:
    assert (await refusal(store, images.png_claiming_size(200, 200))).code == PhotoRejected.CORRUPT


@pytest.mark.parametrize("make", [images.jpeg, images.png, images.webp], ids=["jpeg", "png", "webp"])
async def test_a_truncated_file_is_refused_as_corrupt(store: PhotoStore, redis: Redis, photo_dir: Path, make) -> None:
    data = make(size=(120, 90))
    error = await refusal(store, data[: len(data) // 2])
    assert (error.code, error.message_zh) == (PhotoRejected.CORRUPT, "文件已损坏，请重新拍摄或选择其他图片")
    await assert_nothing_stored(redis, photo_dir)


async def test_the_same_photo_twice_is_marked_as_a_duplicate_of_the_first(store: PhotoStore) -> None:
    first = await store.save("shopper-1", images.jpeg_with_gps(seed=3))
    # The same pixels without the EXIF block: different bytes, same photo.
    again = await store.save("shopper-1", images.jpeg(seed=3))
    other = await store.save("shopper-1", images.jpeg(seed=4))

    assert first.duplicate_of is None and other.duplicate_of is None
    assert again.duplicate_of == first.id and again.sha256 == first.sha256 and again.id != first.id
    assert await store.find_duplicate("shopper-1", first.sha256) == first.id
    assert (await store.get(again.id)).duplicate_of == first.id


async def test_duplicates_are_per_owner(store: PhotoStore) -> None:
    mine = await store.save("shopper-1", images.png(seed=5))
    theirs = await store.save("guest:conv-9", images.png(seed=5))
    assert theirs.duplicate_of is None
    assert await store.find_duplicate("guest:conv-9", mine.sha256) == theirs.id
    assert await store.find_duplicate("shopper-2", mine.sha256) is None


async def test_two_uploads_of_the_same_photo_at_once_make_one_original(store: PhotoStore) -> None:
    saved = await asyncio.gather(*(store.save("shopper-1", images.png(seed=6)) for _ in range(4)))
    originals = [info for info in saved if info.duplicate_of is None]
    assert len(originals) == 1
    assert all(info.duplicate_of == originals[0].id for info in saved if info is not originals[0])


async def test_metadata_is_kept_in_redis_and_read_back(store: PhotoStore, redis: Redis) -> None:
    info = await store.save("shopper-1", images.png())
    fields = await redis.hgetall(redis_keys.PHOTO.format(photo_id=info.id))
    assert fields[b"owner"] == b"shopper-1" and fields[b"sha256"] == info.sha256.encode()
    assert await store.get(info.id) == info
    assert info.created_at.tzinfo is not None


async def test_ids_are_made_by_the_server_and_files_are_complete(store: PhotoStore, photo_dir: Path) -> None:
    first, second = await store.save_many("shopper-1", [images.jpeg(seed=1), images.png(seed=2)])
    assert first.id != second.id and len(first.id) == 22
    names = sorted(path.name for path in photo_dir.iterdir())
    assert names == sorted([f"{first.id}.jpg", f"{second.id}.png"])  # no temporary file left behind
    assert (photo_dir / f"{first.id}.jpg").read_bytes() == await store.read(first.id)


async def test_save_many_stores_nothing_when_one_file_is_refused(
    store: PhotoStore, redis: Redis, photo_dir: Path
) -> None:
    with pytest.raises(PhotoRejected) as caught:
        await store.save_many("shopper-1", [images.jpeg(), images.gif(), images.png()])
    assert caught.value.message_zh == "第2张图片：只支持 JPG/PNG/WebP 图片"
    await assert_nothing_stored(redis, photo_dir)


@pytest.mark.parametrize("photo_id", ["no-such-photo-00000000", "../../etc/passwd", "", "x" * 200])
async def test_unknown_or_malformed_ids_are_not_found(store: PhotoStore, photo_id: str) -> None:
    assert await store.get(photo_id) is None
    with pytest.raises(PhotoNotFound):
        await store.read(photo_id)
