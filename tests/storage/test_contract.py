"""The storage contract, run against both stores: files on disk and S3 (moto's server)."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shop.storage import (
    FileMissing,
    FileStorage,
    InvalidName,
    S3Storage,
    StorageError,
    check_name,
)
from tests.localstripe_server import free_port

BAD_NAMES = [
    "",
    "/etc/passwd",
    "../secret.txt",
    "products/../../secret.txt",
    "products/./x.png",
    "products//x.png",
    "products/x.png/",
    ".hidden",
    "products/.x.png.tmp",
    "products/x\x00.png",
    "products\\x.png",
    "products/x y.png",
    "products/%2e%2e/x.png",
    "products/\u00e9.png",
    "a/" * 200 + "x.png",
]


def test_saved_bytes_read_back(store):
    store.save("products/a.png", b"\x89PNG one", "image/png")

    assert store.read("products/a.png") == b"\x89PNG one"
    assert store.exists("products/a.png")
    details, stream = store.open("products/a.png")
    with stream:
        assert stream.read() == b"\x89PNG one"
    assert details.name == "products/a.png"
    assert details.size == len(b"\x89PNG one")
    assert details.etag
    assert abs(details.modified - datetime.now(UTC)) < timedelta(minutes=5)
    assert store.stat("products/a.png") == details


def test_saving_again_replaces_and_changes_the_etag(store):
    store.save("schools/logo.png", b"first")
    first = store.stat("schools/logo.png")

    store.save("schools/logo.png", b"second, longer")

    assert store.read("schools/logo.png") == b"second, longer"
    again = store.stat("schools/logo.png")
    assert again.size == len(b"second, longer")
    assert again.etag != first.etag


def test_a_missing_file(store):
    with pytest.raises(FileMissing):
        store.read("products/missing.png")
    with pytest.raises(FileMissing):
        store.open("products/missing.png")
    with pytest.raises(FileMissing):
        store.stat("products/missing.png")
    assert not store.exists("products/missing.png")


def test_a_folder_is_not_a_file(store):
    store.save("products/a.png", b"x")

    assert not store.exists("products")
    with pytest.raises(FileMissing):
        store.read("products")


def test_delete_removes_and_a_second_delete_is_fine(store):
    store.save("products/a.png", b"a")
    store.save("products/b.png", b"b")

    store.delete("products/a.png")
    store.delete("products/a.png")
    store.delete("products/never-there.png")

    assert not store.exists("products/a.png")
    assert store.read("products/b.png") == b"b"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_before_the_store_is_asked(store, name):
    for call in (store.read, store.stat, store.exists, store.delete, store.open):
        with pytest.raises(InvalidName):
            call(name)
    with pytest.raises(InvalidName):
        store.save(name, b"x")


def test_names_that_are_fine():
    for name in ("products/3f2a.png", "schools/a_b-c.d.webp", "x", "demo/2/summer-polo-1.png"):
        assert check_name(name) == name


def test_check_passes_on_a_working_store(store):
    store.check()


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_name_saved_at_once_is_whole(store, copies):
    """Content-hashed names make two uploads of one picture write one name at once: a
    reader sees whole bytes, never a mix, and no temporary file is left behind."""
    data = bytes(range(256)) * 2048  # 512 KiB
    barrier = threading.Barrier(copies)
    errors = []

    def save():
        try:
            barrier.wait(timeout=10)
            store.save("products/same.png", data, "image/png")
        except Exception as error:  # the test must hear of it
            errors.append(error)

    threads = [threading.Thread(target=save) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert store.read("products/same.png") == data
    if isinstance(store, FileStorage):
        assert [p.name for p in (store.root / "products").iterdir()] == ["same.png"]


# --- the file store --------------------------------------------------------------------


def test_file_store_keeps_to_its_folder(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    root = tmp_path / "store"
    (root / "products").mkdir(parents=True)
    (root / "products" / "link.png").symlink_to(outside)
    store = FileStorage(root)

    with pytest.raises(InvalidName):
        store.read("products/link.png")
    with pytest.raises(InvalidName):
        store.delete("products/link.png")
    assert outside.read_bytes() == b"secret"


def test_file_store_check_fails_when_the_folder_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")

    with pytest.raises(StorageError):
        FileStorage(blocker / "uploads").check()


# --- the S3 store ------------------------------------------------------------------------


def test_s3_keys_sit_under_the_prefix(moto_s3, bucket):
    store = S3Storage(bucket, "/shop/media/", endpoint_url=moto_s3.endpoint)

    store.save("products/a.png", b"a", "image/png")

    assert moto_s3.keys(bucket) == {"shop/media/products/a.png"}
    head = moto_s3.client().head_object(Bucket=bucket, Key="shop/media/products/a.png")
    assert head["ContentType"] == "image/png"


def test_s3_without_a_prefix(moto_s3, bucket):
    store = S3Storage(bucket, endpoint_url=moto_s3.endpoint)

    store.save("products/a.png", b"a")

    assert moto_s3.keys(bucket) == {"products/a.png"}


def test_s3_check_fails_for_a_missing_bucket(moto_s3):
    store = S3Storage("no-such-bucket-here", endpoint_url=moto_s3.endpoint)

    with pytest.raises(StorageError):
        store.check()


def test_s3_that_does_not_answer_is_a_storage_error_not_a_crash(moto_s3):
    store = S3Storage("shop-media", endpoint_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(StorageError):
        store.check()
    with pytest.raises(StorageError):
        store.read("products/a.png")
    with pytest.raises(StorageError):
        store.save("products/a.png", b"a")
