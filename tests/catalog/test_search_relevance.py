"""The relevance set (``search_relevance.json``): over the demo catalogue, each query in
English, Chinese or Japanese must return the products it names among its first ``top``
results. The same set runs on SQLite and on PostgreSQL (``DATABASE_URL``)."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from shop.catalog import search_synonyms
from shop.catalog.listing import ListingQuery, list_products
from shop.catalog.models import Category, Product
from shop.catalog.search_models import SynonymGroup
from shop.demo.catalogue import seed_demo_catalogue
from shop.storage import FileStorage
from tests.accounts.helpers import make_user

RELEVANCE = json.loads((Path(__file__).parent / "search_relevance.json").read_text("utf-8"))
LOCALES = {"en": "en", "zh": "zh_CN", "ja": "ja"}


def seed_demo_with_synonyms(session, tmp_path) -> None:
    """The demo catalogue (small pictures), and the set's synonym groups instead of any
    the migrations left."""
    seed_demo_catalogue(session, FileStorage(tmp_path / "uploads"), image_size=8)
    session.execute(sa.delete(SynonymGroup))
    staff = make_user(session, email="search@factory.example", role="manager")
    for words in RELEVANCE["synonyms"]:
        search_synonyms.create_group(session, staff, search_synonyms.parse_words(", ".join(words)))
    session.commit()


def first_results(session, q: str, lang: str, top: int) -> list[str]:
    listing = list_products(
        session, ListingQuery(q=q), currency="CNY", locale=LOCALES[lang], per_page=24
    )
    return [card.slug for card in listing.cards[:top]]


def test_the_relevance_set_is_big_enough_and_covers_three_languages():
    queries = RELEVANCE["queries"]
    assert len(queries) >= 40
    assert {query["lang"] for query in queries} == {"en", "zh", "ja"}
    assert all(1 <= query["top"] <= 3 for query in queries)
    assert all(query.get("expect") or query.get("in_category") for query in queries)


def category_of_products(session) -> dict[str, set[str]]:
    """Each product's slug → the slugs of its category and the categories above it."""
    parents = dict(session.execute(sa.select(Category.id, Category.parent_id)).all())
    slugs = dict(session.execute(sa.select(Category.id, Category.slug)).all())
    found = {}
    for product_slug, category_id in session.execute(sa.select(Product.slug, Product.category_id)):
        chain = set()
        while category_id is not None:
            chain.add(slugs[category_id])
            category_id = parents[category_id]
        found[product_slug] = chain
    return found


def test_every_query_returns_its_products_first(session, tmp_path):
    seed_demo_with_synonyms(session, tmp_path)
    categories = category_of_products(session)
    misses = []
    for query in RELEVANCE["queries"]:
        found = first_results(session, query["q"], query["lang"], query["top"])
        expected = query.get("expect", [])
        if len(expected) > query["top"]:
            pytest.fail(f"{query['q']!r} expects more products than its top {query['top']}")
        within = query.get("in_category")
        if not set(expected) <= set(found):
            misses.append((query["q"], expected, found))
        elif within and (
            len(found) < query["top"] or not all(within in categories[slug] for slug in found)
        ):
            misses.append((query["q"], within, found))
    assert not misses, "\n".join(f"{q!r}: wanted {e}, got {f}" for q, e, f in misses)
