"""Stores to test against: files in a temporary folder, and S3 served by moto (the
``moto_s3``, ``bucket`` and ``s3_settings`` fixtures are in tests/conftest.py: the admin's
CSV jobs use them too)."""

import pytest

from shop.storage import FileStorage, S3Storage


@pytest.fixture(params=["file", "s3"])
def store(request, tmp_path, moto_s3, bucket):
    """Each store implementation in turn, empty."""
    if request.param == "file":
        return FileStorage(tmp_path / "store")
    return S3Storage(bucket, "media", endpoint_url=moto_s3.endpoint)


@pytest.fixture(params=["file", "s3"])
def store_settings(request, tmp_path, s3_settings) -> dict:
    """App settings for each store: the default (UPLOAD_FOLDER) and S3."""
    if request.param == "file":
        return {"STORAGE_URL": ""}
    return s3_settings
