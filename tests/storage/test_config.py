"""``STORAGE_URL`` picks the store once, at start-up; a bad one stops the start."""

from pathlib import Path

import pytest

from shop.config import ConfigError
from shop.storage import FileStorage, S3Storage, get_storage, parse_storage_url
from tests.localstripe_server import free_port


def test_by_default_uploads_are_files_in_the_upload_folder(make_app, tmp_path):
    app = make_app()

    storage = get_storage(app)

    assert isinstance(storage, FileStorage)
    assert storage.root == (tmp_path / "uploads").resolve()


def test_a_file_url_names_the_folder(make_app, tmp_path):
    app = make_app(STORAGE_URL=f"file://{tmp_path}/media")

    storage = get_storage(app)

    assert isinstance(storage, FileStorage)
    assert storage.root == (tmp_path / "media").resolve()


def test_an_s3_url_from_the_environment(make_app, monkeypatch, moto_s3, bucket):
    monkeypatch.setenv("STORAGE_URL", f"s3://{bucket}/shop/media/")
    monkeypatch.setenv("STORAGE_ENDPOINT_URL", moto_s3.endpoint)
    app = make_app()

    storage = get_storage(app)

    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix) == (bucket, "shop/media")
    assert storage.endpoint_url == moto_s3.endpoint
    storage.check()


def test_the_store_is_built_once_per_app(make_app):
    app = make_app()
    with app.app_context():
        assert get_storage() is get_storage(app) is app.extensions["storage"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example/uploads",
        "https://shop-media.s3.amazonaws.com/media",
        "s3://",
        "s3:///media",
        "s3://ab/media",
        "s3://Upper-Case/media",
        "s3://shop_media/media",
        "s3://shop..media/media",
        "s3://shop-media/../media",
        "s3://shop-media/media/.hidden",
        "s3://shop-media/me dia",
        "s3://AKIAKEY:secret@shop-media/media",
        "s3://shop-media/media?region=eu-west-1",
        "s3://shop-media/media#x",
        "file://relative/uploads",
        "uploads",
    ],
)
def test_a_bad_storage_url_is_refused_at_start_up(make_app, url):
    with pytest.raises(ConfigError, match="STORAGE_URL"):
        make_app(STORAGE_URL=url)


@pytest.mark.parametrize("endpoint", ["minio:9000", "ftp://minio:9000", "http://"])
def test_a_bad_endpoint_is_refused_at_start_up(make_app, endpoint):
    with pytest.raises(ConfigError, match="STORAGE_ENDPOINT_URL"):
        make_app(STORAGE_URL="s3://shop-media/media", STORAGE_ENDPOINT_URL=endpoint)


def test_a_bad_storage_url_stops_the_command_line_too(monkeypatch):
    from shop import create_app

    monkeypatch.setenv("STORAGE_URL", "s3://x")
    with pytest.raises(ConfigError, match="not a bucket name"):
        create_app({"TESTING": True, "SECRET_KEY": "test"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", ("file", "", "", "")),
        ("  ", ("file", "", "", "")),
        ("file://", ("file", "", "", "")),
        ("file:///srv/shop/media", ("file", "/srv/shop/media", "", "")),
        ("file://localhost/srv/media", ("file", "/srv/media", "", "")),
        ("s3://shop-media", ("s3", "", "shop-media", "")),
        ("s3://shop-media/", ("s3", "", "shop-media", "")),
        ("s3://shop.media-1/a/b/", ("s3", "", "shop.media-1", "a/b")),
    ],
)
def test_good_urls(url, expected):
    location = parse_storage_url(url)
    assert (location.scheme, location.path, location.bucket, location.prefix) == expected


def test_the_readme_documents_the_settings():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "STORAGE_URL" in readme and "STORAGE_ENDPOINT_URL" in readme


def test_readiness_asks_the_store(make_app, s3_settings):
    app = make_app(**s3_settings)

    response = app.test_client().get("/readyz")

    assert response.get_json()["checks"]["storage"]["status"] == "ok"


def test_readiness_fails_while_the_store_does_not_answer(make_app, moto_s3):
    app = make_app(
        STORAGE_URL="s3://shop-media/media", STORAGE_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"
    )

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert "storage" in body["failing"]
    assert body["checks"]["storage"]["error"] == "unreachable"
    assert "shop-media" not in response.text  # bucket names stay in the log


def test_readiness_fails_for_a_missing_bucket(make_app, moto_s3):
    app = make_app(STORAGE_URL="s3://no-such-bucket-here", STORAGE_ENDPOINT_URL=moto_s3.endpoint)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"]["error"] == "unreachable"
