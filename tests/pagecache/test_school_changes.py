"""A school's uniform shop (``/schools/<slug>``) shows at once what staff change on its
list, its prices, its name and its delivery rounds, and drops a delivery round once the
round's cut-off has passed."""

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from shop.db import utcnow
from shop.schools import views as school_views
from shop.schools.models import DeliveryRound
from tests.factories import make_product
from tests.helpers.admin import school_data
from tests.helpers.pagecache import behind_the_cache, mark_product, mark_school
from tests.school_factories import add_item, make_school

SHOP = "/schools/greenfield"


@pytest.fixture
def school(session):
    """Greenfield, with the polo on its list and the skirt not (yet)."""
    school = make_school(session, slug="greenfield", name="Greenfield Primary", rounds_in_days=())
    polo = make_product(session, slug="polo", name="Polo", tiers=((1, 8900),))
    make_product(session, slug="skirt", name="Pleated skirt", tiers=((1, 12000),))
    add_item(session, school, polo)
    session.commit()
    return school


def items(page: str) -> dict[str, int | None]:
    """The list as the shop shows it: ``{product slug: price shown (minor units)}``."""
    shown = {}
    for block in page.split('data-testid="uniform-item" data-product="')[1:]:
        slug = block.split('"', 1)[0]
        amount = re.search(r'data-testid="price" data-amount="(\d+)"', block)
        shown[slug] = int(amount.group(1)) if amount else None
    return shown


def delivery_date(page: str) -> str | None:
    found = re.search(r'data-testid="school-delivery"(?: data-date="([^"]+)")?', page)
    return found.group(1)


def product_id(session, slug: str) -> int:
    from shop.catalog.models import Product

    return session.query(Product.id).filter_by(slug=slug).scalar()


def test_an_item_added_priced_and_removed_in_the_admin_shows_at_once(
    app, client, visitor, session, sign_in, school
):
    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    assert items(visitor.get(SHOP).text) == {"polo": 8900}
    sign_in("manager")

    response = client.post(
        f"/admin/schools/{school.id}/items",
        data={"product_slug": "skirt", "quantity_per_child": "1", "season": "summer"},
    )
    assert response.status_code == 302
    assert items(visitor.get(SHOP).text) == {"polo": 8900, "skirt": 12000}

    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    [skirt_item] = [item for item in school_items(session, school) if item.product.slug == "skirt"]
    response = client.post(
        f"/admin/schools/{school.id}/items/{skirt_item.id}",
        data={
            "product_id": str(product_id(session, "skirt")),
            "required": "yes",
            "gender": "any",
            "season": "summer",
            "quantity_per_child": "1",
            "school_price": "99.50",
        },
    )
    assert response.status_code == 302
    page = visitor.get(SHOP).text
    assert items(page) == {"polo": 8900, "skirt": 9950}
    assert page.count('data-testid="school-price"') == 1

    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    response = client.post(f"/admin/schools/{school.id}/items/{skirt_item.id}/delete")
    assert response.status_code == 302
    assert items(visitor.get(SHOP).text) == {"polo": 8900}


def school_items(session, school):
    from shop.schools.models import School

    session.expire_all()
    return list(session.get(School, school.id).items)


def test_a_school_renamed_in_the_admin_shows_its_new_name(app, client, visitor, sign_in, school):
    behind_the_cache(app, visitor, [SHOP, SHOP + "?lang=zh_CN"], mark_school("greenfield"))
    sign_in("manager")

    data = school_data(slug="greenfield", name="Greenfield International", name_zh="绿野国际学校")
    response = client.post(f"/admin/schools/{school.id}", data=data)

    assert response.status_code == 302
    assert '<h1 data-testid="school-name">Greenfield International' in visitor.get(SHOP).text
    page = visitor.get(SHOP + "?lang=zh_CN").text
    assert '<h1 data-testid="school-name">绿野国际学校' in page


def test_a_school_given_an_access_code_locks_its_cached_shop(app, client, visitor, sign_in, school):
    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    sign_in("manager")

    client.post(f"/admin/schools/{school.id}/code", data={"code": "tulip-2027"})

    page = visitor.get(SHOP).text
    assert 'data-locked="true"' in page and "Polo" not in page


def test_delivery_rounds_added_and_deleted_in_the_admin_show_at_once(
    app, client, visitor, session, sign_in, school
):
    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    assert delivery_date(visitor.get(SHOP).text) is None
    sign_in("manager")

    response = client.post(
        f"/admin/schools/{school.id}/rounds",
        data={"delivery_date": "2030-03-04", "cutoff_at": "2030-03-01T18:00"},
    )
    assert response.status_code == 302
    assert delivery_date(visitor.get(SHOP).text) == "2030-03-04"

    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    client.post(
        f"/admin/schools/{school.id}/rounds",
        data={"delivery_date": "2030-02-04", "cutoff_at": "2030-02-01T18:00"},
    )
    assert delivery_date(visitor.get(SHOP).text) == "2030-02-04"

    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    session.expire_all()
    earlier = session.query(DeliveryRound).filter_by(delivery_date=date(2030, 2, 4))
    client.post(f"/admin/schools/{school.id}/rounds/{earlier.one().id}/delete")
    assert delivery_date(visitor.get(SHOP).text) == "2030-03-04"


def add_rounds(session, school, first_cutoff: datetime) -> tuple[str, str]:
    """A round whose cut-off is ``first_cutoff`` and a later one; their delivery dates."""
    first = DeliveryRound(
        school_id=school.id,
        delivery_date=(first_cutoff + timedelta(days=2)).date(),
        cutoff_at=first_cutoff,
    )
    later = DeliveryRound(
        school_id=school.id,
        delivery_date=(first_cutoff + timedelta(days=20)).date(),
        cutoff_at=first_cutoff + timedelta(days=17),
    )
    session.add_all([first, later])
    session.commit()
    return first.delivery_date.isoformat(), later.delivery_date.isoformat()


def test_a_round_leaves_the_shop_page_once_its_cutoff_passes(app, visitor, session, school):
    """A cut-off 1.5 seconds ahead: the page shows that round until then (from the
    cache), the next round right after."""
    cutoff = utcnow() + timedelta(seconds=1.5)
    first, later = add_rounds(session, school, cutoff)
    behind_the_cache(app, visitor, [SHOP], mark_product("polo"))
    assert delivery_date(visitor.get(SHOP).text) == first

    time.sleep(max((cutoff - datetime.now(UTC)).total_seconds(), 0) + 0.15)

    assert delivery_date(visitor.get(SHOP).text) == later


def test_a_page_cached_just_before_a_cutoff_does_not_outlive_it(
    app, visitor, session, school, store_kind, monkeypatch, request
):
    """The shop's clock is set 50 ms before a cut-off when the page is cached, and past it
    when the page is next asked for (real time: 0.3 s later)."""
    cutoff = utcnow() + timedelta(hours=1)
    first, later = add_rounds(session, school, cutoff)
    clock = {"now": cutoff - timedelta(milliseconds=50)}
    monkeypatch.setattr(school_views, "utcnow", lambda: clock["now"])
    assert delivery_date(visitor.get(SHOP).text) == first

    clock["now"] = cutoff + timedelta(seconds=1)
    time.sleep(0.3)

    assert delivery_date(visitor.get(SHOP).text) == later
