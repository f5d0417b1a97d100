"""Thumbnails are a job: the upload stores the original and queues the derived sizes,
which a worker makes from the stored bytes (on each store). Until then ``/media/`` answers
a thumbnail's name with the original, so a page shown meanwhile has a working image.
(Without Redis the job runs right after the commit: tests/storage/test_uploads.py.)"""

import io
import re
import threading

import pytest
import redis
import sqlalchemy as sa
from PIL import Image
from rq import Queue

from shop.assets import YEAR
from shop.catalog.models import ProductImage
from shop.images import make_derived_sizes, store_upload, thumbnail_path
from shop.jobs.runner import run_now
from shop.schools.models import School
from shop.storage import get_storage
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.images import picture, upload
from tests.helpers.jobs import work
from tests.redis_dbs import JOBS
from tests.school_factories import make_school

REDIS_URL = JOBS
THUMB_SRC = re.compile(r'src="/media/((?:products|schools)/[0-9a-f]{32}-thumb\.png)"')


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app(make_app, store_settings, redis_client):
    return make_app(**store_settings, REDIS_URL=REDIS_URL, JOBS_RETRY_INTERVALS="0")


@pytest.fixture
def staff(app, session_factory):
    with session_factory(app) as db:
        make_user(db, email="boss@factory.example", role="manager")
        db.commit()
    client = app.test_client()
    assert login(client, email="boss@factory.example").status_code == 302
    return client


@pytest.fixture
def product(app, session_factory):
    with session_factory(app) as db:
        product = make_product(db, slug="polo")
        db.commit()
    return product


def queued_jobs(redis_client) -> list[str]:
    return [job.description for job in Queue("sourcefront", connection=redis_client).jobs]


def image_path(app, session_factory) -> str:
    with session_factory(app) as db:
        return db.scalars(sa.select(ProductImage.path)).one()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_an_upload_stores_the_original_and_the_worker_makes_the_thumbnail(
    app, staff, product, session_factory, redis_client
):
    assert upload(staff, product, picture(size=(900, 600))).status_code == 302
    path = image_path(app, session_factory)
    storage = get_storage(app)
    assert storage.exists(path)
    assert not storage.exists(thumbnail_path(path))
    assert queued_jobs(redis_client) == ["make_derived_sizes"]

    work(app)

    assert size_of(storage.read(thumbnail_path(path))) == (400, 267)
    assert queued_jobs(redis_client) == []


def test_a_page_shown_before_the_job_ran_links_a_working_image(
    app, staff, product, session_factory
):
    data = picture(size=(900, 600))
    assert upload(staff, product, data).status_code == 302
    page = staff.get(f"/admin/products/{product.id}")
    [name] = THUMB_SRC.findall(page.text)
    original = get_storage(app).read(name.replace("-thumb", ""))

    visitor = app.test_client()
    with visitor.get(f"/media/{name}") as early:
        assert early.status_code == 200 and early.mimetype == "image/png"
        assert early.data == original  # the full-size picture stands in
        assert early.headers["Cache-Control"] == "public, no-cache"  # asked for again
        early_etag = early.headers["ETag"]
    with visitor.get(f"/media/{name}", headers={"If-None-Match": early_etag}) as again:
        assert again.status_code == 304

    work(app)

    with visitor.get(f"/media/{name}", headers={"If-None-Match": early_etag}) as late:
        assert late.status_code == 200
        assert size_of(late.data) == (400, 267)
        assert late.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable"


def test_a_school_logo_shown_before_its_job_ran_is_a_working_image(
    app, staff, session_factory, redis_client
):
    with session_factory(app) as db:
        school = make_school(db, slug="greenfield")
        db.commit()
    logo = staff.post(
        f"/admin/schools/{school.id}/logo",
        data={"logo": (io.BytesIO(picture(size=(640, 640))), "logo.png")},
        content_type="multipart/form-data",
    )
    assert logo.status_code == 302
    assert queued_jobs(redis_client) == ["make_derived_sizes"]
    [name] = THUMB_SRC.findall(staff.get(f"/admin/schools/{school.id}").text)
    with session_factory(app) as db:
        assert name == thumbnail_path(db.get(School, school.id).logo_path)

    with app.test_client().get(f"/media/{name}") as early:
        assert early.status_code == 200 and size_of(early.data) == (640, 640)
    work(app)
    with app.test_client().get(f"/media/{name}") as late:
        assert late.status_code == 200 and size_of(late.data) == (400, 400)


def test_a_missing_image_and_its_thumbnail_are_404s(app):
    client = app.test_client()
    missing = "products/" + "0" * 32 + ".png"
    assert client.get(f"/media/{missing}").status_code == 404
    assert client.get(f"/media/{thumbnail_path(missing)}").status_code == 404


@pytest.mark.parametrize("copies", [2, 5])
def test_the_job_run_several_times_at_once_makes_one_whole_thumbnail(app, copies):
    storage = get_storage(app)
    with app.test_request_context():
        name = store_upload(io.BytesIO(picture("JPEG", size=(900, 600))), storage).path
    barrier = threading.Barrier(copies)
    results, errors = [], []

    def run_job():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(run_now(make_derived_sizes, name))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run_job) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [True] * copies
    thumbnail = storage.read(thumbnail_path(name))
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert (image.format, image.size) == ("JPEG", (400, 267))
    with app.app_context():
        assert run_now(make_derived_sizes, name) is True
    assert storage.read(thumbnail_path(name)) == thumbnail  # same bytes every run


def test_the_same_picture_uploaded_twice_gets_two_jobs_and_one_thumbnail(
    app, staff, product, session_factory, redis_client
):
    """No key: a key would outlive the files (see ``queue_derived_sizes``); the second
    run writes the same bytes."""
    assert upload(staff, product, picture(), alt="one").status_code == 302
    assert upload(staff, product, picture(), alt="two").status_code == 302
    assert queued_jobs(redis_client) == ["make_derived_sizes", "make_derived_sizes"]

    work(app)

    with session_factory(app) as db:
        [path] = set(db.scalars(sa.select(ProductImage.path)))
    assert get_storage(app).exists(thumbnail_path(path))
    assert queued_jobs(redis_client) == []


def test_a_picture_deleted_and_uploaded_again_gets_its_thumbnail_again(
    app, staff, product, session_factory
):
    assert upload(staff, product, picture()).status_code == 302
    work(app)
    with session_factory(app) as db:
        image_id, path = db.execute(sa.select(ProductImage.id, ProductImage.path)).one()
    assert staff.post(f"/admin/images/{image_id}/delete").status_code == 302
    assert not get_storage(app).exists(thumbnail_path(path))

    assert upload(staff, product, picture()).status_code == 302
    work(app)

    assert get_storage(app).exists(thumbnail_path(path))


def test_the_job_of_an_image_deleted_before_it_ran_makes_nothing(
    app, staff, product, session_factory
):
    assert upload(staff, product, picture()).status_code == 302
    with session_factory(app) as db:
        image_id, path = db.execute(sa.select(ProductImage.id, ProductImage.path)).one()
    assert staff.post(f"/admin/images/{image_id}/delete").status_code == 302
    assert not get_storage(app).exists(path)

    work(app)  # the job finds nothing to scale, and does not fail

    assert not get_storage(app).exists(thumbnail_path(path))
    with app.app_context():
        assert run_now(make_derived_sizes, path) is False
