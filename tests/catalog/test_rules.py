"""One rule each for slugs, SKUs and tier ladders (``shop.catalog.rules``): the same bad
values are refused, and the same good values accepted, by the rule itself, the admin's
forms, the variant generator and the CSV import."""

import pytest
import sqlalchemy as sa

from shop.catalog import csv_io, rules
from shop.catalog.models import PriceTier, Product, Variant
from tests.accounts.helpers import login, make_user
from tests.factories import make_category, make_product

BAD_SLUGS = ["Summer Polo", "a--b", "-x", "x-", "polo_2", "a" * 121, "polo\x00", ""]
GOOD_SLUGS = ["summer-polo", "p2", "a" * 120]
BAD_SKUS = ["POLO 130/NAVY", "", "POLO\x00", "P" * 200, "-POLO", "POLO/130", "POLO#1"]
GOOD_SKUS = ["POLO-130-NAVY", "abc.def_1"]
BAD_TIERS = {
    "quantities descend": [("10", "9.00"), ("5", "8.00")],
    "duplicate min quantity": [("1", "9.00"), ("1", "8.00")],
    "price rises": [("1", "8.00"), ("10", "9.00")],
    "zero quantity": [("0", "9.00")],
    "negative price": [("1", "-1.00")],
    "more than MAX_TIERS": [(str(n), "9.00") for n in range(1, rules.MAX_TIERS + 2)],
}
GOOD_TIERS = {
    "one tier": [("1", "89.00")],
    "two tiers": [("1", "89.00"), ("50", "79.00")],
    "MAX_TIERS": [(str(n), "9.00") for n in range(1, rules.MAX_TIERS + 1)],
}


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def manager(client, session):
    make_user(session, email="manager@factory.example", role="manager", name="Manager")
    assert login(client, email="manager@factory.example").status_code == 302


def csv_problems(session, product: Product, **changes: str) -> list[csv_io.Problem]:
    """The CSV import's plan for the product's exported row with ``changes``; changes
    nothing (the caller's session is rolled back)."""
    header, row = csv_io.export_rows(session)[:2]
    cells = {**dict(zip(header, row, strict=True)), **changes}
    problems = csv_io.plan_rows(session, [(2, cells)]).problems
    session.rollback()
    return problems


def tier_cells(ladder: list[tuple[str, str]]) -> str:
    return "|".join(f"{quantity}:{price}" for quantity, price in ladder)


def tier_values(ladder: list[tuple[str, str]]) -> list[tuple[int, int]]:
    return [(int(quantity), round(float(price) * 100)) for quantity, price in ladder]


def product_count(session) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count(Product.id)))


# --- slugs -------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", BAD_SLUGS)
def test_a_bad_slug_is_refused_everywhere(client, session, manager, slug):
    category = make_category(session, slug="uniforms")
    product = make_product(session, category=category, slug="polo")
    session.commit()

    assert rules.slug_problem(slug) is not None
    response = client.post(
        "/admin/products/new",
        data={
            "name": "Polo",
            "slug": slug,
            "category_id": str(category.id),
            "min_order_quantity": "1",
            "order_increment": "1",
        },
    )
    assert response.status_code == 400
    assert product_count(session) == 1
    problems = csv_problems(session, product, product_slug=slug, sku="NEW-SKU")
    assert [p.column for p in problems] == ["product_slug"]
    if slug and "\x00" not in slug:
        assert client.get(f"/products/{slug}").status_code == 404


@pytest.mark.parametrize("slug", GOOD_SLUGS)
def test_a_good_slug_is_accepted_everywhere(client, session, manager, slug):
    category = make_category(session, slug="uniforms")
    product = make_product(session, category=category, slug="polo")
    session.commit()

    assert rules.slug_problem(slug) is None
    assert csv_problems(session, product, product_slug=slug, sku="NEW-SKU") == []
    response = client.post(
        "/admin/products/new",
        data={
            "name": "Polo",
            "slug": slug,
            "category_id": str(category.id),
            "min_order_quantity": "1",
            "order_increment": "1",
        },
    )
    assert response.status_code == 302
    assert product_count(session) == 2


# --- SKUs --------------------------------------------------------------------------------


def generate(client, product: Product, sku: str):
    """The generator with a pattern that puts ``sku`` in front of ``-S-N``."""
    return client.post(
        f"/admin/products/{product.id}/variants/generate",
        data={"sizes": "S", "colours": "N", "pattern": sku + "-{size}-{colour}"},
    )


def skus_of(session, product_id: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(sa.select(Variant.sku).where(Variant.product_id == product_id)))


@pytest.mark.parametrize("sku", BAD_SKUS)
def test_a_bad_sku_is_refused_everywhere(client, session, manager, sku):
    product = make_product(session, slug="polo", sizes=("130",), colours=("navy",))
    session.commit()
    variant, before = product.variants[0], skus_of(session, product.id)

    assert rules.sku_problem(sku) is not None
    response = client.post(
        f"/admin/variants/{variant.id}", data={"sku": sku, "low_stock_threshold": "1"}
    )
    assert response.status_code == 400
    assert generate(client, product, sku).status_code == 400
    assert rules.sku_problem(sku + "-S-N") is not None  # what the generator made of it
    assert skus_of(session, product.id) == before
    assert [p.column for p in csv_problems(session, product, sku=sku)] == ["sku"]


@pytest.mark.parametrize("sku", GOOD_SKUS)
def test_a_good_sku_is_accepted_everywhere(client, session, manager, sku):
    product = make_product(session, slug="polo", sizes=("130",), colours=("navy",))
    session.commit()
    variant_id = product.variants[0].id

    assert rules.sku_problem(sku) is None
    assert csv_problems(session, product, sku=sku) == []
    assert generate(client, product, sku).status_code == 302
    response = client.post(
        f"/admin/variants/{variant_id}", data={"sku": sku, "low_stock_threshold": "1"}
    )
    assert response.status_code == 302
    assert sorted(skus_of(session, product.id)) == sorted([sku.upper(), f"{sku}-S-N".upper()])


# --- price tiers -------------------------------------------------------------------------


def post_tiers(client, product: Product, ladder: list[tuple[str, str]]):
    return client.post(
        f"/admin/products/{product.id}/tiers",
        data={
            "CNY-min": [quantity for quantity, _price in ladder],
            "CNY-price": [price for _quantity, price in ladder],
        },
    )


def tiers_of(session, product_id: int) -> list[tuple[int, int]]:
    session.expire_all()
    rows = session.execute(
        sa.select(PriceTier.min_quantity, PriceTier.unit_amount)
        .where(PriceTier.product_id == product_id, PriceTier.currency == "CNY")
        .order_by(PriceTier.min_quantity)
    )
    return [(quantity, amount) for quantity, amount in rows]


@pytest.mark.parametrize("ladder", BAD_TIERS.values(), ids=BAD_TIERS.keys())
def test_a_bad_tier_ladder_is_refused_everywhere(client, session, manager, ladder):
    product = make_product(session, slug="polo", tiers=((1, 8900),))
    session.commit()

    assert rules.tier_problems(tier_values(ladder)) != []
    assert post_tiers(client, product, ladder).status_code == 400
    assert tiers_of(session, product.id) == [(1, 8900)]
    problems = csv_problems(session, product, price_CNY=tier_cells(ladder))
    assert [p.column for p in problems] == ["price_CNY"]


@pytest.mark.parametrize("ladder", GOOD_TIERS.values(), ids=GOOD_TIERS.keys())
def test_a_good_tier_ladder_is_accepted_everywhere(client, session, manager, ladder):
    product = make_product(session, slug="polo", tiers=((1, 8900),))
    session.commit()

    assert rules.tier_problems(tier_values(ladder)) == []
    assert csv_problems(session, product, price_CNY=tier_cells(ladder)) == []
    assert post_tiers(client, product, ladder).status_code == 302
    assert tiers_of(session, product.id) == tier_values(ladder)
