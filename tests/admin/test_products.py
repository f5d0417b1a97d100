"""The listings admin: the product list and its filters, activate/deactivate, duplicate,
create and edit with validation, price tiers and the variant matrix — with the audit row
each change writes, and the role table for these pages."""

import re

import pytest
import sqlalchemy as sa

from shop.admin.catalog_forms import TierRow, parse_tiers
from shop.audit.models import AuditEntry
from shop.catalog.models import PriceTier, Product, Variant
from tests.factories import make_category, make_product
from tests.helpers.admin import (
    EVERYONE,
    MAY_MANAGE_CATALOG,
    audits,
    become,
    errors_in,
    fresh,
    product_data,
)

# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", EVERYONE)
def test_listing_pages_are_for_catalog_managers_only(client, session, sign_in, role):
    product = make_product(session, slug="polo")
    category = product.category
    variant_id = product.variants[0].id
    session.commit()
    become(role, client, sign_in, session)
    paths = (
        "/admin/products",
        "/admin/products/new",
        f"/admin/products/{product.id}",
        f"/admin/variants/{variant_id}",
        "/admin/categories",
        f"/admin/categories/{category.id}",
    )
    for path in paths:
        response = client.get(path)
        if role in MAY_MANAGE_CATALOG:
            assert response.status_code == 200, (role, path)
        elif role == "anonymous":
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/account/login?next=/admin/")
        else:
            assert response.status_code == 403, (role, path)


@pytest.mark.parametrize("role", EVERYONE)
def test_listing_changes_are_refused_without_catalog_manage(client, session, sign_in, role):
    product = make_product(session, slug="polo", active=True)
    category = product.category
    variant_id = product.variants[0].id
    session.commit()
    become(role, client, sign_in, session)
    posts = (
        (f"/admin/products/{product.id}/active", {"active": "0"}),
        (f"/admin/products/{product.id}/duplicate", {}),
        ("/admin/products/new", product_data(category, slug="new-one")),
        (f"/admin/products/{product.id}", product_data(category, slug="renamed")),
        (f"/admin/products/{product.id}/tiers", {"CNY-min": "1", "CNY-price": "1.00"}),
        (
            f"/admin/products/{product.id}/variants/generate",
            {"sizes": "140", "colours": "red", "pattern": "{slug}-{size}-{colour}"},
        ),
        (f"/admin/variants/{variant_id}", {"sku": "NEW-SKU", "low_stock_threshold": "1"}),
        ("/admin/categories", {"name": "Hats", "slug": "hats", "parent_id": "0"}),
        (f"/admin/categories/{category.id}/delete", {}),
    )
    for path, data in posts:
        response = client.post(path, data=data)
        if role in MAY_MANAGE_CATALOG:
            assert response.status_code in (200, 302, 400), (role, path, response.status_code)
        elif role == "anonymous":
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/account/login?next=/admin/")
        else:
            assert response.status_code == 403, (role, path)
    if role not in MAY_MANAGE_CATALOG:
        session.expire_all()
        assert session.scalar(sa.select(sa.func.count(Product.id))) == 1
        again = session.get(Product, product.id)
        assert (again.slug, again.active) == ("polo", True)
        assert [t.unit_amount for t in again.price_tiers] == [8900]
        assert [v.sku for v in again.variants] == [product.variants[0].sku]
        assert audits(session, "product.update") == []
        assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


# --- the list ----------------------------------------------------------------------------


def test_search_by_name_and_sku_and_filters(client, session, sign_in):
    shirts = make_category(session, name="Shirts")
    trousers = make_category(session, name="Trousers")
    make_product(session, slug="summer-polo", name="Summer polo", category=shirts)
    make_product(session, slug="winter-coat", name="Winter coat", category=trousers, active=False)
    make_product(
        session,
        slug="blazer",
        name="Blazer",
        category=trousers,
        made_to_order=True,
        lead_time_days=14,
    )
    low = make_product(session, slug="socks", name="Socks", category=shirts, on_hand=2)
    sku = low.variants[0].sku
    session.commit()
    sign_in("manager")

    def slugs(**args):
        page = client.get("/admin/products", query_string=args)
        assert page.status_code == 200
        return sorted(re.findall(r'data-testid="product-row" data-slug="([^"]+)"', page.text))

    assert slugs() == ["blazer", "socks", "summer-polo", "winter-coat"]
    assert slugs(q="winter") == ["winter-coat"]
    assert slugs(q=sku.lower()) == ["socks"]
    assert slugs(category=str(shirts.id)) == ["socks", "summer-polo"]
    assert slugs(active="no") == ["winter-coat"]
    assert slugs(mto="yes") == ["blazer"]
    assert slugs(low="1") == ["socks"]
    assert slugs(q="nothing-like-this") == []
    assert client.get("/admin/products?page=abc&category=x&active=maybe").status_code == 200


def test_the_list_is_paginated(client, session, sign_in):
    category = make_category(session)
    for number in range(53):
        make_product(session, slug=f"p-{number:02d}", category=category)
    session.commit()
    sign_in("manager")
    first = client.get("/admin/products").text
    second = client.get("/admin/products?page=2").text
    assert first.count('data-testid="product-row"') == 50
    assert second.count('data-testid="product-row"') == 3
    assert 'data-total="53"' in first


def test_activate_and_deactivate_write_audit_rows(client, session, sign_in):
    product = make_product(session, active=True)
    session.commit()
    manager = sign_in("manager")

    response = client.post(f"/admin/products/{product.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert fresh(session, Product, product.id).active is False
    client.post(f"/admin/products/{product.id}/active", data={"active": "1"})
    assert fresh(session, Product, product.id).active is True

    [off] = audits(session, "product.deactivate")
    [on] = audits(session, "product.activate")
    assert (off.before, off.after, off.actor_user_id) == (
        {"active": True},
        {"active": False},
        manager.id,
    )
    assert (on.before, on.after) == ({"active": False}, {"active": True})


def test_duplicate_makes_an_inactive_copy_with_new_slug_and_skus(client, session, sign_in):
    product = make_product(
        session, slug="polo", sizes=("120", "130"), tiers=((1, 8900), (50, 7900)), active=True
    )
    original_skus = sorted(v.sku for v in product.variants)
    session.commit()
    sign_in("manager")

    first = client.post(f"/admin/products/{product.id}/duplicate")
    second = client.post(f"/admin/products/{product.id}/duplicate")
    assert first.status_code == second.status_code == 302

    session.expire_all()
    copies = session.scalars(
        sa.select(Product).where(Product.slug.like("polo-copy%")).order_by(Product.id)
    ).all()
    assert [c.slug for c in copies] == ["polo-copy", "polo-copy-2"]
    assert all(c.active is False for c in copies)
    assert sorted(v.sku for v in copies[0].variants) == sorted(f"{s}-COPY" for s in original_skus)
    assert sorted(v.sku for v in copies[1].variants) == sorted(f"{s}-COPY-2" for s in original_skus)
    assert all(v.on_hand == 0 for v in copies[0].variants)
    assert [(t.min_quantity, t.unit_amount) for t in copies[0].price_tiers] == [
        (1, 8900),
        (50, 7900),
    ]
    assert first.headers["Location"].endswith(f"/admin/products/{copies[0].id}")
    rows = audits(session, "product.duplicate")
    assert [row.target_id for row in rows] == [str(c.id) for c in copies]
    assert rows[0].before["source_id"] == product.id


# --- create and edit ---------------------------------------------------------------------


def test_create_a_product_with_an_audit_row(client, session, sign_in):
    category = make_category(session)
    session.commit()
    sign_in("manager")

    response = client.post(
        "/admin/products/new",
        data=product_data(
            category,
            made_to_order="y",
            lead_time_days="21",
            min_order_quantity="10",
            order_increment="5",
            featured="y",
        ),
    )
    assert response.status_code == 302, errors_in(response.text)
    session.expire_all()
    product = session.scalars(sa.select(Product).where(Product.slug == "summer-polo")).one()
    assert (product.name_zh, product.made_to_order, product.lead_time_days) == (
        "夏季校服短袖",
        True,
        21,
    )
    assert (product.min_order_quantity, product.order_increment) == (10, 5)
    assert product.active is False and product.featured is True
    assert "夏季校服短袖" in product.search_text
    [entry] = audits(session, "product.create")
    assert entry.target_id == str(product.id) and entry.after["slug"] == "summer-polo"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"slug": "Summer Polo"}, "slug", "lowercase letters"),
        ({"slug": "summer_polo"}, "slug", "lowercase letters"),
        ({"slug": "-polo"}, "slug", "lowercase letters"),
        ({"slug": ""}, "slug", "required"),
        ({"slug": "taken"}, "slug", "already uses this slug"),
        ({"min_order_quantity": "0"}, "min_order_quantity", "At least 1"),
        ({"min_order_quantity": "many"}, "min_order_quantity", "valid integer"),
        ({"order_increment": "0"}, "order_increment", "At least 1"),
        ({"made_to_order": "y", "lead_time_days": ""}, "lead_time_days", "lead time"),
        ({"made_to_order": "y", "lead_time_days": "0"}, "lead_time_days", "Between 1"),
        ({"name": ""}, "name", "required"),
        ({"category_id": "999999"}, "category_id", "Not a valid choice"),
    ],
)
def test_create_refuses_bad_input_with_a_message(
    client, session, sign_in, overrides, field, message
):
    category = make_category(session)
    make_product(session, slug="taken", category=category)
    session.commit()
    sign_in("manager")

    response = client.post("/admin/products/new", data=product_data(category, **overrides))

    assert response.status_code == 400
    assert re.search(f'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', response.text, re.I), (
        errors_in(response.text)
    )
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count(Product.id))) == 1
    assert audits(session, "product.create") == []


def test_edit_records_what_changed(client, session, sign_in):
    product = make_product(session, slug="polo", name="Polo")
    category = product.category
    session.commit()
    sign_in("manager")

    response = client.post(
        f"/admin/products/{product.id}",
        data=product_data(category, slug="polo", name="School polo", min_order_quantity="3"),
    )
    assert response.status_code == 302, errors_in(response.text)
    again = fresh(session, Product, product.id)
    assert (again.name, again.min_order_quantity) == ("School polo", 3)
    [entry] = audits(session, "product.update")
    assert entry.before["name"] == "Polo" and entry.after["name"] == "School polo"
    assert entry.before["min_order_quantity"] == 1 and entry.after["min_order_quantity"] == 3
    assert "slug" not in entry.after


def test_edit_refuses_another_products_slug(client, session, sign_in):
    product = make_product(session, slug="polo")
    make_product(session, slug="shirt")
    session.commit()
    sign_in("manager")
    response = client.post(
        f"/admin/products/{product.id}", data=product_data(product.category, slug="shirt")
    )
    assert response.status_code == 400
    assert "already uses this slug" in errors_in(response.text)
    assert fresh(session, Product, product.id).slug == "polo"


# --- price tiers -------------------------------------------------------------------------


def test_parse_tiers_reads_major_units_per_currency():
    rows = [TierRow("1", "89.50"), TierRow("", ""), TierRow("50", "79")]
    assert parse_tiers(rows, "CNY") == ([(1, 8950), (50, 7900)], [])
    assert parse_tiers([TierRow("1", "5000")], "JPY") == ([(1, 5000)], [])


@pytest.mark.parametrize(
    ("rows", "currency", "message"),
    [
        ([TierRow("1", "50.5")], "JPY", "JPY row 1: JPY prices are whole numbers"),
        ([TierRow("1", "1.234")], "CNY", "CNY row 1: at most 2 decimal places"),
        ([TierRow("0", "10")], "CNY", "CNY row 1: the minimum quantity must be at least 1"),
        ([TierRow("x", "10")], "CNY", "CNY row 1: the minimum quantity must be a whole number"),
        ([TierRow("1", "ten")], "CNY", "CNY row 1: “ten” is not a price"),
        ([TierRow("1", "-1")], "CNY", "CNY row 1: the price must be 0 or more"),
        ([TierRow("1", "")], "CNY", "CNY row 1: enter a price"),
        ([TierRow("10", "9"), TierRow("10", "8")], "CNY", "CNY row 2: the minimum quantity"),
        ([TierRow("10", "9"), TierRow("5", "8")], "CNY", "more than the row above (10)"),
        ([TierRow("1", "9"), TierRow("10", "9.5")], "CNY", "CNY row 2: the price must not be"),
    ],
)
def test_parse_tiers_names_the_row_that_is_wrong(app, rows, currency, message):
    with app.test_request_context():
        tiers, errors = parse_tiers(rows, currency)
    assert any(message in error for error in errors), errors


def test_tier_table_saves_every_currency_with_an_audit_row(client, session, sign_in):
    product = make_product(session, tiers=((1, 8900),))
    session.commit()
    sign_in("manager")
    data = {
        "CNY-min": ["1", "50", "", ""],
        "CNY-price": ["89.50", "79", "", ""],
        "JPY-min": ["1"],
        "JPY-price": ["1800"],
    }
    response = client.post(f"/admin/products/{product.id}/tiers", data=data)
    assert response.status_code == 302
    session.expire_all()
    tiers = session.scalars(
        sa.select(PriceTier)
        .where(PriceTier.product_id == product.id)
        .order_by(PriceTier.currency, PriceTier.min_quantity)
    ).all()
    assert [(t.currency, t.min_quantity, t.unit_amount) for t in tiers] == [
        ("CNY", 1, 8950),
        ("CNY", 50, 7900),
        ("JPY", 1, 1800),
    ]
    [entry] = audits(session, "product.tiers")
    assert entry.before == {"CNY": [[1, 8900]]}
    assert entry.after == {"CNY": [[1, 8950], [50, 7900]], "JPY": [[1, 1800]]}


def test_bad_tier_table_changes_nothing_and_says_which_row(client, session, sign_in):
    product = make_product(session, tiers=((1, 8900),))
    session.commit()
    sign_in("manager")
    response = client.post(
        f"/admin/products/{product.id}/tiers",
        data={"CNY-min": ["1", "50"], "CNY-price": ["80", "90"]},
    )
    assert response.status_code == 400
    assert "CNY row 2: the price must not be more than the row above" in response.text
    assert 'value="90"' in response.text  # what was typed comes back
    session.expire_all()
    assert [t.unit_amount for t in session.get(Product, product.id).price_tiers] == [8900]
    assert audits(session, "product.tiers") == []


# --- variants ----------------------------------------------------------------------------


def test_generate_the_matrix_keeps_existing_variants(client, session, sign_in):
    product = make_product(session, slug="polo", sizes=("120",), colours=("navy",))
    kept = product.variants[0]
    session.commit()
    sign_in("manager")

    response = client.post(
        f"/admin/products/{product.id}/variants/generate",
        data={"sizes": "120, 130", "colours": "navy, white", "pattern": "{slug}-{size}-{colour}"},
    )
    assert response.status_code == 302, errors_in(response.text)
    session.expire_all()
    variants = session.get(Product, product.id).variants
    assert [(v.size, v.colour) for v in variants] == [
        ("120", "navy"),
        ("120", "white"),
        ("130", "navy"),
        ("130", "white"),
    ]
    assert variants[0].id == kept.id and variants[0].sku == kept.sku
    assert [v.sku for v in variants[1:]] == ["POLO-120-WHITE", "POLO-130-NAVY", "POLO-130-WHITE"]
    assert "polo-130-white" in session.get(Product, product.id).search_text
    [entry] = audits(session, "variant.generate")
    assert entry.after == {"added": ["POLO-120-WHITE", "POLO-130-NAVY", "POLO-130-WHITE"]}


def test_generate_refuses_skus_already_used(client, session, sign_in):
    other = make_product(session, slug="other", sizes=("130",), colours=("navy",))
    other.variants[0].sku = "POLO-130-NAVY"
    product = make_product(session, slug="polo", sizes=(), colours=())
    session.commit()
    sign_in("manager")
    response = client.post(
        f"/admin/products/{product.id}/variants/generate",
        data={"sizes": "120, 130", "colours": "navy", "pattern": "{slug}-{size}-{colour}"},
    )
    assert response.status_code == 400
    assert "POLO-130-NAVY" in errors_in(response.text) and "already used" in response.text
    session.expire_all()
    assert session.get(Product, product.id).variants == []
    assert audits(session, "variant.generate") == []


def test_generate_refuses_a_pattern_without_size_and_colour(client, session, sign_in):
    product = make_product(session, sizes=(), colours=())
    session.commit()
    sign_in("manager")
    response = client.post(
        f"/admin/products/{product.id}/variants/generate",
        data={"sizes": "120, 130", "colours": "navy", "pattern": "{slug}"},
    )
    assert response.status_code == 400
    assert "{size} and {colour}" in errors_in(response.text)


def test_edit_a_variant(client, session, sign_in):
    product = make_product(session, sizes=("120", "130"))
    first, second = product.variants
    session.commit()
    sign_in("manager")

    clash = client.post(
        f"/admin/variants/{first.id}", data={"sku": second.sku.lower(), "low_stock_threshold": "3"}
    )
    assert clash.status_code == 400
    assert "already uses this SKU" in errors_in(clash.text)
    bad = client.post(
        f"/admin/variants/{first.id}", data={"sku": "A B", "low_stock_threshold": "-1"}
    )
    assert bad.status_code == 400

    ok = client.post(
        f"/admin/variants/{first.id}", data={"sku": "new-sku-1", "low_stock_threshold": "8"}
    )
    assert ok.status_code == 302, errors_in(ok.text)
    variant = fresh(session, Variant, first.id)
    assert (variant.sku, variant.low_stock_threshold, variant.for_sale) == ("NEW-SKU-1", 8, False)
    [entry] = audits(session, "variant.update")
    assert entry.before["for_sale"] is True and entry.after["for_sale"] is False
    assert entry.after["sku"] == "NEW-SKU-1"
    assert "new-sku-1" in session.get(Product, product.id).search_text


# --- a withdrawn variant in the shop -----------------------------------------------------


def flash_after(client, response) -> str:
    page = client.get(response.headers["Location"]).text
    return " ".join(re.findall(r'data-testid="flash">(.*?)</p>', page, re.S))


def test_a_withdrawn_variant_is_shown_unavailable_and_cannot_be_added(client, session, sign_in):
    product = make_product(session, slug="polo", sizes=("120", "130"), on_hand=10)
    inactive = make_product(session, slug="old", active=False)
    kept, withdrawn = product.variants
    inactive_variant = inactive.variants[0].id
    session.commit()
    sign_in("manager")
    response = client.post(
        f"/admin/variants/{withdrawn.id}", data={"sku": withdrawn.sku, "low_stock_threshold": "5"}
    )
    assert response.status_code == 302 and fresh(session, Variant, withdrawn.id).for_sale is False

    page = client.get("/products/polo").text
    cells = dict(re.findall(r'data-sku="([^"]+)"[^>]*data-for-sale="(true|false)"', page))
    assert cells == {kept.sku: "true", withdrawn.sku: "false"}
    assert page.count('data-testid="withdrawn"') == 1
    assert re.search(rf'id="qty-{withdrawn.id}"[^>]*disabled', page)

    refused = client.post("/cart/add", data={"variant_id": withdrawn.id, "quantity": "1"})
    message = flash_after(client, refused)
    inactive_refusal = client.post(
        "/cart/add", data={"variant_id": inactive_variant, "quantity": "1"}
    )
    assert message and message == flash_after(client, inactive_refusal)
    assert (
        client.post("/cart/add", data={"variant_id": kept.id, "quantity": "1"}).status_code == 303
    )
    cart = client.get("/cart").text
    assert kept.sku in cart and withdrawn.sku not in cart


def test_gender_and_age_group_are_set_in_the_product_form(client, session, sign_in):
    product = make_product(session, slug="polo", name="Polo")
    category = product.category
    session.commit()
    sign_in("manager")

    response = client.post(
        f"/admin/products/{product.id}",
        data=product_data(category, slug="polo", gender="girls", age_group="primary"),
    )
    assert response.status_code == 302, errors_in(response.text)
    again = fresh(session, Product, product.id)
    assert (again.gender, again.age_group) == ("girls", "primary")
    page = client.get(f"/admin/products/{product.id}").text
    assert '<option selected value="girls">' in page

    response = client.post(
        f"/admin/products/{product.id}",
        data=product_data(category, slug="polo", gender="", age_group=""),
    )
    assert response.status_code == 302
    assert (
        fresh(session, Product, product.id).gender,
        fresh(session, Product, product.id).age_group,
    ) == (None, None)


def test_an_unknown_gender_is_refused_and_nothing_changes(client, session, sign_in):
    product = make_product(session, slug="polo", name="Polo", gender="boys")
    category = product.category
    session.commit()
    sign_in("manager")

    response = client.post(
        f"/admin/products/{product.id}",
        data=product_data(category, slug="polo", name="Renamed", gender="robots"),
    )
    assert response.status_code == 400
    again = fresh(session, Product, product.id)
    assert (again.name, again.gender) == ("Polo", "boys")
