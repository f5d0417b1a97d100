"""Link previews: OpenGraph and Twitter-card tags on the window, its collections and the
shop's product pages (price in the visitor's currency), schema.org Product data as
JSON-LD that no product name can break out of, and no extra SQL on the product page."""

import html
import json
import re

import pytest

from shop.catalog.models import PriceTier
from shop.resellers import picks
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.helpers.resellers import add_picks, make_reseller


def meta(page: str) -> dict[str, str]:
    """The page's ``<meta property|name=… content=…>`` tags (each name once)."""
    found: dict[str, str] = {}
    for key, value in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page):
        assert key not in found, f"{key} twice"
        found[key] = html.unescape(value)
    return found


def json_ld(page: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return [json.loads(block) for block in blocks]


@pytest.fixture
def base(app) -> str:
    return app.config["SHOP_BASE_URL"]


@pytest.fixture
def polo(session):
    product = make_product(
        session,
        slug="polo",
        name="Polo shirt",
        description="Soft cotton polo for every school day.\n\nWashes at 60°.",
        tiers=((1, 8900), (50, 7900)),
        images=2,
    )
    product.price_tiers.append(PriceTier(currency="JPY", min_quantity=1, unit_amount=4800))
    session.commit()
    return product


@pytest.fixture
def window(session, polo):
    reseller = make_reseller(session, bio="Uniforms I trust.")
    add_picks(session, reseller, [polo])
    collection = picks.create_collection(session, reseller, "Back to school", "back-to-school")
    picks.add_to_collection(
        session, reseller, collection.id, picks.list_own_picks(session, reseller, 1)[1][0].id
    )
    session.commit()
    return reseller


def choose_currency(client, currency: str) -> None:
    client.post("/preferences", data={"currency": currency, "locale": "en", "next": "/"})


# --- the window ----------------------------------------------------------------------------


def test_the_window_page_has_a_preview_card(client, base, window):
    tags = meta(client.get("/w/ann-picks").text)
    assert tags["og:type"] == "website"
    assert tags["og:title"] == "Ann's picks"
    assert tags["og:description"] == "Uniforms I trust."
    assert tags["og:url"] == f"{base}/w/ann-picks"
    # No avatar: the first product's picture, absolute on the shop's address.
    assert tags["og:image"] == f"{base}/media/products/polo-0.png"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:title"] == "Ann's picks"
    assert "product:price:amount" not in tags


def test_a_collection_page_has_its_own_preview_card(client, base, window):
    tags = meta(client.get("/w/ann-picks/c/back-to-school").text)
    assert tags["og:title"] == "Back to school · Ann's picks"
    assert tags["og:url"] == f"{base}/w/ann-picks/c/back-to-school"
    assert tags["twitter:card"] == "summary_large_image"


def test_a_window_without_a_bio_describes_itself(client, session):
    make_reseller(session, bio="", handle="quiet-one")
    tags = meta(client.get("/w/quiet-one").text)
    assert tags["og:description"].startswith("A window on the factory")
    assert "og:image" not in tags  # nothing to show


def test_a_window_preview_speaks_the_visitors_language(client, session):
    make_reseller(session, bio="", handle="quiet-one")
    tags = meta(client.get("/w/quiet-one?lang=ja").text)
    assert not tags["og:description"].startswith("A window on the factory")


# --- the product page ----------------------------------------------------------------------


def test_a_product_page_has_a_preview_card_with_its_price(client, base, polo):
    tags = meta(client.get("/products/polo").text)
    assert tags["og:type"] == "product"
    assert tags["og:title"] == "Polo shirt"
    assert tags["og:description"] == "Soft cotton polo for every school day."
    assert tags["og:url"] == f"{base}/products/polo"
    assert tags["og:image"] == f"{base}/media/products/polo-0.png"
    assert tags["product:price:amount"] == "89.00"  # one piece, the first tier
    assert tags["product:price:currency"] == "CNY"
    assert tags["twitter:card"] == "summary_large_image"


def test_the_price_tags_follow_the_visitors_currency(client, polo):
    choose_currency(client, "JPY")
    page = client.get("/products/polo").text
    tags = meta(page)
    assert (tags["product:price:amount"], tags["product:price:currency"]) == ("4800", "JPY")
    [data] = json_ld(page)
    assert (data["offers"]["price"], data["offers"]["priceCurrency"]) == ("4800", "JPY")


def test_a_product_without_a_price_in_the_currency_has_no_price_tags(client, polo):
    choose_currency(client, "USD")
    page = client.get("/products/polo").text
    assert "product:price:amount" not in meta(page)
    [data] = json_ld(page)
    assert "offers" not in data


def test_a_shared_product_link_keeps_the_window_in_og_url(client, base, polo):
    assert meta(client.get("/products/polo?via=ann-picks").text)["og:url"] == (
        f"{base}/products/polo?via=ann-picks"
    )
    odd = client.get("/products/polo?via=%3Cscript%3E" + "x" * 3000)
    assert odd.status_code == 200
    assert meta(odd.text)["og:url"] == f"{base}/products/polo"


def test_the_product_page_carries_schema_org_product_data(client, base, polo):
    [data] = json_ld(client.get("/products/polo").text)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["name"] == "Polo shirt"
    assert data["productID"] == "polo"
    assert data["image"] == [
        f"{base}/media/products/polo-0.png",
        f"{base}/media/products/polo-1.png",
    ]
    assert data["offers"] == {
        "@type": "Offer",
        "url": f"{base}/products/polo",
        "price": "89.00",
        "priceCurrency": "CNY",
        "availability": "https://schema.org/InStock",
        "eligibleQuantity": {"@type": "QuantitativeValue", "minValue": 1},
    }


def test_a_selected_variant_gives_its_sku(client, polo):
    variant = polo.variants[0]
    [data] = json_ld(client.get(f"/products/polo?variant={variant.id}").text)
    assert data["sku"] == variant.sku


@pytest.mark.parametrize(
    ("made_to_order", "on_hand", "availability"),
    [(False, 0, "OutOfStock"), (True, 0, "MadeToOrder"), (False, 3, "InStock")],
)
def test_availability_follows_the_stock(client, session, made_to_order, on_hand, availability):
    make_product(
        session, slug="coat", on_hand=on_hand, made_to_order=made_to_order, lead_time_days=20
    )
    session.commit()
    [data] = json_ld(client.get("/products/coat").text)
    assert data["offers"]["availability"] == f"https://schema.org/{availability}"


def test_no_product_name_breaks_out_of_the_tags(client, session):
    name = 'Evil </script><script>alert(1)</script> "quoted" & <b>'
    make_product(session, slug="evil", name=name, description="</script><!--")
    session.commit()
    page = client.get("/products/evil").text
    assert "<script>alert(1)" not in page
    assert page.count("</script>") == page.count("<script")  # every script closes once
    [data] = json_ld(page)
    assert data["name"] == name
    assert data["description"] == "</script><!--"
    assert meta(page)["og:title"] == name


def test_the_tags_cost_the_product_page_no_query(app, client, session, polo):
    """The product page is one statement (shop.catalog.products); with its preview tags
    and JSON-LD it stays one. (The page cache is off here: every request renders.)"""
    app.extensions["page_store"] = None
    client.get("/products/polo")  # warm: the session's first statements
    with recording_queries(app) as statements:
        page = client.get("/products/polo").text
    assert 'property="og:title"' in page
    assert len(json_ld(page)) == 1
    assert len(statements) == 1, statements
