"""The listing loads a page in a fixed number of queries, however many products it shows."""

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_category, make_product
from tests.helpers.queries import recording_queries


def fill(session, count: int) -> None:
    category = make_category(session)
    for number in range(count):
        make_product(
            session,
            category=category,
            tiers=((1, 1000 + number), (50, 900)),
            sizes=("S", "M"),
            colours=("navy", "white"),
            images=2,
        )
    session.commit()


@pytest.mark.parametrize("url", ["/products", "/products?q=product", "/products?sort=price_asc"])
def test_listing_query_count_does_not_grow_with_page_size(make_app, url):

    counts = {}
    for per_page in (3, 24):
        app = make_app(PRODUCTS_PER_PAGE=per_page)
        with Session(app.extensions["sa_engine"]) as session:
            if per_page == 3:
                fill(session, 30)
        client = app.test_client()
        # another page of it: the process keeps the menus (and synonyms) as they are now
        client.get(url + ("&" if "?" in url else "?") + "page=99")
        with recording_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200
        assert response.text.count('data-testid="product-card"') == per_page
        counts[per_page] = len(statements)
    assert counts[3] == counts[24]
    # the page with its count, tiers and images, the listing's version (a search: with the
    # synonyms')
    assert counts[24] <= 3


def test_product_page_query_count_does_not_grow_with_variants(app, client, session):
    small = make_product(session, slug="small", sizes=("S",), colours=("navy",), images=1)
    large = make_product(
        session,
        slug="large",
        sizes=("110", "120", "130", "140", "150", "160", "170"),
        colours=("navy", "white", "grey"),
        images=3,
        tiers=((1, 100), (10, 90), (100, 80)),
    )
    session.commit()
    counts = []
    for product in (small, large):
        with recording_queries(app) as statements:
            assert client.get(f"/products/{product.slug}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
