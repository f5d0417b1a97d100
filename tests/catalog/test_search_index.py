"""Search through the trigram and gram indexes finds exactly the products whose search
text holds every term, stays in step with every write, and stops at the cap."""

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from shop.catalog import listing
from shop.catalog.listing import ListingQuery, list_products
from shop.catalog.models import SEARCH_GRAMS_FTS_TABLE, Product, Variant
from shop.catalog.search import build_search_text, fold, gram_token, refresh_search_text
from tests.factories import make_category, make_product

BENCH = Path(__file__).resolve().parents[2] / "bench"


def found(session, q: str, *, count_cap: int = 5000) -> list[str]:
    result = list_products(
        session, ListingQuery(q=q), currency="CNY", locale="en", per_page=1000, count_cap=count_cap
    )
    return [card.slug for card in result.cards]


def in_gram_index(session, product_id: int, gram: str) -> bool | None:
    """SQLite only: whether the FTS5 gram table lists the product under ``gram``."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    table = SEARCH_GRAMS_FTS_TABLE
    statement = sa.text(f"SELECT rowid FROM {table} WHERE {table} MATCH :match")
    rowids = session.scalars(statement, {"match": f'"{gram_token(gram)}"'}).all()
    return product_id in rowids


def test_the_gram_index_follows_names_descriptions_and_skus(session):
    shirt = make_product(session, slug="shirt", name="Summer shirt", name_zh="夏季衬衫")
    session.commit()
    assert found(session, "衬衫") == ["shirt"]
    assert found(session, "衫") == ["shirt"]
    assert in_gram_index(session, shirt.id, "衬衫") in (True, None)

    shirt.name_zh = "夏季裤子"
    refresh_search_text(shirt)
    session.commit()
    assert found(session, "衬衫") == []
    assert found(session, "裤") == ["shirt"]
    assert in_gram_index(session, shirt.id, "衬衫") in (False, None)

    shirt.description_ja = "校服のシャツ"
    refresh_search_text(shirt)
    session.commit()
    assert found(session, "校服") == ["shirt"]

    shirt.variants[0].sku = "QZ-9"
    refresh_search_text(shirt)
    session.commit()
    assert found(session, "qz") == ["shirt"]
    assert found(session, "z-") == ["shirt"]


def test_a_deleted_product_leaves_the_gram_index(session):
    product = make_product(session, slug="gone", name="Gone", name_zh="校服")
    session.commit()
    product_id = product.id
    assert found(session, "校服") == ["gone"]

    session.delete(product)
    session.commit()

    assert found(session, "校服") == []
    assert in_gram_index(session, product_id, "校服") in (False, None)


def test_bulk_inserted_products_are_in_the_gram_index(session):
    category = make_category(session)
    rows = [
        {
            "slug": f"bulk-{number}",
            "name": f"Bulk {number}",
            "name_zh": "纯棉衬衫" if number % 2 else "纯棉裤子",
            "description": "",
            "category_id": category.id,
        }
        for number in range(6)
    ]
    for row in rows:
        row["search_text"] = build_search_text(_Row(row))
    session.execute(sa.insert(Product), rows)
    session.commit()

    assert sorted(found(session, "衬衫")) == ["bulk-1", "bulk-3", "bulk-5"]
    assert len(found(session, "纯棉")) == 6


class _Row:
    """A bulk row as ``build_search_text`` reads a product."""

    def __init__(self, row):
        self.__dict__.update({"name_ja": None, "description_zh": None, "description_ja": None})
        self.__dict__.update(row)
        self.variants = []


@pytest.fixture
def catalogue(app, database_url, monkeypatch):
    """A few hundred products of the benchmark's generator, plus one in full width."""
    monkeypatch.syspath_prepend(str(BENCH))
    import seed_bulk

    rows = seed_bulk.generate(400)
    seed_bulk.insert_catalogue(database_url, rows)
    yield rows
    sys.modules.pop("seed_bulk", None)


QUERIES = (
    "衬衫",
    "纯棉",
    "裤",
    "衫",
    "xl",
    "co",
    "-1",
    "cotton",
    "poly-cotton",
    "cotton 衬衫",
    "ＣＯＴＴＯＮ 衬衫",  # full width: NFKC folds it
    "CoTTon SHIRT 衬衫 纯棉",
    "夏季 纯棉 衬衫 summer cotton shirt",
    "裤 xl 衬",
    "%",
    "_",
    "ポロ",
    "q",
    "zz",
)


def test_a_search_finds_exactly_the_products_holding_every_term(app, session, catalogue):
    for q in QUERIES:
        terms = [fold(term) for term in q.split()]
        expected = {
            row["slug"]
            for row in catalogue.products
            if row["active"] and all(term in row["search_text"] for term in terms)
        }
        assert set(found(session, q)) == expected, q


def test_a_search_past_the_cap_counts_up_to_it(session):
    category = make_category(session)
    for number in range(8):
        make_product(session, slug=f"s-{number}", name_zh="衬衫", category=category)
    session.commit()

    result = list_products(
        session, ListingQuery(q="衬衫"), currency="CNY", locale="en", per_page=2, count_cap=5
    )

    assert (result.page.total, result.page.more) == (5, True)
    assert len(result.cards) == 2


def test_a_capped_search_says_so_on_the_page(make_app, session_factory, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 5)
    app = make_app(PRODUCTS_PER_PAGE=2)
    with session_factory(app) as session:
        for number in range(8):
            make_product(session, slug=f"s-{number}", name_zh="衬衫", age_days=number)
        session.commit()

    response = app.test_client().get("/products?q=衬衫")

    assert "Showing 1–2 of 5+ products" in response.text
    assert 'data-total="5" data-more="true"' in response.text


def test_variants_are_searched_by_sku(session):
    product = make_product(session, slug="sku")
    session.add(Variant(product=product, sku="ZX-1", size="M", colour="red"))
    session.flush()
    session.expire(product, ["variants"])
    refresh_search_text(product)
    session.commit()

    assert found(session, "zx") == ["sku"]
