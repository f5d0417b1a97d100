"""A move button (a school's uniform list, a product's pictures) pressed twice, or sent
2 and 5 times at once, moves the row one place: the page's one-time key
(``shop.position_forms.MoveForm``) is claimed with the move."""

import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import ProductImage
from shop.schools.models import UniformItem
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.admin import audits
from tests.school_factories import add_item, make_school

KEY = "m" * 32


def order_of(session, column, owner_id: int) -> list[int]:
    """The ids of a hand-ordered list (``column``: the rows' owner column) by position."""
    model = column.class_
    session.expire_all()
    return list(
        session.scalars(sa.select(model.id).where(column == owner_id).order_by(model.position))
    )


def uniform_order(session, school_id: int) -> list[int]:
    return order_of(session, UniformItem.school_id, school_id)


def picture_order(session, product_id: int) -> list[int]:
    return order_of(session, ProductImage.product_id, product_id)


@pytest.mark.parametrize("copies", [2, 5])
def test_a_uniform_item_moved_at_once_moves_one_place(app, client, session, sign_in, copies):
    sign_in("manager")
    school = make_school(session, slug="greenfield")
    first, second, third = (
        add_item(session, school, make_product(session), position=position) for position in range(3)
    )
    session.commit()
    path = f"/admin/schools/{school.id}/items/{third.id}/move"

    answers = send_at_once(
        app, client, copies, "POST", path, {"direction": "up", "request_key": KEY}
    )

    assert [answer.status for answer in answers] == [302] * copies
    assert uniform_order(session, school.id) == [first.id, third.id, second.id]
    assert len(audits(session, "school.item_reorder")) == 1
    # The same page's button once more (the back button): nothing moves.
    client.post(path, data={"direction": "up", "request_key": KEY})
    assert uniform_order(session, school.id) == [first.id, third.id, second.id]


@pytest.mark.parametrize("copies", [2, 5])
def test_a_picture_moved_at_once_moves_one_place(app, client, session, sign_in, copies):
    sign_in("manager")
    product = make_product(session, slug="polo")
    images = [
        ProductImage(product_id=product.id, path=f"products/{n}.png", width=1, height=1, position=n)
        for n in range(3)
    ]
    session.add_all(images)
    session.commit()
    first, second, third = (image.id for image in images)

    answers = send_at_once(
        app,
        client,
        copies,
        "POST",
        f"/admin/images/{first}/move",
        {"direction": "down", "request_key": KEY},
    )

    assert [answer.status for answer in answers] == [302] * copies
    assert picture_order(session, product.id) == [second, first, third]
    assert len(audits(session, "image.reorder")) == 1


def test_the_pages_give_their_move_buttons_a_key(client, session, sign_in):
    sign_in("owner")
    school = make_school(session, slug="greenfield")
    item = add_item(session, school, make_product(session), position=0)
    add_item(session, school, make_product(session), position=1)
    session.commit()
    page = client.get(f"/admin/schools/{school.id}").text
    assert re.search(r'name="request_key" value="[A-Za-z0-9_-]{16,}"', page)
    path = f"/admin/schools/{school.id}/items/{item.id}/move"
    assert client.post(path, data={"direction": "sideways"}).status_code == 400
