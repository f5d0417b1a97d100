"""A product's image rows, changed without a request (``shop.images``): added last with
its derived sizes queued, reordered, its alt text saved, deleted once. Each change writes
its audit row; a change that changes nothing writes none."""

import pytest
import sqlalchemy as sa

from shop import images
from shop.audit.models import AuditEntry
from shop.catalog.models import ProductImage
from shop.jobs.queue import PENDING
from tests.accounts.helpers import make_user
from tests.factories import make_product


@pytest.fixture
def manager(session):
    return make_user(session, email="manager@factory.example", role="manager")


def actions(session) -> list[str]:
    return list(session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_image_goes_last_and_its_thumbnail_waits_for_the_commit(app, session, manager):
    product = make_product(session, images=2)
    stored = images.StoredImage(path="products/abc.png", width=640, height=480)

    with app.app_context():
        image = images.add_product_image(session, manager, product, stored, "Front")

    assert (image.position, image.alt_text, image.width) == (2, "Front", 640)
    assert [each.id for each in product.images][-1] == image.id
    assert len(session.info[PENDING]) == 1  # queued, not sent: the commit sends it
    assert actions(session) == ["image.upload"]


def test_moving_an_image_swaps_it_with_its_neighbour(session, manager):
    product = make_product(session, images=3)
    first, second, third = product.images

    assert images.move_product_image(session, manager, second, "up") is True
    assert images.move_product_image(session, manager, second, "up") is False  # first now

    assert [image.id for image in sorted(product.images, key=lambda i: i.position)] == [
        second.id,
        first.id,
        third.id,
    ]
    entry = session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.before["order"], entry.after["order"]) == (
        "image.reorder",
        [first.id, second.id, third.id],
        [second.id, first.id, third.id],
    )


def test_alt_text_is_recorded_only_when_it_changes(session, manager):
    product = make_product(session, images=1)
    [image] = product.images

    assert images.set_alt_text(session, manager, image, image.alt_text) is False
    assert images.set_alt_text(session, manager, image, "Navy polo, front") is True

    assert image.alt_text == "Navy polo, front"
    assert actions(session) == ["image.alt_text"]


def test_an_image_is_deleted_once(session, manager):
    product = make_product(session, images=1)
    [image] = product.images
    image_id, path = image.id, image.path

    assert images.delete_product_image(session, manager, image) == path
    assert session.get(ProductImage, image_id) is None
    stale = ProductImage(id=image_id, path=path, alt_text="", width=1, height=1, position=0)
    with pytest.raises(images.ImageGone):  # the same request, sent twice at once
        images.delete_product_image(session, manager, stale)

    entry = session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.before["path"]) == ("image.delete", path)
    assert actions(session) == ["image.delete"]
