"""Uploads through the admin, on each store: names are the hash of the bytes, one picture
uploaded twice is stored once and kept while anything shows it, the same request sent
several times at once leaves whole files, and a failing store is a 503 form, not a 500."""

import hashlib
import io
import threading

import pytest
import sqlalchemy as sa
from PIL import Image

from shop.catalog.models import Product, ProductImage
from shop.images import save_derived_sizes, thumbnail_path
from shop.storage import StorageError, get_storage
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.admin import audits
from tests.helpers.images import picture, upload


@pytest.fixture
def app(make_app, store_settings):
    return make_app(**store_settings)


@pytest.fixture
def product(session):
    product = make_product(session, slug="polo")
    session.commit()
    return product


@pytest.fixture
def staff(app, session):
    make_user(session, email="boss@factory.example", role="manager")
    session.commit()
    client = app.test_client()
    assert login(client, email="boss@factory.example").status_code == 302
    return client


def images_of(session, product) -> list[ProductImage]:
    session.expire_all()
    return list(session.get(Product, product.id).images)


def test_an_upload_is_named_after_its_bytes_with_a_thumbnail(app, session, product, staff):
    assert upload(staff, product, picture("JPEG", size=(900, 600))).status_code == 302

    [image] = images_of(session, product)
    storage = get_storage(app)
    data = storage.read(image.path)
    assert image.path == f"products/{hashlib.sha256(data).hexdigest()[:32]}.jpg"
    with Image.open(io.BytesIO(storage.read(thumbnail_path(image.path)))) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (400, 267)


def test_derived_sizes_come_from_the_stored_image_alone(app, session, product, staff):
    """The thumbnail can be made again later (a job) from the stored name: same bytes."""
    assert upload(staff, product, picture("PNG", size=(900, 600))).status_code == 302
    [image] = images_of(session, product)
    storage = get_storage(app)
    first = storage.read(thumbnail_path(image.path))
    storage.delete(thumbnail_path(image.path))

    save_derived_sizes(storage, image.path)
    save_derived_sizes(storage, image.path)

    assert storage.read(thumbnail_path(image.path)) == first


def test_one_picture_uploaded_twice_is_stored_once_and_kept_while_shown(
    app, session, product, staff
):
    storage = get_storage(app)
    assert upload(staff, product, picture(), alt="front").status_code == 302
    assert upload(staff, product, picture(), alt="again").status_code == 302
    (first, path), (second, same) = [(i.id, i.path) for i in images_of(session, product)]
    assert path == same
    names = (path, thumbnail_path(path))

    assert staff.post(f"/admin/images/{first}/delete").status_code == 302
    assert [i.alt_text for i in images_of(session, product)] == ["again"]
    assert all(storage.exists(name) for name in names)
    with staff.get(f"/media/{path}") as response:
        assert response.status_code == 200

    assert staff.post(f"/admin/images/{second}/delete").status_code == 302
    assert images_of(session, product) == []
    assert not any(storage.exists(name) for name in names)


def test_a_picture_shown_as_a_school_logo_is_kept_when_the_product_image_goes(
    app, session, product, staff
):
    """Logos live in their own folder: a product image's delete never touches them."""
    from tests.school_factories import make_school

    school = make_school(session, slug="greenfield")
    session.commit()
    data = picture(size=(70, 70))
    assert upload(staff, product, data).status_code == 302
    logo = staff.post(
        f"/admin/schools/{school.id}/logo",
        data={"logo": (io.BytesIO(data), "logo.png")},
        content_type="multipart/form-data",
    )
    assert logo.status_code == 302
    [(image_id, path)] = [(i.id, i.path) for i in images_of(session, product)]

    assert staff.post(f"/admin/images/{image_id}/delete").status_code == 302

    session.expire_all()
    logo_path = session.get(type(school), school.id).logo_path
    assert logo_path == path.replace("products/", "schools/", 1)
    assert get_storage(app).exists(logo_path)
    assert not get_storage(app).exists(path)


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_upload_sent_at_once_leaves_whole_files(app, session, product, staff, copies):
    data = picture("PNG", size=(1200, 900))
    barrier = threading.Barrier(copies)
    statuses, errors = [], []
    cookies = [(c.key, c.value, c.domain, c.path) for c in staff._cookies.values()]

    def send():
        client = app.test_client()
        for key, value, domain, path in cookies:
            client.set_cookie(key, value, domain=domain, path=path)
        try:
            barrier.wait(timeout=10)
            statuses.append(upload(client, product, data).status_code)
        except Exception as error:  # the test must hear of it
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and statuses == [302] * copies
    images = images_of(session, product)
    assert len(images) == copies and len({image.path for image in images}) == 1
    stored = get_storage(app).read(images[0].path)
    assert images[0].path.endswith(f"{hashlib.sha256(stored).hexdigest()[:32]}.png")
    with Image.open(io.BytesIO(stored)) as reopened:
        reopened.load()
        assert reopened.size == (1200, 900)


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_delete_sent_at_once_deletes_once(app, session, product, staff, copies):
    assert upload(staff, product, picture()).status_code == 302
    [(image_id, path)] = [(i.id, i.path) for i in images_of(session, product)]

    answers = send_at_once(app, staff, copies, "POST", f"/admin/images/{image_id}/delete")

    statuses = sorted(answer.status for answer in answers)
    assert statuses.count(302) == 1 and set(statuses) <= {302, 404}, statuses
    assert images_of(session, product) == []
    assert len(audits(session, "image.delete")) == 1
    assert not get_storage(app).exists(path)
    assert not get_storage(app).exists(thumbnail_path(path))


class FailingStore:
    """The app's store, except that writes and deletes fail as an unreachable S3 would."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def save(self, name, data, content_type=None):
        raise StorageError("put_object s3://shop-media: connection refused")

    def delete(self, name):
        raise StorageError("delete_object s3://shop-media: connection refused")


def test_a_store_failing_on_upload_is_a_503_form_and_nothing_is_saved(app, session, product, staff):
    app.extensions["storage"] = FailingStore(app.extensions["storage"])

    response = upload(staff, product, picture())

    assert response.status_code == 503
    assert "could not be stored" in response.text
    assert images_of(session, product) == []
    assert audits(session, "image.upload") == []


def test_a_store_failing_on_a_logo_upload_is_a_503_form_and_the_logo_stays(app, session, staff):
    from tests.school_factories import make_school

    school = make_school(session, slug="greenfield", logo_path="schools/old.png")
    session.commit()
    app.extensions["storage"] = FailingStore(app.extensions["storage"])

    response = staff.post(
        f"/admin/schools/{school.id}/logo",
        data={"logo": (io.BytesIO(picture()), "logo.png")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 503
    assert "could not be stored" in response.text
    session.expire_all()
    assert session.get(type(school), school.id).logo_path == "schools/old.png"
    assert audits(session, "school.logo") == []


def test_a_store_failing_on_delete_still_deletes_the_image(app, session, product, staff):
    assert upload(staff, product, picture()).status_code == 302
    [(image_id, path)] = [(i.id, i.path) for i in images_of(session, product)]
    app.extensions["storage"] = FailingStore(app.extensions["storage"])

    assert staff.post(f"/admin/images/{image_id}/delete").status_code == 302

    assert images_of(session, product) == []
    assert get_storage(app).exists(path)  # left over: harmless, never shown


def test_a_matching_etag_is_answered_without_fetching_the_bytes(app, session, product, staff):
    assert upload(staff, product, picture()).status_code == 302
    [image] = images_of(session, product)
    with staff.get(f"/media/{image.path}") as response:
        etag = response.headers["ETag"]

    class NoFetch(FailingStore):
        def open(self, name):
            raise AssertionError("the bytes were fetched for a 304")

    app.extensions["storage"] = NoFetch(app.extensions["storage"])
    with staff.get(f"/media/{image.path}", headers={"If-None-Match": etag}) as response:
        assert response.status_code == 304


@pytest.mark.slow
def test_demo_images_go_to_the_store_and_are_served_by_another_instance(
    make_app, s3_settings, tmp_path
):
    first = make_app(**s3_settings, DEMO_IMAGE_SIZE=120, UPLOAD_FOLDER=str(tmp_path / "a"))
    second = make_app(**s3_settings, UPLOAD_FOLDER=str(tmp_path / "b"))

    result = first.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    with first.app_context():
        from shop.db import get_session

        path = get_session().scalars(sa.select(ProductImage.path).order_by("id")).first()
    client = second.test_client()
    for name in (path, thumbnail_path(path)):
        with client.get(f"/media/{name}") as response:
            assert response.status_code == 200 and response.mimetype == "image/png"
            assert response.headers["Cache-Control"] == f"public, max-age={24 * 3600}"
    assert not (tmp_path / "a").exists()
    again = first.test_cli_runner().invoke(args=["seed-demo"])
    assert "drew 0 images" in again.output
