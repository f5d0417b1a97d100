"""Listing filters (issue 16): size, colour, price range in the visitor's currency, stock
or made to order, minimum order, gender and age; GET parameters kept with the category,
the search, the sort and the pages; bad values ignored with a message, never a 500."""

import re

import pytest

from shop.catalog.listing import (
    ListingQuery,
    list_facets,
    parse_filters,
    parse_listing_query,
    size_order,
)
from tests.factories import make_category, make_product
from tests.helpers.pagecache import raw_write


def slugs(response) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', response.text)


@pytest.fixture
def catalogue(session):
    school = make_category(session, slug="school-uniforms", name="School uniforms")
    work = make_category(session, slug="workwear", name="Workwear")
    make_product(
        session,
        slug="girls-pinafore",
        category=school,
        sizes=("110", "120"),
        colours=("navy",),
        tiers=((1, 8900), (50, 7900)),
        gender="girls",
        age_group="primary",
        age_days=1,
    )
    make_product(
        session,
        slug="unisex-polo",
        category=school,
        sizes=("120", "130"),
        colours=("white", "navy"),
        tiers=((1, 4500),),
        gender="unisex",
        age_group="primary",
        age_days=2,
    )
    make_product(
        session,
        slug="boys-blazer",
        category=school,
        sizes=("150", "160"),
        colours=("navy",),
        tiers=((10, 25000),),
        min_order_quantity=10,
        gender="boys",
        age_group="secondary",
        on_hand=0,
        age_days=3,
    )
    make_product(
        session,
        slug="hi-vis-vest",
        category=work,
        sizes=("M", "L", "XL"),
        colours=("yellow",),
        tiers=((100, 1800),),
        made_to_order=True,
        lead_time_days=20,
        min_order_quantity=100,
        on_hand=0,
        age_days=4,
    )
    session.commit()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("size=120", ["girls-pinafore", "unisex-polo"]),
        ("size=M", ["hi-vis-vest"]),
        ("colour=white", ["unisex-polo"]),
        ("colour=navy&size=160", ["boys-blazer"]),
        ("price_min=50", ["girls-pinafore", "boys-blazer"]),
        ("price_max=45", ["unisex-polo", "hi-vis-vest"]),
        ("price_min=45&price_max=89", ["girls-pinafore", "unisex-polo"]),
        ("price_max=44.99", ["hi-vis-vest"]),
        ("stock=in_stock", ["girls-pinafore", "unisex-polo"]),  # the blazer has none left
        ("stock=made_to_order", ["hi-vis-vest"]),
        ("moq=1", ["girls-pinafore", "unisex-polo"]),
        ("moq=10", ["girls-pinafore", "unisex-polo", "boys-blazer"]),
        ("gender=girls", ["girls-pinafore", "unisex-polo"]),  # unisex fits either
        ("gender=boys", ["unisex-polo", "boys-blazer"]),
        ("gender=unisex", ["unisex-polo"]),
        ("age=secondary", ["boys-blazer"]),
        ("category=school-uniforms&age=primary&colour=navy", ["girls-pinafore", "unisex-polo"]),
        ("category=workwear&size=120", []),
        ("q=160&gender=boys", ["boys-blazer"]),
        ("q=160&gender=girls", []),
    ],
)
def test_each_filter_narrows_the_listing(client, catalogue, query, expected):
    response = client.get(f"/products?{query}&sort=newest")
    assert response.status_code == 200
    assert slugs(response) == expected
    assert 'data-testid="filters-ignored"' not in response.text


def test_price_range_is_in_the_visitors_currency(client, session):
    make_product(session, slug="yen-cheap", currency="JPY", tiers=((1, 980),))
    make_product(session, slug="yen-dear", currency="JPY", tiers=((1, 4500),))
    session.commit()
    client.post("/preferences", data={"currency": "JPY", "locale": "en"})
    assert slugs(client.get("/products?price_max=1000")) == ["yen-cheap"]
    # The same number in yuan would mean 100,000 fen: both.
    assert slugs(client.get("/products?price_min=1000")) == ["yen-dear"]


def test_filters_combine_with_sort_and_are_kept_by_links(client, catalogue):
    response = client.get("/products?category=school-uniforms&colour=navy&sort=price_desc")
    assert slugs(response) == ["boys-blazer", "girls-pinafore", "unisex-polo"]
    text = response.text
    # The sort form carries the filters; the filter form the category and the sort.
    sort_form = text.split('class="sort-form"')[1].split("</form>")[0]
    assert 'name="colour" value="navy"' in sort_form
    filter_form = text.split('data-testid="filter-form"')[1].split("</form>")[0]
    assert 'name="category" value="school-uniforms"' in filter_form
    assert 'name="sort" value="price_desc"' in filter_form
    assert '<option value="navy" selected>' in filter_form
    # Category links keep the filters, and a link clears them.
    assert "/products?category=workwear&amp;sort=price_desc&amp;colour=navy" in text
    assert 'data-testid="clear-filters"' in text


def test_filters_page_through_with_the_filters_kept(app, client, session):
    for number in range(30):
        make_product(session, slug=f"white-{number:02d}", colours=("white",), age_days=number)
    make_product(session, slug="black-one", colours=("black",))
    session.commit()
    app.config["PRODUCTS_PER_PAGE"] = 24
    first = client.get("/products?colour=white&sort=newest")
    assert len(slugs(first)) == 24
    assert "black-one" not in slugs(first)
    assert "/products?sort=newest&amp;colour=white&amp;page=2" in first.text
    second = client.get("/products?colour=white&sort=newest&page=2")
    assert slugs(second) == [f"white-{number:02d}" for number in range(24, 30)]


def test_the_menus_offer_the_catalogues_sizes_and_colours(client, session, catalogue):
    facets = list_facets(session)
    assert facets.sizes == ("110", "120", "130", "150", "160", "M", "L", "XL")
    assert facets.colours == ("white", "navy", "yellow")
    page = client.get("/products").text
    size_menu = page.split('id="filter-size"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)"', size_menu) == ["", *facets.sizes]


def test_size_order():
    sizes = ["XL", "ONE", "120", "S", "3XL", "90", "M", "36.5"]
    assert sorted(sizes, key=size_order) == ["36.5", "90", "120", "S", "M", "XL", "3XL", "ONE"]


BAD = [
    ("colour", "purple-ish"),
    ("size", "1" * 200),
    ("price_min", "9" * 40),
    ("price_min", "-5"),
    ("price_max", "1e9"),
    ("price_max", "NaN"),
    ("price_max", "12.345"),
    ("moq", "99999999999999999999"),
    ("moq", "0"),
    ("moq", "١٢"),  # Arabic-Indic digits
    ("stock", "lots"),
    ("gender", "x"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_filter_is_left_out_and_said_so(client, catalogue, name, value):
    response = client.get("/products", query_string={name: value, "sort": "newest"})
    assert response.status_code == 200
    assert slugs(response) == ["girls-pinafore", "unisex-polo", "boys-blazer", "hi-vis-vest"]
    notice = re.search(r'data-testid="filters-ignored" data-ignored="([^"]*)"', response.text)
    assert notice and notice.group(1) == name


@pytest.mark.parametrize("name", ["colour", "size", "price_min", "age"])
def test_a_nul_byte_in_a_filter_is_refused_plainly(client, catalogue, name):
    # The shop refuses NUL bytes in any input before a view runs (shop.inputs).
    response = client.get("/products", query_string={name: "navy\x00"})
    assert response.status_code == 400


def test_parsing_keeps_good_filters_and_names_the_bad():
    parsed = parse_filters({"size": " 120 ", "colour": "navy", "price_min": "050", "moq": "x"})
    assert parsed == {"size": "120", "colour": "navy", "price_min": "50", "ignored": ("moq",)}
    assert parse_filters({"price_max": "12.50"})["price_max"] == "12.5"
    assert parse_filters({"size": "", "colour": ""}) == {"ignored": ()}


def test_links_leave_out_empty_filters():
    query = parse_listing_query({"colour": "navy", "moq": "10", "size": ""}, 100)
    assert query.args_with(page=2) == {"page": 2, "colour": "navy", "moq": 10}
    assert query.args_without_filters() == {}
    assert ListingQuery().filters == {}


def test_two_filters_do_not_get_each_others_cached_page(app, client, catalogue):
    """The page cache's key holds the query string: a navy listing cached, the white one
    is its own page (and both still come from the cache afterwards)."""
    navy = client.get("/products?colour=navy&sort=newest")
    white = client.get("/products?colour=white&sort=newest")
    assert slugs(navy) == ["girls-pinafore", "unisex-polo", "boys-blazer"]
    assert slugs(white) == ["unisex-polo"]
    # Behind the cache's back (no version bump): cached pages do not show it.
    raw_write(app, "UPDATE variant SET colour = 'white' WHERE colour = 'yellow'")
    assert slugs(client.get("/products?colour=navy&sort=newest")) == slugs(navy)
    assert slugs(client.get("/products?colour=white&sort=newest")) == ["unisex-polo"]
    assert slugs(client.get("/products?sort=newest&colour=white")) == [
        "unisex-polo",
        "hi-vis-vest",
    ]  # a different query string is a different page, rendered now
