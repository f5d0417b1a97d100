"""Ordering a child's kit from a school's page: per-child cart lines, the complete-kit
check, refusals that add nothing, and school-only products kept out of the catalogue."""

import re

import pytest
import sqlalchemy as sa

from shop.cart.models import CartLine
from tests.factories import make_product
from tests.school_factories import add_item, make_school


@pytest.fixture
def kit(session):
    """A school with a required polo (2 per child), a required skirt for girls and an
    optional cap; returns the school and the items' ids and variant ids."""
    school = make_school(session, slug="oak", name="Oak School")
    polo = make_product(session, slug="oak-polo", sizes=("130", "140"), on_hand=5)
    skirt = make_product(session, slug="oak-skirt", sizes=("130",))
    cap = make_product(session, slug="oak-cap", sizes=("M",), colours=("navy", "red"))
    items = {
        "polo": add_item(session, school, polo, quantity_per_child=2),
        "skirt": add_item(session, school, skirt, gender="girls"),
        "cap": add_item(session, school, cap, required=False, season="pe"),
    }
    variants = {
        "polo-130": polo.variants[0].id,
        "polo-140": polo.variants[1].id,
        "skirt-130": skirt.variants[0].id,
        "cap-red": cap.variants[1].id,
    }
    session.commit()
    return school, {name: i.id for name, i in items.items()}, variants


def form(items, choices, **fields) -> dict:
    """``choices``: item name → (variant id, quantity)."""
    data = {"student_name": "Mei Chen", "class_name": "2B", "gender": "girls", **fields}
    for name, (variant_id, quantity) in choices.items():
        data[f"variant-{items[name]}"] = str(variant_id)
        data[f"qty-{items[name]}"] = str(quantity)
    return data


def cart_lines(session) -> list[tuple]:
    session.expire_all()
    return session.execute(
        sa.select(
            CartLine.variant_id,
            CartLine.quantity,
            CartLine.student_name,
            CartLine.class_name,
            CartLine.school_id,
        ).order_by(CartLine.id)
    ).all()


def test_two_childrens_kits_are_separate_cart_lines(client, session, kit):
    school, items, v = kit
    first = client.post(
        "/schools/oak/kit",
        data=form(items, {"polo": (v["polo-130"], 2), "skirt": (v["skirt-130"], 1)}),
    )
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/schools/oak?added=1")
    page = client.get(first.headers["Location"])
    assert "Added Mei Chen’s kit" in page.text
    assert 'data-testid="add-another-child"' in page.text
    assert 'data-testid="go-to-cart"' in page.text
    assert re.search(r'name="student_name"[^>]*value=""', page.text)

    second = client.post(
        "/schools/oak/kit",
        data=form(
            items,
            {"polo": (v["polo-130"], 2), "cap": (v["cap-red"], 1)},
            student_name="Lei Chen",
            class_name="5A",
            gender="boys",
        ),
    )
    assert second.status_code == 303
    assert cart_lines(session) == [
        (v["polo-130"], 2, "Mei Chen", "2B", school.id),
        (v["skirt-130"], 1, "Mei Chen", "2B", school.id),
        (v["polo-130"], 2, "Lei Chen", "5A", school.id),
        (v["cap-red"], 1, "Lei Chen", "5A", school.id),
    ]


def test_missing_required_items_are_warned_and_nothing_added(client, session, kit):
    school, items, v = kit
    data = form(items, {"polo": (v["polo-140"], 2), "skirt": ("", 0)})
    response = client.post("/schools/oak/kit", data=data)
    assert response.status_code == 400
    assert 'data-testid="kit-missing"' in response.text
    assert re.findall(r'data-testid="missing-item" data-product="([^"]+)"', response.text) == [
        "oak-skirt"
    ]
    assert "Order without these items" in response.text
    # What the parent chose is shown again.
    assert re.search(rf'value="{v["polo-140"]}" data-size="140" selected', response.text)
    assert re.search(r'value="Mei Chen"', response.text)
    assert cart_lines(session) == []

    response = client.post("/schools/oak/kit", data={**data, "without_missing": "y"})
    assert response.status_code == 303
    assert cart_lines(session) == [(v["polo-140"], 2, "Mei Chen", "2B", school.id)]


def test_a_boy_is_not_asked_for_the_girls_skirt(client, session, kit):
    school, items, v = kit
    data = form(items, {"polo": (v["polo-130"], 2)}, gender="boys")
    assert client.post("/schools/oak/kit", data=data).status_code == 303
    assert len(cart_lines(session)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"student_name": ""}, "This field is required."),
        ({"class_name": "x" * 41}, "Field cannot be longer than 40 characters."),
        ({"polo_qty": "-1"}, "enter a whole number of pieces from 0 to 9,999"),
        ({"polo_qty": "two"}, "enter a whole number of pieces from 0 to 9,999"),
        ({"polo_qty": "10000"}, "enter a whole number of pieces from 0 to 9,999"),
        ({"polo_variant": ""}, "choose a size"),
        ({"polo_variant": "999999"}, "choose a size"),
        ({"polo_qty": "6"}, "Only 5 of"),
    ],
)
def test_refused_kits_add_nothing_and_say_why(client, session, kit, change, message):
    school, items, v = kit
    data = form(items, {"polo": (v["polo-130"], 2), "skirt": (v["skirt-130"], 1)})
    if "polo_qty" in change:
        data[f"qty-{items['polo']}"] = change.pop("polo_qty")
    if "polo_variant" in change:
        data[f"variant-{items['polo']}"] = change.pop("polo_variant")
    data.update(change)
    response = client.post("/schools/oak/kit", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert cart_lines(session) == []


def test_an_empty_kit_is_refused(client, session, kit):
    school, items, v = kit
    data = form(items, {"polo": ("", 0), "skirt": ("", 0)}, without_missing="y")
    response = client.post("/schools/oak/kit", data=data)
    assert response.status_code == 400
    assert "Choose at least one item" in response.text
    assert cart_lines(session) == []


def test_a_locked_private_shop_takes_no_kit(client, session):
    school = make_school(session, slug="elm", access_code="Elm-1")
    product = make_product(session, slug="elm-polo")
    item = add_item(session, school, product)
    variant_id = product.variants[0].id
    session.commit()
    response = client.post(
        "/schools/elm/kit",
        data={
            "student_name": "Ann",
            "class_name": "1A",
            f"variant-{item.id}": str(variant_id),
            f"qty-{item.id}": "1",
        },
    )
    assert response.status_code == 303
    assert cart_lines(session) == []


def test_kit_form_needs_a_csrf_token(make_app, session, kit):
    school, items, v = kit
    app = make_app(WTF_CSRF_ENABLED=True)
    data = form(items, {"polo": (v["polo-130"], 2), "skirt": (v["skirt-130"], 1)})
    response = app.test_client().post("/schools/oak/kit", data=data)
    assert response.status_code == 400
    assert cart_lines(session) == []


def test_school_only_products_stay_out_of_the_catalogue(client, session):
    school = make_school(session, slug="ash")
    make_product(session, slug="ash-crest-blazer", name="Crest blazer", school_id=school.id)
    make_product(session, slug="plain-blazer", name="Plain blazer")
    session.commit()

    def listed(url):
        return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', client.get(url).text)

    assert listed("/products") == ["plain-blazer"]
    assert listed("/products?q=blazer") == ["plain-blazer"]
    assert listed("/products?q=crest") == []
    assert "ash-crest-blazer" not in client.get("/").text
    assert client.get("/products/ash-crest-blazer").status_code == 200
