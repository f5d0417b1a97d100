"""The admin's product page is one form: details, price tiers and variants are saved by one
POST, in one transaction, once however often it is sent; a refusal anywhere saves
nothing, shows every reason in place and keeps everything that was typed."""

import re

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.catalog.models import PriceTier, Product, Variant
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.admin import audits, errors_in, fresh, product_data


def shown_form(client, product_id: int) -> dict:
    """Every field of the page's one form as the page shows it (the one-time key too)."""
    page = client.get(f"/admin/products/{product_id}").text
    form = page[page.index('data-testid="product-form"') :]
    form = form[: form.index("</form>")]
    data: dict[str, list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = [body.strip()]
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.findall(r'<option[^>]*selected[^>]*value="([^"]*)"', options)
        chosen += re.findall(r'<option[^>]*value="([^"]*)"[^>]*selected', options)
        if chosen:
            data[name] = chosen[:1] if name != "new-colours" else chosen
    return data


def tiers_of(session, product_id: int) -> list[tuple[str, int, int]]:
    session.expire_all()
    return [
        (t.currency, t.min_quantity, t.unit_amount)
        for t in session.scalars(
            sa.select(PriceTier)
            .where(PriceTier.product_id == product_id)
            .order_by(PriceTier.currency, PriceTier.min_quantity)
        )
    ]


@pytest.fixture
def polo(session):
    product = make_product(
        session, slug="polo", name="Polo", sizes=("120", "130"), colours=("navy",)
    )
    session.commit()
    return product


def test_one_post_saves_details_prices_and_variants(client, session, sign_in, polo):
    sign_in("manager")
    data = shown_form(client, polo.id)
    assert "request_key" in data and data["name"] == ["Polo"]
    first, second = polo.variants
    data.update(
        {
            "name": ["Summer polo"],
            "CNY-min": ["1", "20", "", ""],
            "CNY-price": ["89.00", "79.50", "", ""],
            f"variant-{first.id}-sku": ["POLO-120-NAVY"],
            f"variant-{first.id}-low": ["7"],
            "new-sizes": ["140"],
            "new-colours": ["white", "navy"],
        }
    )
    data.pop(f"variant-{second.id}-for_sale")  # withdrawn from sale
    response = client.post(f"/admin/products/{polo.id}", data=data)
    assert response.status_code == 302, errors_in(response.text)

    product = fresh(session, Product, polo.id)
    assert product.name == "Summer polo"
    assert tiers_of(session, polo.id) == [("CNY", 1, 8900), ("CNY", 20, 7950)]
    variants = {(v.size, v.colour): v for v in product.variants}
    assert (variants["120", "navy"].sku, variants["120", "navy"].low_stock_threshold) == (
        "POLO-120-NAVY",
        7,
    )
    assert variants["130", "navy"].for_sale is False
    assert sorted(variants) == [
        ("120", "navy"),
        ("130", "navy"),
        ("140", "navy"),
        ("140", "white"),
    ]
    assert [len(audits(session, a)) for a in ("product.update", "product.tiers")] == [1, 1]
    assert len(audits(session, "variant.update")) == 2
    assert audits(session, "variant.generate")[0].after == {
        "added": ["POLO-140-WHITE", "POLO-140-NAVY"]
    }


def test_a_name_typed_in_details_survives_a_wrong_price(client, session, sign_in, polo):
    """The bug this page fixes: a name typed in Details was lost when prices were saved."""
    sign_in("manager")
    data = shown_form(client, polo.id)
    data.update(
        {
            "name": ["Renamed polo"],
            "CNY-min": ["1", "50"],
            "CNY-price": ["80", "90"],
            "new-sizes": ["150"],
            "new-colours": ["red"],
        }
    )
    response = client.post(f"/admin/products/{polo.id}", data=data)
    assert response.status_code == 400
    assert "CNY row 2: the price must not be more than the row above" in errors_in(response.text)
    assert 'value="Renamed polo"' in response.text  # details kept
    assert 'value="90"' in response.text  # prices kept
    assert 'value="150"' in response.text  # new sizes kept
    chosen = r'<option[^>]*selected[^>]*value="red"|value="red"[^>]*selected'
    assert re.search(chosen, response.text)  # the colour picked is still picked
    assert 'data-testid="form-errors"' in response.text
    # nothing saved
    product = fresh(session, Product, polo.id)
    assert product.name == "Polo"
    assert tiers_of(session, polo.id) == [("CNY", 1, 8900)]
    assert len(product.variants) == 2
    assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_a_refused_sku_saves_nothing_else_and_says_where(client, session, sign_in, polo):
    other = make_product(session, slug="other")
    session.commit()
    sign_in("manager")
    data = shown_form(client, polo.id)
    first = polo.variants[0]
    data.update(
        {
            "name": ["Renamed polo"],
            "CNY-min": ["1"],
            "CNY-price": ["70"],
            f"variant-{first.id}-sku": [other.variants[0].sku],
        }
    )
    response = client.post(f"/admin/products/{polo.id}", data=data)
    assert response.status_code == 400
    assert "Another variant already uses this SKU." in errors_in(response.text)
    assert f'id="variant-{first.id}-error"' in response.text
    assert 'value="Renamed polo"' in response.text and 'value="70"' in response.text
    assert fresh(session, Product, polo.id).name == "Polo"
    assert tiers_of(session, polo.id) == [("CNY", 1, 8900)]
    assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_details_alone_leave_prices_and_variants(client, session, sign_in, polo):
    """An older page (or script) posting only the details changes only the details."""
    sign_in("manager")
    response = client.post(
        f"/admin/products/{polo.id}", data=product_data(polo.category, slug="polo", name="New")
    )
    assert response.status_code == 302
    assert fresh(session, Product, polo.id).name == "New"
    assert tiers_of(session, polo.id) == [("CNY", 1, 8900)]
    assert audits(session, "product.tiers") == []


def test_colours_are_picked_by_name(client, session, sign_in, polo):
    sign_in("manager")
    page = client.get(f"/admin/products/{polo.id}").text
    assert re.search(r'<select[^>]*multiple[^>]*name="new-colours"', page) or re.search(
        r'<select[^>]*name="new-colours"[^>]*multiple', page
    )
    assert '<option value="white">White</option>' in page
    assert '<option value="green">Bottle green</option>' in page
    # a colour code outside the palette is refused, not made up
    data = {**shown_form(client, polo.id), "new-sizes": ["150"], "new-colours": ["#fff"]}
    assert client.post(f"/admin/products/{polo.id}", data=data).status_code == 400
    assert len(fresh(session, Product, polo.id).variants) == 2


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_page_sent_at_once_saves_once(app, client, session, sign_in, polo, copies):
    sign_in("manager")
    data = shown_form(client, polo.id)
    data.update(
        {
            "name": ["Summer polo"],
            "CNY-min": ["1", "20"],
            "CNY-price": ["88", "78"],
            "new-sizes": ["140"],
            "new-colours": ["white"],
        }
    )
    answers = send_at_once(app, client, copies, "POST", f"/admin/products/{polo.id}", data)
    assert [answer.status for answer in answers] == [302] * copies
    assert tiers_of(session, polo.id) == [("CNY", 1, 8800), ("CNY", 20, 7800)]
    for action in ("product.update", "product.tiers", "variant.generate"):
        assert len(audits(session, action)) == 1, action
    session.expire_all()
    count = sa.select(sa.func.count(Variant.id)).where(Variant.product_id == polo.id)
    assert session.scalar(count) == 3
    # sent again later (a reload of the POST): still once
    assert client.post(f"/admin/products/{polo.id}", data=data).status_code == 302
    assert len(audits(session, "product.update")) == 1
