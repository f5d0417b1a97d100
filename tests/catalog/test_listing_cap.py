"""The listing counts no further than ``COUNT_CAP`` products: past it, "1,000+ products",
and pages go only as far as the cap."""

import re

import pytest

from shop.catalog import listing
from shop.pagination import paginate
from tests.factories import make_category, make_product


def slugs(response) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', response.text)


@pytest.fixture
def capped_client(make_app, session_factory, monkeypatch):
    """Eight products, newest first p-0 … p-7; a cap of 5 and 2 products a page."""
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    app = make_app(PRODUCTS_PER_PAGE=2)
    with session_factory(app) as session:
        category = make_category(session, slug="shirts")
        for number in range(8):
            make_product(session, slug=f"p-{number}", category=category, age_days=number)
        session.commit()
    return app.test_client()


def test_a_page_counts_up_to_the_cap_and_says_there_are_more(capped_client):
    response = capped_client.get("/products")

    assert slugs(response) == ["p-0", "p-1"]
    assert "Showing 1–2 of 5+ products" in response.text
    assert 'data-total="5" data-more="true"' in response.text
    assert 'href="/products?page=3"' in response.text
    assert 'href="/products?page=4"' not in response.text


def test_the_last_page_ends_at_the_cap(capped_client):
    response = capped_client.get("/products?page=3")

    assert slugs(response) == ["p-4"]
    assert "Showing 5–5 of 5+ products" in response.text
    assert 'rel="next"' not in response.text


def test_a_page_past_the_cap_shows_the_last_page_there_is(capped_client):
    response = capped_client.get("/products?page=4")

    assert slugs(response) == ["p-4"]
    assert '<span aria-current="page">3</span>' in response.text


def test_a_search_past_the_cap_is_capped_alike(capped_client):
    response = capped_client.get("/products?q=product&page=9")

    assert len(slugs(response)) == 1
    assert "Showing 5–5 of 5+ products" in response.text


def test_a_category_below_the_cap_shows_its_exact_count(capped_client, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 1000)

    response = capped_client.get("/products?category=shirts&page=4")

    assert slugs(response) == ["p-6", "p-7"]
    assert "Showing 7–8 of 8 products" in response.text
    assert "data-more" not in response.text


def test_the_capped_count_is_shown_in_the_visitors_language(capped_client):
    response = capped_client.get("/products?lang=zh_CN")

    assert "显示第 1–2 件，共 5+ 件商品" in response.text


def test_paginate_with_more_pages_only_the_counted_items():
    page = paginate(total=1000, requested=99, per_page=24, more=True)

    assert (page.number, page.pages, page.first_item, page.last_item) == (42, 42, 985, 1000)
    assert page.more and not page.has_next


def test_a_search_ranks_no_more_than_the_search_cap(make_app, session_factory, monkeypatch):
    """A search's cost is the ranking of its candidates: it takes at most ``SEARCH_CAP``
    of them, even where browsing counts further."""
    monkeypatch.setattr(listing, "COUNT_CAP", 1000)
    monkeypatch.setattr(listing, "SEARCH_CAP", 3)
    app = make_app(PRODUCTS_PER_PAGE=2)
    with session_factory(app) as session:
        for number in range(8):
            make_product(session, slug=f"p-{number}", age_days=number)
        session.commit()
    client = app.test_client()

    search = client.get("/products?q=product&page=9")
    assert len(slugs(search)) == 1
    assert "Showing 3–3 of 3+ products" in search.text
    assert "Showing 1–2 of 8 products" in client.get("/products").text
