"""A search past its cap stops early (on PostgreSQL through the name terms of migration
0021, on SQLite through its FTS5 tables) and still finds only what it should; the terms
follow every write; the synonyms a process keeps are never stale."""

import pytest
import sqlalchemy as sa

from shop.catalog import management, search_synonyms
from shop.catalog.listing import ListingQuery, list_products
from shop.catalog.search import walk_check_term, walk_term
from shop.catalog.search_models import SEARCH_TERMS_TABLE, SynonymGroup
from shop.db import make_engine
from tests.accounts.helpers import make_user
from tests.factories import make_category, make_product
from tests.school_factories import make_school


def search(session, q: str, cap: int) -> tuple[list[str], int, bool]:
    result = list_products(
        session, ListingQuery(q=q), currency="CNY", locale="en", per_page=100, count_cap=cap
    )
    return [card.slug for card in result.cards], result.page.total, result.page.more


def terms_of(session, product_id: int) -> list[str] | None:
    """PostgreSQL only: the product's rows in the name terms."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    statement = sa.text(f"SELECT term FROM {SEARCH_TERMS_TABLE} WHERE product_id = :id")
    return sorted(session.scalars(statement, {"id": product_id}))


def test_the_term_a_query_term_walks():
    assert walk_term("cotton") == "cotton"
    assert walk_term("xl") == "xl"
    assert walk_term("3xl") == "3xl"
    assert walk_term("衬衫") == "衬衫"
    assert walk_term("ブレザー") == "ブレ"
    assert walk_term("裤") is None  # one character
    assert walk_term("polo衫") is None  # a mix
    assert walk_term("poly-cotton") is None
    assert walk_term("100%") is None
    assert walk_term("x" * 61) is None


def test_a_longer_word_is_checked_under_its_last_two_characters():
    assert walk_check_term("ブレザー") == "ザー"
    assert walk_check_term("运动服") == "动服"
    assert walk_check_term("衬衫") is None  # walked whole
    assert walk_check_term("cotton") is None
    assert walk_check_term("裤") is None


def test_names_are_cut_into_the_terms_a_search_walks(session):
    """PostgreSQL's trigger cuts names as ``walk_term`` looks them up: folded words, and
    the neighbouring pairs of other characters."""
    product = make_product(
        session, name="Summer Poly-Cotton ＰＯＬＯ", name_zh="夏季纯棉polo衫", name_ja="ブレザー"
    )
    session.commit()
    assert terms_of(session, product.id) in (
        ["cotton", "polo", "poly", "summer", "ザー", "ブレ", "レザ", "夏季", "季纯", "纯棉"],
        None,
    )


def test_a_search_past_the_cap_finds_the_newest_products_named_so(session):
    """Past the cap a search stops early: on PostgreSQL the newest products whose names
    hold the word, each checked (active, not a school's own, the text holds the term)."""
    category = make_category(session)
    for number in range(8):
        make_product(session, slug=f"blazer-{number}", name="Navy blazer", category=category)
    make_product(session, slug="old-blazer", name="Old blazer", category=category, active=False)
    school = make_school(session)
    make_product(session, slug="school-blazer", name="Crest blazer", school_id=school.id)
    make_product(session, slug="described", name="Jacket", description="like a blazer")
    session.commit()

    slugs, total, more = search(session, "blazer", cap=5)

    assert (total, more) == (5, True)
    assert len(slugs) == 5
    assert set(slugs) <= {f"blazer-{number}" for number in range(8)} | {"described"}
    # Under the cap: every match, the description's too, none that is not for sale here.
    slugs, total, more = search(session, "blazer", cap=50)
    assert (total, more) == (9, False)
    assert sorted(slugs) == sorted([*(f"blazer-{number}" for number in range(8)), "described"])


def walk_reads(app, q: str, cap: int) -> tuple[list[str], int]:
    """PostgreSQL: a search's products, and how many products its walk of the name terms
    read (the loops of its lookups of ``product``, from the plan as it ran)."""
    engine = app.extensions["sa_engine"]
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with engine.connect() as connection, sa.orm.Session(connection) as reader:
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            slugs = search(reader, q, cap)[0]
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        statement, parameters = next(s for s in statements if "walked" in s[0])
        explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"
        plan = connection.exec_driver_sql(explain, parameters).scalar()[0]["Plan"]

    def loops(node, in_walk: bool) -> int:
        in_walk = in_walk or node.get("Subplan Name") == "CTE walked"
        own = node["Actual Loops"] if in_walk and node.get("Relation Name") == "product" else 0
        return own + sum(loops(child, in_walk) for child in node.get("Plans", ()))

    return slugs, loops(plan, False)


def test_a_term_named_by_fewer_products_than_the_cap_is_not_walked(app, session):
    """The walk cannot fill the cap when fewer names than the cap hold the term: it is
    skipped (its products never read) for every match, as it would have ended."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL walks the name terms")
    for number in range(3):
        make_product(session, slug=f"named-{number}", name="Navy blazer")
    for number in range(6):
        make_product(session, slug=f"described-{number}", name="Jacket", description="a blazer")
    session.commit()

    slugs, read = walk_reads(app, "blazer", cap=5)  # 3 names, under the cap's 6 candidates
    assert read == 0
    assert len(slugs) == 5
    # 3 names fill the cap's 3: from the terms alone (``test_a_plain_search_walks_…``)
    slugs, read = walk_reads(app, "blazer", cap=2)
    assert read == 0
    assert sorted(slugs) == ["named-1", "named-2"]


def test_a_plain_search_walks_the_terms_alone_and_they_follow_every_write(app, session):
    """The name terms carry whether their product is listed, its featured flag and its
    age (migration 0029): a search with no category or filter ranks its walk without
    reading a product, and a product taken off sale, given to a school or featured is
    walked so at once."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL walks the name terms")
    blazers = [
        make_product(session, slug=f"blazer-{number}", name="Navy blazer", age_days=10 - number)
        for number in range(6)
    ]
    session.commit()

    slugs, read = walk_reads(app, "blazer", cap=3)  # the newest three, newest first
    assert (slugs, read) == (["blazer-5", "blazer-4", "blazer-3"], 0)

    blazers[5].active = False
    blazers[4].school_id = make_school(session).id
    blazers[1].featured = True
    session.commit()
    slugs, read = walk_reads(app, "blazer", cap=3)  # 3, 2, 1 listed: the featured first
    assert (slugs, read) == (["blazer-1", "blazer-3", "blazer-2"], 0)
    # With a category the walk reads each product, and finds the same.
    category = make_category(session)
    for blazer in blazers:
        blazer.category_id = category.id
    session.commit()
    result = list_products(
        session,
        ListingQuery(q="blazer", category=category.slug),
        currency="CNY",
        locale="en",
        per_page=100,
        count_cap=3,
    )
    assert [card.slug for card in result.cards] == ["blazer-1", "blazer-3", "blazer-2"]


def test_a_longer_word_leaves_out_names_that_only_share_its_first_two_characters(app, session):
    """ブレザー is walked under ブレ, which ブレスレット (bracelets) shares: checked under
    ザー in the terms' index too, the bracelets do not count towards the cap and are
    never read, so the walk that the three blazers could not fill is skipped; a walk that
    they fill reads blazers only."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL walks the name terms")
    for number in range(8):
        make_product(session, slug=f"bracelet-{number}", name="Bracelet", name_ja="ブレスレット")
    for number in range(3):
        make_product(session, slug=f"blazer-{number}", name="Blazer", name_ja="ブレザー")
    session.commit()

    slugs, read = walk_reads(app, "ブレザー", cap=5)  # 11 under ブレ, 3 under ザー too
    assert read == 0
    assert sorted(slugs) == ["blazer-0", "blazer-1", "blazer-2"]
    slugs, read = walk_reads(app, "ブレザー", cap=2)  # the blazers fill the cap's 3
    assert read == 3
    assert sorted(slugs) == ["blazer-1", "blazer-2"]


def test_the_terms_follow_a_renamed_or_deleted_product(session):
    staff = make_user(session, email="terms@factory.example", role="manager")
    category = make_category(session)
    products = [
        make_product(session, slug=f"p-{number}", name="Fleece jacket", name_zh="抓绒衣")
        for number in range(4)
    ]
    session.commit()
    assert len(search(session, "fleece", cap=2)[0]) == 2

    renamed = products[0]
    values = {"name": "Softshell jacket", "slug": renamed.slug, "category_id": category.id}
    management.update_product(session, staff, renamed, {**values, "name_zh": "软壳衣"})
    session.commit()

    for cap in (2, 50):  # the walk past the cap, and every match under it
        assert "p-0" not in search(session, "fleece", cap)[0]
        assert "p-0" not in search(session, "抓绒", cap)[0]
    assert search(session, "softshell", cap=50)[0] == ["p-0"]
    assert search(session, "软壳", cap=50)[0] == ["p-0"]
    assert terms_of(session, renamed.id) in (["jacket", "softshell", "壳衣", "软壳"], None)

    gone = products[1].id
    session.delete(products[1])
    products[2].active = False
    session.commit()
    assert search(session, "fleece", cap=1)[0] == ["p-3"]
    assert search(session, "fleece", cap=50)[0] == ["p-3"]
    assert terms_of(session, gone) in ([], None)


def test_a_search_runs_no_statement_for_synonyms_while_they_do_not_change(app, session):
    make_product(session, slug="polo", name="Polo shirt")
    session.commit()
    engine = app.extensions["sa_engine"]
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with engine.connect() as connection, sa.orm.Session(connection) as reader:
        search(reader, "polo", cap=50)  # reads them once
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            assert search(reader, "polo", cap=50)[0] == ["polo"]
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)

    assert not [statement for statement in statements if "search_synonym AS" in statement]
    # the page with its count (and the synonyms' version) and its prices and pictures
    assert len(statements) == 1


def test_synonyms_changed_elsewhere_are_seen_by_the_next_search(app, session, database_url):
    """Another process (here: another engine) edits the groups, through the shop or in
    plain SQL: this process's copy is refreshed by the next search, never used stale."""
    session.execute(sa.delete(SynonymGroup))
    staff = make_user(session, email="synonyms@factory.example", role="manager")
    make_product(session, slug="coat", name="Lab coat")
    session.commit()
    assert search(session, "白大褂", cap=50)[0] == []

    group = search_synonyms.create_group(session, staff, ["白大褂", "lab"])
    session.commit()
    assert search(session, "白大褂", cap=50)[0] == ["coat"]

    other = make_engine(database_url)
    with other.begin() as connection:
        connection.execute(sa.text("DELETE FROM search_synonym WHERE word = 'lab'"))
    assert search(session, "白大褂", cap=50)[0] == []

    with other.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO search_synonym (word, group_id, position) VALUES ('coat', :g, 1)"),
            {"g": group.id},
        )
    other.dispose()
    assert search(session, "白大褂", cap=50)[0] == ["coat"]

    session.expire_all()  # the words changed under this session
    search_synonyms.delete_group(session, staff, session.get(SynonymGroup, group.id))
    session.commit()
    assert search(session, "白大褂", cap=50)[0] == []


def test_a_csv_import_that_renames_products_changes_what_finds_them(session):
    from shop.catalog import csv_io
    from tests.helpers.csv_files import rows_of, to_csv

    for number in range(3):
        make_product(session, slug=f"f-{number}", name="Fleece jacket", name_zh="抓绒衣")
    session.commit()
    rows = rows_of(csv_io.export_csv(session))
    renamed = [
        dict(row, name="Parka", name_zh="派克大衣") for row in rows if row["product_slug"] == "f-0"
    ]

    plan = csv_io.plan_import(session, to_csv(renamed))
    assert plan.problems == []
    csv_io.apply_import(session, plan, actor_user_id=None)
    session.commit()

    for cap in (1, 50):  # the walk past the cap, and every match under it
        assert "f-0" not in search(session, "fleece", cap)[0]
        assert "f-0" not in search(session, "抓绒", cap)[0]
        assert search(session, "parka", cap)[0] == ["f-0"]
        assert search(session, "派克", cap)[0] == ["f-0"]
