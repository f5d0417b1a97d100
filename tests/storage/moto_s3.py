"""A real S3 endpoint for tests: moto's server on a free loopback port.

``MotoS3().start()`` → ``.endpoint`` (``http://127.0.0.1:<port>``), ``.new_bucket()``
(a fresh, empty bucket each time, so tests never see each other's files), ``.stop()``.
The shop talks to it through boto3 exactly as to AWS or MinIO, with dummy credentials
from the usual AWS variables (``aws_environment``).
"""

import os
import uuid
from contextlib import contextmanager

from tests.localstripe_server import free_port

DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Variables that would send boto3 elsewhere or make it sign with something else.
UNSET_AWS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@contextmanager
def aws_environment():
    """Dummy credentials in the environment (moto accepts any), restored afterwards."""
    saved = {name: os.environ.get(name) for name in (*DUMMY_AWS, *UNSET_AWS)}
    os.environ.update(DUMMY_AWS)
    for name in UNSET_AWS:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class MotoS3:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = None

    def start(self) -> "MotoS3":
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"shop-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> set[str]:
        answer = self.client().list_objects_v2(Bucket=bucket)
        return {item["Key"] for item in answer.get("Contents", [])}
