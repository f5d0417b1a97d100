"""``/media/<name>`` serves from the store: two instances sharing one S3 bucket show each
other's uploads with the same headers; bad and missing names are 404s, a store that does
not answer a 503, never a 500."""

import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.http import http_date

from shop.assets import YEAR
from shop.catalog.models import ProductImage
from shop.images import thumbnail_path
from shop.schools.models import School
from shop.storage import get_storage
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.images import picture, upload
from tests.localstripe_server import free_port
from tests.school_factories import make_school

YEAR_CACHE = f"public, max-age={YEAR}, immutable"


def signed_in_manager(app, session_factory):
    with session_factory(app) as db:
        make_user(db, email="boss@factory.example", role="manager")
        db.commit()
    client = app.test_client()
    assert login(client, email="boss@factory.example").status_code == 302
    return client


@pytest.fixture
def instances(make_app, s3_settings, tmp_path):
    """Two instances of the shop: one database, one bucket, separate local folders."""
    first = make_app(**s3_settings, UPLOAD_FOLDER=str(tmp_path / "a-uploads"))
    second = make_app(**s3_settings, UPLOAD_FOLDER=str(tmp_path / "b-uploads"))
    return first, second


def test_a_product_image_uploaded_on_one_instance_is_shown_by_another(
    instances, session_factory, moto_s3, bucket, tmp_path
):
    first, second = instances
    with session_factory(first) as db:
        product = make_product(db, slug="polo")
        db.commit()
    staff = signed_in_manager(first, session_factory)

    assert upload(staff, product, picture(size=(900, 600))).status_code == 302

    page = second.test_client().get("/products/polo")
    src = re.search(r'src="(/media/products/[0-9a-f]{32}\.png)"', page.text).group(1)
    name = src.removeprefix("/media/")
    stored = moto_s3.client().get_object(Bucket=bucket, Key=f"media/{name}")["Body"].read()
    assert name == f"products/{hashlib.sha256(stored).hexdigest()[:32]}.png"
    visitor = second.test_client()
    with visitor.get(src) as response:
        assert response.status_code == 200
        assert response.data == stored
        assert response.mimetype == "image/png"
        assert response.content_length == len(stored)
        assert response.headers["Cache-Control"] == YEAR_CACHE
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        etag = response.headers["ETag"]
        last_modified = response.headers["Last-Modified"]
    with visitor.get("/media/" + thumbnail_path(name)) as thumb:
        assert thumb.status_code == 200 and thumb.mimetype == "image/png"
        assert thumb.headers["Cache-Control"] == YEAR_CACHE
    # The same ETag on every instance: a browser's copy is good whichever one it reaches.
    for app in (first, second):
        with app.test_client().get(src, headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304
            assert again.data == b""
            assert again.headers["ETag"] == etag
            assert again.headers["Cache-Control"] == YEAR_CACHE
        with app.test_client().get(src, headers={"If-Modified-Since": last_modified}) as since:
            assert since.status_code == 304
    # Nothing went to either host's disk.
    assert not (tmp_path / "a-uploads").exists() and not (tmp_path / "b-uploads").exists()


def test_an_image_deleted_on_one_instance_is_gone_from_the_other(
    instances, session_factory, moto_s3, bucket
):
    first, second = instances
    with session_factory(first) as db:
        product = make_product(db, slug="polo")
        db.commit()
    staff = signed_in_manager(first, session_factory)
    assert upload(staff, product, picture()).status_code == 302
    with session_factory(first) as db:
        image = db.scalars(sa.select(ProductImage)).one()
    assert moto_s3.keys(bucket) == {f"media/{image.path}", f"media/{thumbnail_path(image.path)}"}
    assert second.test_client().get(f"/media/{image.path}").status_code == 200

    assert staff.post(f"/admin/images/{image.id}/delete").status_code == 302

    assert moto_s3.keys(bucket) == set()
    assert second.test_client().get(f"/media/{image.path}").status_code == 404


def test_a_school_logo_uploaded_on_one_instance_is_shown_by_another(
    instances, session_factory, moto_s3, bucket
):
    first, second = instances
    with session_factory(first) as db:
        school = make_school(db, slug="greenfield")
        db.commit()
    staff = signed_in_manager(first, session_factory)

    def send_logo(data):
        return staff.post(
            f"/admin/schools/{school.id}/logo",
            data={"logo": (io.BytesIO(data), "logo.png")},
            content_type="multipart/form-data",
        )

    assert send_logo(picture(size=(64, 64))).status_code == 302
    with session_factory(first) as db:
        old_path = db.get(School, school.id).logo_path
    page = second.test_client().get("/schools/greenfield").text
    assert f'src="/media/{old_path}"' in page
    with second.test_client().get(f"/media/{old_path}") as response:
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.headers["Cache-Control"] == YEAR_CACHE

    # A new logo replaces the old one; the old files go.
    assert send_logo(picture(size=(80, 64))).status_code == 302
    with session_factory(first) as db:
        new_path = db.get(School, school.id).logo_path
    assert new_path != old_path
    assert moto_s3.keys(bucket) == {f"media/{new_path}", f"media/{thumbnail_path(new_path)}"}
    assert second.test_client().get(f"/media/{old_path}").status_code == 404

    # The same logo again: the same name, kept (not deleted as "the previous one").
    assert send_logo(picture(size=(80, 64))).status_code == 302
    assert moto_s3.keys(bucket) == {f"media/{new_path}", f"media/{thumbnail_path(new_path)}"}


BAD_PATHS = [
    "/media/../config.py",
    "/media/%2e%2e/config.py",
    "/media/products/..%2f..%2fconfig.py",
    "/media/products/%2e%2e/%2e%2e/config.py",
    "/media/products/x%5c..%5c..%5cconfig.py",
    "/media/products/.x.png.tmp",
    "/media/products//x.png",
    "/media//etc/passwd",
    "/media/products/%C3%A9.png",
    "/media/products/" + "a" * 300 + ".png",
    "/media/products",
    "/media/products/",
    "/media/private/report.pdf",
    "/media/x.png",
    "/media/products/missing.png",
    "/media/schools/missing.png",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_missing_and_malicious_names_are_404s(make_app, store_settings, path):
    app = make_app(**store_settings)
    storage = get_storage(app)
    storage.save("private/report.pdf", b"%PDF private")  # stored, but not public
    storage.save("products/real.png", b"\x89PNG real")
    # A file store's half-written file (a dotted name no store accepts).
    half_written = Path(app.config["UPLOAD_FOLDER"], "products", ".x.png.tmp")
    half_written.parent.mkdir(parents=True, exist_ok=True)
    half_written.write_bytes(b"half real")

    # ("//" is first redirected to "/", as everywhere in the shop.)
    with app.test_client().get(path, follow_redirects=True) as response:
        assert response.status_code == 404, path
        assert b"%PDF" not in response.data and b"PNG real" not in response.data
        assert b"half real" not in response.data


@pytest.mark.parametrize("path", ["/media/products/real.png%00", "/media/products/%00"])
def test_a_nul_byte_is_refused(make_app, store_settings, path):
    """The shop refuses NUL bytes in any input (400, shop.inputs) before /media/ runs."""
    app = make_app(**store_settings)
    get_storage(app).save("products/real.png", b"\x89PNG real")

    with app.test_client().get(path) as response:
        assert response.status_code in (400, 404)
        assert b"PNG real" not in response.data


def test_plain_names_are_kept_a_day_and_answer_if_modified_since(make_app, store_settings):
    """The demo drawings keep their names when redrawn: a day, not a year."""
    app = make_app(**store_settings)
    get_storage(app).save("products/summer-polo-1.png", b"\x89PNG drawing", "image/png")
    client = app.test_client()

    with client.get("/media/products/summer-polo-1.png") as response:
        assert response.status_code == 200
        assert response.data == b"\x89PNG drawing"
        assert response.headers["Cache-Control"] == f"public, max-age={24 * 3600}"
        modified = response.last_modified
    later = http_date(modified + timedelta(minutes=1))
    with client.get("/media/products/summer-polo-1.png", headers={"If-Modified-Since": later}) as r:
        assert r.status_code == 304
    earlier = http_date(modified - timedelta(days=1))
    with client.get(
        "/media/products/summer-polo-1.png", headers={"If-Modified-Since": earlier}
    ) as response:
        assert response.status_code == 200 and response.data == b"\x89PNG drawing"
    with client.get(
        "/media/products/summer-polo-1.png", headers={"If-None-Match": '"something-else"'}
    ) as response:
        assert response.status_code == 200


def test_a_head_request_sends_no_bytes(make_app, store_settings):
    app = make_app(**store_settings)
    get_storage(app).save("products/a.png", b"\x89PNG 12345", "image/png")

    with app.test_client().head("/media/products/a.png") as response:
        assert response.status_code == 200
        assert response.content_length == len(b"\x89PNG 12345")
        assert response.data == b""


def test_a_store_that_does_not_answer_is_a_503_not_a_500(make_app, moto_s3):
    app = make_app(
        STORAGE_URL="s3://shop-media/media", STORAGE_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}"
    )
    client = app.test_client()

    assert client.get("/media/products/a.png").status_code == 503
    assert client.get("/media/products/a.png", headers={"If-None-Match": '"x"'}).status_code == 503
    assert client.get("/media/../x.png").status_code == 404
