"""Stores to test against: files in a temporary folder, and S3 served by moto.

The dummy AWS credentials go into the environment when this file is collected, before any
test runs: the worker processes that ``tests.at_once`` starts on PostgreSQL copy the
environment when they start, and must reach moto with them too."""

import os

import pytest

from shop.storage import FileStorage, S3Storage
from tests.storage.moto_s3 import DUMMY_AWS, MotoS3, aws_environment

os.environ.update(DUMMY_AWS)


@pytest.fixture(scope="session")
def moto_s3():
    with aws_environment():
        server = MotoS3().start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def bucket(moto_s3) -> str:
    """A fresh, empty bucket on moto's server."""
    return moto_s3.new_bucket()


@pytest.fixture
def s3_settings(moto_s3, bucket) -> dict:
    """Settings that put an app's uploads in this test's bucket (under a prefix)."""
    return {"STORAGE_URL": f"s3://{bucket}/media", "STORAGE_ENDPOINT_URL": moto_s3.endpoint}


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
