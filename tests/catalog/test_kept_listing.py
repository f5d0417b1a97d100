"""The listing's menus and counts as a process keeps them (``shop.catalog.listing``'s
``KeptListing``), checked against ``listing_version`` (migration 0028): every write to a
category, a filter value or which products are listed changes the version in the writer's
transaction, whoever writes (plain SQL here, as another process or a script would), and
the next listing page shows the change."""

import re
import threading
import time

import pytest
import sqlalchemy as sa

from shop.catalog.facets import prune_facets
from shop.catalog.models import Category
from tests.factories import make_category, make_product
from tests.helpers.at_once import run_at_once
from tests.helpers.queries import recording_queries
from tests.helpers.variants import insert_variant

VERSION = sa.text("SELECT version FROM listing_version WHERE id = 1")


def version(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(VERSION).scalar_one()


def run_sql(engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def menu_of(page: str) -> list[str]:
    """The category menu's links' slugs."""
    menu = page.split('class="category-nav"')[1].split("</ul>")[0]
    return re.findall(r"category=([\w-]+)", menu)


def count_of(page: str) -> int:
    return int(re.search(r'data-testid="result-count" data-total="(\d+)"', page)[1])


def sizes_of(page: str) -> list[str]:
    menu = page.split('id="filter-size"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]+)"', menu)


@pytest.fixture
def shop(uncached, session):
    coats = make_category(session, slug="coats", name="Coats")
    make_category(session, slug="jackets", name="Jackets", position=5)
    product = make_product(session, slug="coat", category=coats, sizes=("120",))
    session.commit()
    return uncached.extensions["sa_engine"], uncached.test_client(), product.id


WRITES = {
    "category insert": "INSERT INTO category (slug, name, position) VALUES ('hats', 'Hats', 9)",
    "category rename": "UPDATE category SET name = 'Winter coats' WHERE slug = 'coats'",
    "category delete": "DELETE FROM category WHERE slug = 'hats'",
    "new size": "INSERT INTO variant_facet (kind, value) VALUES ('size', '999')",
    "a value's delete": "DELETE FROM variant_facet WHERE value = '999'",
    "a product taken off": "UPDATE product SET active = false WHERE slug = 'coat'",
    "a product put back": "UPDATE product SET active = true WHERE slug = 'coat'",
    "a product moved": "UPDATE product SET category_id ="
    " (SELECT id FROM category WHERE slug = 'jackets') WHERE slug = 'coat'",
}


def test_every_write_to_a_category_a_filter_value_or_what_is_listed_changes_the_version(
    shop, session
):
    engine, _client, _product_id = shop
    before = version(engine)
    spare = make_product(session, slug="spare")
    session.commit()
    assert version(engine) != before, "a product inserted"
    before = version(engine)
    session.delete(spare)
    session.commit()
    assert version(engine) != before, "a product deleted"
    for name, statement in WRITES.items():
        before = version(engine)
        run_sql(engine, statement)
        assert version(engine) != before, name


def test_writes_that_change_no_menu_leave_the_version_alone(shop):
    engine, _client, product_id = shop
    before = version(engine)
    with engine.begin() as connection:  # a variant of values the menus have already
        insert_variant(connection, product_id, "KNOWN-120", "120")
        connection.execute(sa.text("UPDATE product SET name = 'Wool coat'"))
        connection.execute(sa.text("UPDATE product SET active = true"))  # as it was
        connection.execute(sa.text("UPDATE variant SET on_hand = on_hand + 5"))
        connection.execute(sa.text("UPDATE price_tier SET unit_amount = unit_amount + 1"))
    with engine.connect() as connection:  # a write rolled back
        connection.execute(sa.text(WRITES["category insert"]))
        connection.rollback()

    assert version(engine) == before


def test_the_next_listing_page_shows_each_change_of_the_menus(shop, session):
    engine, client, product_id = shop
    page = client.get("/products").text
    assert menu_of(page) == ["coats", "jackets"]
    assert sizes_of(page) == ["120"]
    assert "Coats" in page

    run_sql(engine, WRITES["category insert"])
    assert menu_of(client.get("/products").text) == ["coats", "jackets", "hats"]
    run_sql(engine, WRITES["category rename"])
    assert "Winter coats" in client.get("/products?page=2").text  # (a page after the last)
    with engine.begin() as connection:
        insert_variant(connection, product_id, "COAT-150", "150")
    assert sizes_of(client.get("/products").text) == ["120", "150"]
    run_sql(engine, "DELETE FROM variant WHERE sku = 'COAT-150'")
    assert prune_facets(session) == 1
    session.commit()
    assert sizes_of(client.get("/products").text) == ["120"]
    run_sql(engine, WRITES["category delete"])
    page = client.get("/products?category=coats").text
    assert menu_of(page) == ["coats", "jackets"]
    assert "Winter coats" in page


def test_the_next_listing_page_shows_each_change_of_its_count(shop, session):
    engine, client, _product_id = shop
    coats = session.scalars(sa.select(Category).filter_by(slug="coats")).one()
    assert count_of(client.get("/products").text) == 1
    assert count_of(client.get("/products?category=coats").text) == 1

    make_product(session, slug="parka", category=coats)
    session.commit()
    assert count_of(client.get("/products").text) == 2
    assert count_of(client.get("/products?category=coats&sort=price_asc").text) == 2
    run_sql(engine, "UPDATE product SET active = false WHERE slug = 'coat'")
    assert count_of(client.get("/products?category=coats").text) == 1
    assert count_of(client.get("/products?sort=price_desc").text) == 1
    run_sql(engine, WRITES["a product moved"].replace("'coat'", "'parka'"))
    assert "No products" in client.get("/products?category=coats").text
    assert count_of(client.get("/products").text) == 1
    run_sql(engine, "UPDATE product SET active = true WHERE slug = 'coat'")
    assert count_of(client.get("/products?category=coats").text) == 1
    assert count_of(client.get("/products").text) == 2


def test_a_process_keeps_the_menus_and_counts_while_the_version_holds(shop, monkeypatch):
    from shop.catalog import listing

    engine, client, _product_id = shop
    client.get("/products")
    client.get("/products?category=coats&sort=price_asc")
    kept = listing._KEPT_LISTINGS[listing.database_key(engine.connect())]
    assert kept.version == version(engine)
    assert set(kept.totals.values()) == {1}
    read = []
    monkeypatch.setattr(listing, "menus_of", lambda *rows: read.append(rows) or kept.menus)

    with recording_queries(client.application) as statements:
        client.get("/products?sort=newest")
        client.get("/products?category=coats")
    assert read == []
    assert not [sql for sql in statements if "count(" in sql]
    run_sql(engine, WRITES["category insert"])
    with recording_queries(client.application) as statements:
        client.get("/products?sort=name")
    assert len(read) == 1
    assert [sql for sql in statements if "count(" in sql]


@pytest.mark.parametrize("copies", [2, 5])
def test_writers_of_new_sizes_at_once_all_commit_and_change_the_version(shop, copies):
    """Separate connections, each adding a variant of a size of its own and holding its
    transaction open a moment, as imports of new sizes would."""
    engine, client, product_id = shop
    before = version(engine)

    def write(number: int) -> None:
        with engine.connect() as connection:
            insert_variant(connection, product_id, f"NEW-{number}", str(200 + number))
            time.sleep(0.2)
            connection.commit()

    assert run_at_once(copies, write) == []
    assert version(engine) != before
    added = [str(200 + number) for number in range(copies)]
    assert sizes_of(client.get("/products").text) == ["120", *added]


def test_postgresql_writers_of_new_values_never_wait_on_the_version_before_commit(
    shop, database_url
):
    """The version's row is written at commit (a deferred trigger): a transaction that
    added a new size and then waits for another's row never holds it, so that other,
    adding a size of its own, does not wait for it in turn (a deadlock otherwise)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: no transaction waits for another's row")
    engine, client, product_id = shop
    rename = sa.text("UPDATE product SET name = :name WHERE id = :id")
    with engine.connect() as first, engine.connect() as second:
        second.execute(rename, {"name": "Held", "id": product_id})
        insert_variant(first, product_id, "FIRST-191", "191")
        waited = threading.Thread(
            target=lambda: first.execute(rename, {"name": "First", "id": product_id})
        )
        waited.start()  # first now waits for second's row
        time.sleep(0.3)
        second.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
        insert_variant(second, product_id, "SECOND-192", "192")
        second.commit()
        waited.join(timeout=30)
        first.commit()

    assert sizes_of(client.get("/products").text) == ["120", "191", "192"]


def test_postgresql_a_transaction_writes_the_version_once(shop, database_url):
    """However many rows it writes (an import of thousands of products): the first of its
    deferred triggers writes a new version, the others leave it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a trigger of SQLite writes the row for each row")
    engine, _client, _product_id = shop
    before = version(engine)
    add = sa.text("INSERT INTO category (slug, name, position) VALUES (:slug, 'Bulk', 10)")
    fire = sa.text("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred triggers, now
    with engine.connect() as connection:
        connection.execute(add, {"slug": "bulk-0"})
        connection.execute(fire)
        first = connection.execute(VERSION).scalar_one()
        for number in range(1, 5):
            connection.execute(add, {"slug": f"bulk-{number}"})
        connection.execute(sa.text("UPDATE product SET active = false"))
        connection.execute(fire)
        assert connection.execute(VERSION).scalar_one() == first
        connection.commit()

    assert first != before
    assert version(engine) == first
