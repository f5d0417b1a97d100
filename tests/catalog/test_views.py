"""Catalogue pages through the test client: what a buyer sees, and bad input."""

import re

import pytest

from tests.factories import make_category, make_product


def slugs(response) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', response.text)


def prices(response) -> list[tuple[int, str]]:
    found = re.findall(
        r'data-testid="price" data-amount="(\d+)" data-currency="([A-Z]{3})"', response.text
    )
    return [(int(amount), currency) for amount, currency in found]


@pytest.fixture
def catalogue(session):
    school = make_category(session, slug="school-uniforms", name="School uniforms", name_zh="校服")
    polos = make_category(session, slug="polos", name="Polos", parent=school)
    work = make_category(session, slug="workwear", name="Workwear", name_zh="工作服")
    make_product(
        session,
        slug="summer-polo",
        name="Summer school polo",
        name_zh="夏季校服短袖polo衫",
        name_ja="夏用スクールポロシャツ",
        description="Breathable pique cotton.",
        category=polos,
        tiers=((1, 8900), (50, 7900), (200, 6900)),
        sizes=("110", "120", "130"),
        colours=("white", "navy"),
        featured=True,
        age_days=3,
        images=1,
    )
    make_product(
        session,
        slug="chef-coat",
        name="Double-breasted chef coat",
        name_zh="双排扣厨师服",
        description="Poly-cotton twill, stud buttons.",
        category=work,
        tiers=((10, 12900), (100, 11500)),
        made_to_order=True,
        lead_time_days=21,
        min_order_quantity=10,
        order_increment=5,
        sizes=("S", "M", "L"),
        colours=("white",),
        on_hand=0,
        age_days=1,
        size_chart={"columns": ["Size", "Chest (cm)"], "rows": [["S", "96"], ["M", "102"]]},
    )
    make_product(
        session,
        slug="winter-coat",
        name="Padded winter coat",
        name_zh="加厚冬季棉服",
        category=school,
        tiers=((1, 25900),),
        age_days=10,
    )
    make_product(session, slug="retired-cap", name="Retired cap", category=school, active=False)
    session.commit()


def test_home_shows_categories_featured_products_and_the_school_finder(client, catalogue):
    response = client.get("/")
    assert response.status_code == 200
    assert "School uniforms" in response.text and "Workwear" in response.text
    assert slugs(response)[0] == "summer-polo"
    assert 'action="/schools"' in response.text


def test_listing_shows_active_products_only_newest_after_featured(client, catalogue):
    response = client.get("/products")
    assert response.status_code == 200
    assert slugs(response) == ["summer-polo", "chef-coat", "winter-coat"]
    assert 'data-total="3"' in response.text


def test_card_price_is_the_base_tier_in_minor_units(client, catalogue):
    response = client.get("/products?sort=name")
    assert prices(response) == [(12900, "CNY"), (25900, "CNY"), (8900, "CNY")]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("polo", ["summer-polo"]),
        ("POLO", ["summer-polo"]),
        ("校服", ["summer-polo", "winter-coat"]),  # inside a longer word; a category's name
        ("冬季", ["winter-coat"]),
        ("ポロシャツ", ["summer-polo"]),  # Japanese
        ("pique", ["summer-polo"]),  # description
        ("zzqx", []),
        ("coat", ["chef-coat", "winter-coat"]),
        ("chef coat", ["chef-coat"]),  # every word must match
        ("100%", []),  # LIKE wildcards are literal
        ("retired", []),  # inactive products are never found
    ],
)
def test_search_matches_name_description_in_any_language(client, catalogue, q, expected):
    response = client.get("/products", query_string={"q": q})
    assert response.status_code == 200
    assert sorted(slugs(response)) == sorted(expected)


def test_search_matches_sku_case_insensitively(client, catalogue, session):
    from shop.catalog.models import Variant

    sku = session.query(Variant.sku).filter(Variant.size == "M").scalar()
    response = client.get("/products", query_string={"q": sku.lower()})
    assert slugs(response) == ["chef-coat"]


def test_search_relevance_puts_name_matches_before_description_matches(client, session):
    make_product(session, slug="desc-match", name="Lab coat", description="Not a polo at all")
    make_product(session, slug="name-match", name="Polo", age_days=30)
    session.commit()
    assert slugs(client.get("/products?q=polo")) == ["name-match", "desc-match"]


def test_category_filter_includes_subcategories(client, catalogue):
    assert slugs(client.get("/products?category=school-uniforms")) == [
        "summer-polo",
        "winter-coat",
    ]
    assert slugs(client.get("/products?category=polos")) == ["summer-polo"]
    assert slugs(client.get("/products?category=workwear")) == ["chef-coat"]


def test_unknown_category_shows_everything(client, catalogue):
    response = client.get("/products?category=no-such-thing")
    assert response.status_code == 200
    assert len(slugs(response)) == 3


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_asc", ["summer-polo", "chef-coat", "winter-coat"]),
        ("price_desc", ["winter-coat", "chef-coat", "summer-polo"]),
        ("newest", ["chef-coat", "summer-polo", "winter-coat"]),
        ("name", ["chef-coat", "winter-coat", "summer-polo"]),
        ("relevance", ["summer-polo", "chef-coat", "winter-coat"]),
    ],
)
def test_sort_orders(client, catalogue, sort, expected):
    assert slugs(client.get(f"/products?sort={sort}")) == expected


def test_sort_by_name_follows_the_language(client, catalogue):
    # 双 (U+53CC) < 加 (U+52A0)? No: 加 < 双 < 夏 by code point.
    response = client.get("/products?sort=name&lang=zh_CN")
    assert slugs(response) == ["winter-coat", "chef-coat", "summer-polo"]


def test_pagination_24_a_page(client, session):
    category = make_category(session)
    for number in range(30):
        make_product(session, slug=f"p-{number:02d}", category=category, age_days=number)
    session.commit()
    first = client.get("/products")
    second = client.get("/products?page=2")
    assert slugs(first) == [f"p-{n:02d}" for n in range(24)]
    assert slugs(second) == [f"p-{n:02d}" for n in range(24, 30)]
    assert 'rel="next" href="/products?page=2"' in first.text
    assert "Showing 25–30 of 30 products" in second.text


@pytest.mark.parametrize(
    "query",
    [
        "page=-1",
        "page=abc",
        "page=0",
        "page=99999999999999999999999",
        "page=1.5",
        "sort=bogus",
        "sort=",
        "category=",
        "q=" + "x" * 2000,
        "q=%ff%fe",
        "q=%zz%",
        "category=%C3%28",
        "category=" + "c" * 500,
        "q=%25%5F%5C",
        "q=' OR 1=1 --",
        "page=2&page=x&sort=name&sort=bogus",
    ],
)
def test_bad_listing_input_never_fails(client, catalogue, query):
    response = client.get(f"/products?{query}")
    assert response.status_code == 200
    assert 'data-testid="result-count"' in response.text


@pytest.mark.parametrize(
    "url", ["/products?q=%00%ff", "/products?category=%00", "/products/%00", "/products/a%00"]
)
def test_a_nul_byte_in_the_listing_or_a_product_url_is_refused_in_the_shop_layout(
    client, catalogue, url
):
    response = client.get(url)
    assert response.status_code == 400
    assert "Your input contains a character we cannot store (a NUL byte)." in response.text
    assert 'class="site-header"' in response.text


def test_long_query_is_cut_to_the_maximum(client, catalogue):
    response = client.get("/products", query_string={"q": "polo" + "x" * 2000})
    assert response.status_code == 200
    assert "x" * 101 not in response.text


def test_page_past_the_end_shows_the_last_page(client, catalogue):
    response = client.get("/products?page=50")
    assert response.status_code == 200
    assert len(slugs(response)) == 3


def test_product_page_shows_tiers_rules_variants_and_size_chart(client, catalogue):
    response = client.get("/products/chef-coat")
    assert response.status_code == 200
    text = response.text
    assert "Double-breasted chef coat" in text
    assert re.findall(r'data-testid="tier" data-min="(\d+)" data-max="(\d*)"', text) == [
        ("10", "99"),
        ("100", ""),
    ]
    assert "10–99" in text and "100+" in text
    assert "Minimum order: 10 pieces in total." in text
    assert "Sold in multiples of 5 pieces in total." in text
    assert "Made to order — ships in about 21 days." in text
    assert text.count('data-testid="variant"') == 3
    assert 'data-testid="size-chart"' in text and "<td>102</td>" in text


def test_product_page_shows_stock_per_variant(client, catalogue):
    text = client.get("/products/summer-polo").text
    assert (
        re.findall(r'data-testid="variant" data-sku="[^"]+" data-available="(\d*)"', text)
        == ["10"] * 6
    )
    assert "10 in stock" in text
    assert "No minimum: order from a single piece." in text
    assert "1–49" in text and "50–199" in text and "200+" in text
    assert 'src="/media/products/summer-polo-0.png"' in text


def test_product_page_selected_variant(client, catalogue, session):
    from shop.catalog.models import Variant

    variant = session.query(Variant).filter(Variant.sku.like("%-120-NAVY")).one()
    text = client.get(f"/products/summer-polo?variant={variant.id}").text
    assert f'data-testid="selected-variant" data-sku="{variant.sku}"' in text


@pytest.mark.parametrize(
    "url",
    ["/products/no-such-thing", "/products/retired-cap", "/products/%ff", "/products/" + "a" * 300],
)
def test_unknown_or_inactive_product_is_a_404_in_the_shop_layout(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'class="site-header"' in response.text


@pytest.mark.parametrize("variant", ["abc", "-1", str(2**31), str(2**63), "9" * 5000])
def test_product_page_bad_variant_parameter_is_ignored(client, catalogue, variant):
    response = client.get(f"/products/summer-polo?variant={variant}")
    assert response.status_code == 200
    assert 'data-testid="selected-variant"' not in response.text


def test_chinese_interface_shows_chinese_names_and_prices(client, catalogue):
    response = client.get("/products/summer-polo?lang=zh_CN")
    assert "夏季校服短袖polo衫" in response.text
    assert "¥89.00" in response.text
    assert '<html lang="zh-CN">' in response.text


def test_currency_choice_prices_in_that_currency(client, catalogue, session):
    from shop.catalog.models import PriceTier, Product

    product = session.query(Product).filter_by(slug="summer-polo").one()
    session.add(PriceTier(product=product, currency="JPY", min_quantity=1, unit_amount=1800))
    session.commit()
    with client.session_transaction() as browser_session:
        browser_session["currency"] = "JPY"
    response = client.get("/products?q=polo")
    assert prices(response) == [(1800, "JPY")]
    assert "¥1,800" in response.text
    assert "Price on request" in client.get("/products?q=coat").text
