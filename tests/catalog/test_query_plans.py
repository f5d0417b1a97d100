"""The catalogue pages cost the same whatever the catalogue's size: a bounded number of
statements, and no statement that reads the whole ``product``, ``variant`` or
``price_tier`` table.

Given a realistic catalogue (the benchmark's own generator: 2,000 products, 6 variants
each, tiers in every currency, a two-level category tree) and fresh planner statistics
(``ANALYZE``; on PostgreSQL ``VACUUM ANALYZE``, as autovacuum would), each page's SQL is
recorded and every ``SELECT`` is explained on the same database: SQLite's ``EXPLAIN QUERY
PLAN`` must not ``SCAN`` those tables other than through an index, PostgreSQL's ``EXPLAIN``
must not show a ``Seq Scan`` on them. Nor may ``product`` be read through an index that
only narrows it to ``active`` (nearly every product is active, so that is a full read in
disguise) unless the index is a partial one that leaves out what the listing leaves out.

Searches go through the trigram index (terms of three or more characters) or the gram
index (one or two: 衬衫), never ``product`` itself; on PostgreSQL a one-term search first
walks the name terms (``product_fts_terms``, never read whole either), then, only if they
give fewer than the cap, the same GIN indexes. So do searches whose terms have
synonyms (both indexes, united), searches by a category's name (in ``search_text``), the
typo corrections (the word vocabulary, by equality) and an empty result's suggestions.

On PostgreSQL the catalogue is one in use: every product has been saved once since it was
loaded (a price list, staff edits), so its table has the free space such a table has.
Straight from a first load, every page full, the planner (at 2,000 and at 10,000 products)
would rather read ``product`` in order until a search's cap of candidates is met than ask
the trigram index, in the searches that fall back from the name terms to it.

Every sort of ``/products`` is an index walk in the page's order: no statement sorts all
listed products (SQLite's ``USE TEMP B-TREE FOR ORDER BY``, PostgreSQL's ``Sort`` over a
scan of ``product``); sorting ties within one price, as ``price_desc`` does, is allowed.
"""

import re
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import database_copies

pytestmark = pytest.mark.slow  # a 2,000-product catalogue, copied for every test

BENCH = Path(__file__).resolve().parents[2] / "bench"
PRODUCTS = 2_000
FULL_SCAN = {
    # "SCAN product" but not "SCAN product USING [COVERING] INDEX …"
    "sqlite": re.compile(r"\bSCAN (product|variant|price_tier)\b(?! USING (COVERING )?INDEX)"),
    "postgresql": re.compile(r"\bSeq Scan on (product|variant|price_tier|product_fts_terms)\b"),
}
# An index on product constrained on ``active`` alone: the index's name.
ACTIVE_ONLY = {
    "sqlite": re.compile(
        r"\b(?:SEARCH|SCAN) product USING (?:COVERING )?INDEX (\w+) \(active=\?\)$", re.M
    ),
    "postgresql": re.compile(
        r"Index (?:Only )?Scan (?:Backward )?using (\w+) on product\b.*\n"
        r"\s*Index Cond: \(active = true\)\n"
    ),
}
# Sorting every row the scan below gives, rather than the ties within an index's order.
# (On PostgreSQL, not a card's first image: with no image in the test catalogue the
# planner sorts the empty table rather than read ``ix_product_image_order``; nor the
# 24 products of a page, chosen by an index walk in the ``page`` subquery, or by their
# ids in the ``skipped`` one.)
FULL_SORT = {
    "sqlite": re.compile(r"\bUSE TEMP B-TREE FOR ORDER BY\b"),
    # not "Incremental Sort"
    "postgresql": re.compile(
        r"^\s*(?:->\s*)?Sort\s+\(.*\n\s*Sort Key: (?!card_image|page\.|skipped\.)", re.M
    ),
}
PARTIAL_INDEXES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND instr(sql, ' WHERE ')",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE strpos(indexdef, ' WHERE ') > 0",
}


@pytest.fixture
def seed_bulk(monkeypatch):
    """The benchmark's generator (bench/seed_bulk.py)."""
    monkeypatch.syspath_prepend(str(BENCH))
    import seed_bulk

    yield seed_bulk
    sys.modules.pop("seed_bulk", None)


@pytest.fixture
def database_url(database_url, seed_bulk):
    """Each test's own copy of a database that holds the catalogue, with fresh planner
    statistics: made once per process (seeding is the slow part), copied in a fifth of a
    second, dropped after the test."""

    def fill(url: str) -> None:
        seed_bulk.insert_catalogue(url, seed_bulk.generate(PRODUCTS))
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if connection.dialect.name == "postgresql":
                # Every product saved once since the import, then VACUUM ANALYZE.
                connection.execute(sa.text("UPDATE product SET updated_at = updated_at"))
                connection.execute(sa.text("VACUUM ANALYZE"))
            else:
                connection.execute(sa.text("ANALYZE"))
        engine.dispose()

    made = database_copies.copy(database_copies.template(database_url, "plans", fill))
    yield made
    database_copies.drop(made)


@pytest.fixture
def catalogue(database_url, seed_bulk):
    """The catalogue's rows, as the database holds them (the generator is deterministic)."""
    return seed_bulk.generate(PRODUCTS)


@contextmanager
def recording_selects(app):
    """Every statement the app runs, with its parameters, as the driver got them."""
    engine = app.extensions["sa_engine"]
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def query_plan(app, statement: str, parameters) -> list[str]:
    engine = app.extensions["sa_engine"]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            # Each step indented by its depth, as the sqlite3 shell shows them.
            depths = {0: -1}
            lines = []
            for step, parent, _unused, detail in rows:
                depths[step] = depths.get(parent, -1) + 1
                lines.append("  " * depths[step] + detail)
            return lines
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return [row[0] for row in rows]


def full_scans(app, statements) -> list[str]:
    """The statements (with their plans) that read a whole table, openly or in disguise."""
    engine = app.extensions["sa_engine"]
    dialect = engine.dialect.name
    with engine.connect() as connection:
        partial = set(connection.exec_driver_sql(PARTIAL_INDEXES[dialect]).scalars())
    found = []
    for statement, parameters in statements:
        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = "\n".join(query_plan(app, statement, parameters)) + "\n"
        disguised = {match.group(1) for match in ACTIVE_ONLY[dialect].finditer(plan)} - partial
        if FULL_SCAN[dialect].search(plan) or disguised:
            found.append(f"{statement}\n{plan}")
    return found


def full_sorts(app, statements) -> list[str]:
    """The statements (with their plans) that sort every row they read. (On SQLite, not
    the sort of a page's 24 rows read back from the subquery that chose them, ``SCAN
    page``, or that chose their ids, ``SCAN skipped``, outside any other step.)"""
    dialect = app.extensions["sa_engine"].dialect.name
    found = []
    for statement, parameters in statements:
        if not re.match(r"\s*SELECT .*\sFROM product\b(?!_)", statement, re.S):
            continue
        plan = "\n".join(query_plan(app, statement, parameters))
        sorts = FULL_SORT[dialect]
        if dialect == "sqlite" and re.search(r"^SCAN (page|skipped)$", plan, re.M):
            sorts = re.compile(r"^ +USE TEMP B-TREE FOR ORDER BY\b", re.M)
        if sorts.search(plan):
            found.append(f"{statement}\n{plan}")
    return found


def grams_per_row(app, statements) -> list[str]:
    """PostgreSQL: the statements whose plans compute ``product_search_grams`` for the rows
    an index gave (a filter, milliseconds a row), not only through its GIN index."""
    if app.extensions["sa_engine"].dialect.name != "postgresql":
        return []
    found = []
    for statement, parameters in statements:
        plan = "\n".join(query_plan(app, statement, parameters))
        if re.search(r"Filter: .*product_search_grams", plan):
            found.append(f"{statement}\n{plan}")
    return found


def warm_menus(client) -> None:
    """One listing page, so this process's copy of the menus is current (``KeptListing``):
    the pages recorded after it read the listing's version only."""
    assert client.get("/products?page=99").status_code == 200


def warm_synonyms(client) -> None:
    """One search, so this process's copy of the synonyms is current (``kept_synonyms``):
    the searches recorded after it read none (nor the menus: ``warm_menus``)."""
    assert client.get("/products?q=warm").status_code == 200


def warm_category_tree(client, slug: str) -> None:
    """One category page, so this process keeps the category tree (``list_products``):
    the category pages recorded after it are made once (and read the listing's version
    only: ``warm_menus``)."""
    assert client.get(f"/products?category={slug}").status_code == 200


def cards(response) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', response.text)


def top_category_with_children(catalogue) -> str:
    parents = {row["parent_id"] for row in catalogue.categories if row["parent_id"]}
    return next(row["slug"] for row in catalogue.categories if row["id"] in parents)


def test_listing_page(app, client, catalogue):
    warm_menus(client)
    with recording_selects(app) as statements:
        response = client.get("/products?page=3")

    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') == 24
    # the page of products with its capped count (their prices and first images inside)
    # and the listing's version in a column (the menus: this process's copy)
    assert len(statements) == 1
    assert "listing_version" in statements[0][0]
    assert full_scans(app, statements) == []


@pytest.mark.parametrize("level", ["top", "child"])
def test_category_page(app, client, catalogue, level, monkeypatch):
    from shop.catalog import listing

    slug = top_category_with_children(catalogue)
    if level == "child":
        parent_id = next(row["id"] for row in catalogue.categories if row["slug"] == slug)
        slug = next(row["slug"] for row in catalogue.categories if row["parent_id"] == parent_id)
    monkeypatch.setattr(listing, "_KEPT_LISTINGS", {})  # a process's first listing page

    with recording_selects(app) as first:  # (another page: the page cache has this one)
        assert client.get(f"/products?category={slug}&page=2").status_code == 200
    with recording_selects(app) as statements:
        response = client.get(f"/products?category={slug}")

    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') == 24
    # the page of products with its count, prices and images, and the listing's version
    # in a column (the menu, which has the category and its children: this process's copy)
    assert len(statements) == 1
    assert full_scans(app, statements) == []
    # the first made for every category (no menus kept yet) with the listing's version, the
    # category menu and the filter menus, then again for the category's ids
    assert len(first) == 5
    assert full_scans(app, first) == []


def test_search_for_a_word_of_three_or_more_characters(app, client, catalogue):
    warm_synonyms(client)
    with recording_selects(app) as statements:
        response = client.get("/products?q=blazer")

    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') == 24
    # page of matches with their count (and the synonyms' and the listing's versions) and
    # the page's prices and images
    assert len(statements) == 1
    assert full_scans(app, statements) == []


def test_the_synonyms_are_read_once_while_they_do_not_change(app, client, catalogue):
    from shop.catalog import search_synonyms
    from tests.accounts.helpers import make_user

    warm_synonyms(client)
    with sa.orm.Session(app.extensions["sa_engine"]) as session:  # as staff elsewhere would
        staff = make_user(session, email="versions@factory.example", role="manager")
        search_synonyms.create_group(session, staff, ["围裙", "apron"])
        session.commit()
    with recording_selects(app) as statements:
        assert cards(client.get("/products?q=blazer"))
    with recording_selects(app) as again:  # another page: not one the page cache has
        assert cards(client.get("/products?q=blazer&page=2"))

    # the page (with its prices and images and the listing's version), the synonyms (their
    # version changed; blazer has none: no second search); then without the synonyms
    assert len(statements) == 2
    assert len(again) == 1
    assert full_scans(app, statements) == []


# PostgreSQL walks the name terms for one-term searches: words in most products' names
# (the walk alone fills the cap), in few (the walk, then the GIN indexes), two characters,
# a pair of four, a category's name (in no product's name).
NAMED = ("cotton", "blazer", "衬衫", "ブレザー", "防水", "teamwear", "poly-cotton")


def test_one_term_searches_walk_the_names_first(app, client, catalogue):
    warm_synonyms(client)
    warm_category_tree(client, "school-uniforms")
    searches = [(q, extra) for q in NAMED for extra in ("", "&sort=price_asc", "&colour=navy")]
    searches += [("cotton", "&category=school-uniforms"), ("衬衫", "&category=school-uniforms")]
    for q, extra in searches:
        with recording_selects(app) as statements:
            response = client.get(f"/products?q={q}{extra}")

        assert response.status_code == 200
        assert cards(response), (q, extra)
        # as any search, a category's too
        assert len(statements) == 1, (q, extra)
        assert full_scans(app, statements) == [], (q, extra)


def test_product_page(app, client, catalogue, seed_bulk):
    slug = seed_bulk.sample_slug(catalogue)
    with recording_selects(app) as statements:
        response = client.get(f"/products/{slug}")

    assert response.status_code == 200
    # the product with its category and the category's parent, and its variants, images
    # and tiers in the currency (a correlated subquery each, over its own index): one
    # statement, one round trip on PostgreSQL
    assert len(statements) == 1
    assert full_scans(app, statements) == []


def child_category(catalogue) -> str:
    parent_id = next(
        row["id"]
        for row in catalogue.categories
        if row["slug"] == top_category_with_children(catalogue)
    )
    return next(row["slug"] for row in catalogue.categories if row["parent_id"] == parent_id)


# Each test visits several pages: a copy of the catalogue per test is cheap, not free.
SEARCHES = (
    "衬衫",  # two characters: the gram index
    "裤",  # one character: the gram index
    "cotton 衬衫",  # a trigram term and a gram term, intersected
    "cotton 衬衫 shirt 纯棉 oxford 牛津纺",  # six words, as the benchmark's
    "xl 衬衫",  # two gram terms
)
SORTS = ("price_asc", "price_desc", "name", "newest")


def test_search_for_short_and_several_terms(app, client, catalogue):
    warm_synonyms(client)
    for q in SEARCHES:
        with recording_selects(app) as statements:
            response = client.get("/products", query_string={"q": q})

        assert response.status_code == 200
        assert cards(response), q
        # page of matches with their count, the page's prices and images and the menus'
        # version
        assert len(statements) == 1, q
        assert full_scans(app, statements) == [], q
        assert grams_per_row(app, statements) == [], q


SYNONYMS = (
    ("衬衫", "oxford", "polo"),  # a short word with long ones: both indexes, united
    ("blazer", "西装外套", "ブレザー"),  # all long: one walk of the trigram index
    ("裤", "衫"),  # all short: the gram index
)
WORD_SEARCHES = (
    "衬衫",
    "blazer",
    "裤 cotton",
    "衬衫 cotton",  # a mixed group and a long one
    "teamwear",  # a category's name (English)
    "团体运动服",  # the same category's Chinese name
    "チームウェア",  # and its Japanese one
)


def test_searches_with_synonyms_and_category_names(app, client, catalogue):
    from shop.catalog import search_synonyms
    from shop.catalog.search_models import SynonymGroup
    from tests.accounts.helpers import make_user

    engine = app.extensions["sa_engine"]
    with sa.orm.Session(engine) as session:
        session.execute(sa.delete(SynonymGroup))
        staff = make_user(session, email="plans@factory.example", role="manager")
        for words in SYNONYMS:
            search_synonyms.create_group(session, staff, list(words))
        session.commit()
    warm_synonyms(client)
    for q in WORD_SEARCHES:
        with recording_selects(app) as statements:
            response = client.get("/products", query_string={"q": q})

        assert response.status_code == 200
        assert cards(response), q
        assert len(statements) == 1, q
        assert full_scans(app, statements) == [], q


def test_typo_corrections_and_empty_results(app, client, catalogue):
    warm_synonyms(client)
    for q in ("blazr", "cottn", "zzzzqqqq", "制服店"):
        with recording_selects(app) as statements:
            response = client.get("/products", query_string={"q": q})

        assert response.status_code == 200
        # + the vocabulary lookup and the search again, or (nothing found) the synonyms
        # of the suggestions
        assert len(statements) <= 7, q
        assert full_scans(app, statements) == [], q
    assert cards(client.get("/products?q=blazr"))


def test_a_sorted_search_reads_only_its_candidates(app, client, catalogue):
    warm_synonyms(client)
    for sort in SORTS:
        with recording_selects(app) as statements:
            response = client.get(f"/products?q=衬衫&sort={sort}")

        assert response.status_code == 200
        assert cards(response), sort
        # the page with its count, prices and images (a price sort too) and the menus'
        # version
        assert len(statements) == 1, sort
        assert full_scans(app, statements) == [], sort


def test_every_sort_of_the_listing_is_an_index_walk(app, client, catalogue):
    warm_menus(client)
    for sort in SORTS:
        for lang in ("en", "zh_CN", "ja"):
            with recording_selects(app) as statements:
                response = client.get(f"/products?sort={sort}&page=2&lang={lang}")

            assert response.status_code == 200
            assert len(cards(response)) == 24, (sort, lang)
            # the page of products with its count, prices and images (a price sort too:
            # priced products fill its pages) and the listing's version
            assert len(statements) == 1, (sort, lang)
            assert full_scans(app, statements) == [], (sort, lang)
            assert full_sorts(app, statements) == [], (sort, lang)


def test_every_sort_of_a_category_page(app, client, catalogue):
    warm_category_tree(client, child_category(catalogue))
    for slug in (top_category_with_children(catalogue), child_category(catalogue)):
        for sort in SORTS:
            with recording_selects(app) as statements:
                response = client.get(f"/products?category={slug}&sort={sort}&lang=zh_CN")

            assert response.status_code == 200
            assert len(cards(response)) == 24, (slug, sort)
            # the page of products with its count, prices and images (a price sort too)
            # and the listing's version
            assert len(statements) == 1, (slug, sort)
            assert full_scans(app, statements) == [], (slug, sort)


# Filtered listings (issue 16): every filter, alone and together with a category, a sort
# and a search, is a lookup per product of the same index walks, never a read of a whole
# table; the filter menus skip through the variant indexes (one lookup per size).
FILTERED = (
    "size=M",
    "colour=navy",
    "price_min=20&price_max=60",
    "stock=in_stock",
    "stock=made_to_order",
    "moq=10",
    "moq=1",
    "gender=girls",
    "age=primary",
    "size=M&colour=navy&price_max=80&stock=in_stock&moq=50",
)


def filter_catalogue(database_url):
    """Gender and age on some products, as staff would set them."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE product SET gender = 'girls', age_group = 'primary' WHERE id % 3 = 0")
        )
        connection.execute(sa.text("UPDATE product SET gender = 'unisex' WHERE id % 3 = 1"))
    engine.dispose()


def test_every_filter_is_an_index_walk(app, client, catalogue, database_url):
    filter_catalogue(database_url)
    warm_menus(client)
    for filters in FILTERED:
        for sort in ("relevance", "price_asc", "newest"):
            with recording_selects(app) as statements:
                response = client.get(f"/products?{filters}&sort={sort}")

            assert response.status_code == 200, (filters, sort)
            assert 'data-testid="filters-ignored"' not in response.text
            assert cards(response), (filters, sort)
            # as unfiltered; a price sort whose page is not filled by priced products also
            # looks for unpriced ones (none pass a price filter)
            assert len(statements) <= (4 if sort.startswith("price") else 2), (filters, sort)
            assert full_scans(app, statements) == [], (filters, sort)


def test_filters_with_a_category_and_a_search(app, client, catalogue):
    slug = top_category_with_children(catalogue)
    for filters in FILTERED[:3]:
        for extra in (f"category={slug}", "q=衬衫", "q=cotton"):
            with recording_selects(app) as statements:
                response = client.get(f"/products?{filters}&{extra}")

            assert response.status_code == 200, (filters, extra)
            assert full_scans(app, statements) == [], (filters, extra)


def test_postgresql_keeps_one_plan_for_a_listing_page(app, session, catalogue):
    """A page's numbers are in its statement's text (``PreparedSelect(inline=…)``): with
    them as parameters, PostgreSQL plans the prepared statement anew on every execution
    (a plan for an unknown ``OFFSET`` walks a tenth of the catalogue), which costs more
    than the page does. Written in, the statement that psycopg prepares (at its sixth
    execution) keeps one plan after PostgreSQL's first five (``generic_plans``).
    Browsing, a price sort and a category page, each a statement of its own."""
    if app.extensions["sa_engine"].dialect.name != "postgresql":
        pytest.skip("SQLite plans a statement once, when it prepares it")
    from shop.catalog.listing import list_products, parse_listing_query

    pages = [{}, {"sort": "price_asc"}, {"sort": "newest", "category": child_category(catalogue)}]
    for args in pages:
        query = parse_listing_query({**args, "page": "2"}, 100)
        listings = [
            list_products(session, query, currency="CNY", locale="en", per_page=24, with_menus=True)
            for _ in range(14)
        ]
        assert len(listings[-1].cards) == 24
        assert len({tuple(card.slug for card in listing.cards) for listing in listings}) == 1

    prepared = session.connection().exec_driver_sql(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
    )
    paged = [row for row in prepared if "OFFSET" in row.statement]
    assert len(paged) == len(pages), [row.statement for row in paged]
    for row in paged:
        assert "LIMIT 24 OFFSET 24" in " ".join(row.statement.split())
        assert row.generic_plans >= 1, row


# A card's first image is one lookup for its path and three alt texts, and its prices one
# lookup of its tiers on PostgreSQL (their first and their least), one each on SQLite.
IMAGE_LOOKUP = {
    "sqlite": re.compile(r"\bSEARCH card_image USING (?:COVERING )?INDEX ix_product_image_order\b"),
    "postgresql": re.compile(r" on product_image card_image\b"),
}
TIER_LOOKUP = {
    "sqlite": re.compile(r"\bSEARCH card_tier USING\b"),
    "postgresql": re.compile(r" on price_tier card_tier\b"),
}


def test_a_card_looks_up_its_image_and_tiers_once(app, client, catalogue):
    dialect = app.extensions["sa_engine"].dialect.name
    slug = top_category_with_children(catalogue)
    warm_synonyms(client)
    warm_category_tree(client, slug)
    pages = [
        "/products?page=2",
        "/products?sort=price_asc&page=2",
        f"/products?category={slug}&sort=name",
        "/products?q=blazer",
        "/products?q=衬衫&sort=price_desc",
    ]
    for url in pages:
        with recording_selects(app) as statements:
            response = client.get(url)

        assert response.status_code == 200
        assert cards(response), url
        carded = [(sql, params) for sql, params in statements if "product_image" in sql]
        assert len(carded) == 1, url  # the page's statement
        plan = "\n".join(query_plan(app, *carded[0]))
        assert len(IMAGE_LOOKUP[dialect].findall(plan)) == 1, (url, plan)
        assert len(TIER_LOOKUP[dialect].findall(plan)) == 1, (url, plan)
        if dialect == "postgresql":  # the base price is the first tier's
            assert "product_sort_price card_price" not in plan, (url, plan)


# A read of ``product`` that takes more than the index gives: its table row (neither an
# index-only read nor one of a chosen row by its primary key).
TABLE_ROW_READ = {
    "sqlite": re.compile(
        r"\b(?:SEARCH|SCAN) product USING (?!COVERING INDEX|INTEGER PRIMARY KEY)", re.M
    ),
    "postgresql": re.compile(r"\bIndex Scan (?:Backward )?using (?!pk_product)\w+ on product\b"),
}


def test_a_page_and_its_count_read_the_listing_index_alone(app, client, catalogue):
    """A page from the third of the listing or of a category skips more products than it
    shows (page 10: 216), and its capped count walks up to 1,001 entries: both from
    ``ix_product_listing[_category]`` alone (``_browse_statement``'s ``skips``, migration
    0027), then the 24 products shown by their ids. Before, each skipped product's row
    was read from the table (and a category with children's products of other categories
    too), and on SQLite each counted one's."""
    dialect = app.extensions["sa_engine"].dialect.name
    slug = child_category(catalogue)
    warm_category_tree(client, slug)
    category = next(row["id"] for row in catalogue.categories if row["slug"] == slug)
    listed = [
        row
        for row in catalogue.products
        if row["active"] and row.get("school_id") is None and row["category_id"] == category
    ]
    page = min(10, len(listed) // 24)
    assert page >= 3, "the category lists too few products for a page that skips more"
    top = top_category_with_children(catalogue)
    urls = ("/products?page=10", f"/products?category={top}&page=3")
    for url in (*urls, f"/products?category={slug}&page={page}"):
        with recording_selects(app) as statements:
            response = client.get(url)

        assert len(cards(response)) == 24, url
        paged = [(sql, params) for sql, params in statements if "skipped" in sql]
        assert len(paged) == 1, url
        plan = "\n".join(query_plan(app, *paged[0]))
        assert TABLE_ROW_READ[dialect].findall(plan) == [], (url, plan)
