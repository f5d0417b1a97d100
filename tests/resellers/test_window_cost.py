"""What a window's page costs (issue 17): the window is looked up by its handle once per
request, as plain columns with what its page shows of it, its terms and the programme
(the visitor's mark and the page share it; a page served from the cache needs no more),
read together with the page's picks and collections (one round trip on PostgreSQL),
a page of picks is one prepared statement giving the rows a plain query gives, and the
grid of cards, kept per process, never shows an old pick, note or price; nor does the
page an old name, bio, avatar or link."""

import re

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.catalog.listing import CARD_COLUMNS, build_cards, with_card_extras
from shop.catalog.models import PriceTier, Product
from shop.resellers import picks, service
from shop.resellers.models import CollectionPick, Reseller, ResellerPick
from shop.resellers.picks import WINDOW_PAGE_SIZE
from tests.factories import make_product
from tests.helpers.pagecache import card_prices
from tests.helpers.queries import recording_queries
from tests.helpers.resellers import add_picks, make_reseller, set_window_price, use_money_model
from tests.helpers.round_trips import round_trip_counter, round_trips_of


def cards(page: str) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', page)


def notes(page: str) -> list[str]:
    return re.findall(r'data-testid="pick-note">([^<]*)<', page)


@pytest.fixture
def window(session):
    reseller = make_reseller(session)
    made = [make_product(session, slug=f"item-{n:02d}", images=1) for n in range(5)]
    session.commit()
    add_picks(session, reseller, made, notes=["First", "", "Third"])
    return reseller


def reads_of_the_window(statements: list[str]) -> list[str]:
    """The lookups of the window itself (its profile, status and terms)."""
    return [sql for sql in statements if "reseller.display_name" in sql]


def test_a_page_reads_the_window_by_handle_once_in_three_queries(uncached, client, window):
    client.get("/w/ann-picks")  # warm, and marked: no visit to count again
    with recording_queries(uncached) as statements:
        page = client.get("/w/ann-picks").text
    assert cards(page) == [f"item-{n:02d}" for n in range(5)]
    # The window by handle with its profile, its terms and the programme (the mark's,
    # shared with the page), then the collections and the page of picks of the window
    # at that handle.
    assert len(reads_of_the_window(statements)) == 1
    assert statements[0] == reads_of_the_window(statements)[0]
    assert all("reseller.handle =" in sql for sql in statements)
    assert len(statements) == 3


def test_a_page_waits_on_postgresql_once_the_window_picks_and_collections_together(
    uncached, client, session, window, database_url, monkeypatch
):
    session.commit()  # its connection back in the pool, which the counter opens anew
    counter = round_trip_counter(uncached, database_url, monkeypatch)

    assert round_trips_of(client, counter, "/w/ann-picks") == (1, 3)
    # A page past the end (5 picks, one page): then the count and the last page.
    assert round_trips_of(client, counter, "/w/ann-picks?page=2") == (3, 5)


def header(page: str) -> dict:
    """What the window's page shows of its profile: the title, the header, the preview."""
    avatar = re.search(r'<img class="window-avatar" src="([^"]+)"', page)
    return {
        "title": re.search(r"<title>([^<]*)</title>", page).group(1),
        "name": re.search(r'data-testid="window-name">([^<]*)<', page).group(1),
        "bio": re.findall(r'data-testid="window-bio">([^<]*)<', page),
        "links": re.findall(r'data-testid="window-social-link">([^<]*)<', page),
        "avatar": avatar.group(1) if avatar else None,
        "og": re.findall(r'<meta property="og:(title|description|image)" content="([^"]*)">', page),
    }


def test_a_changed_profile_shows_on_the_next_request(uncached, client, session, window, app):
    """The page reads the profile with the lookup by handle, never from a kept copy."""
    before = header(client.get("/w/ann-picks").text)
    assert (before["name"], before["bio"], before["links"]) == (
        "Ann&#39;s picks",
        ["School uniforms I like."],
        ["https://weibo.com/ann"],
    )
    assert before["avatar"] is None and before["title"].startswith("Ann&#39;s picks")
    owner = session.get(User, window.user_id)
    values = {
        "display_name": "Ann & co",
        "bio": "",
        "social_links": ["https://x.com/a", "https://t.me/a"],
    }
    service.update_profile(session, owner, window, values)
    window.avatar_path = "resellers/abc.png"  # as ``service.set_avatar`` sets it
    session.commit()
    after = header(client.get("/w/ann-picks").text)
    assert (after["name"], after["bio"], after["links"]) == (
        "Ann &amp; co",
        [],
        ["https://x.com/a", "https://t.me/a"],
    )
    assert after["avatar"] == "/media/resellers/abc-thumb.png"
    assert after["title"].startswith("Ann &amp; co")
    assert ("title", "Ann &amp; co") in after["og"]
    assert ("image", f"{app.config['SHOP_BASE_URL']}/media/resellers/abc.png") in after["og"]


def test_a_new_visitor_costs_one_query_more_the_visit(uncached, client, window):
    client.get("/w/ann-picks")
    newcomer = uncached.test_client()
    with recording_queries(uncached) as statements:
        assert newcomer.get("/w/ann-picks").status_code == 200
    # The page's three, then the visit (on PostgreSQL after a SET of its commit's wait;
    # with Redis, the visit is counted there: tests/resellers/test_visit_counts.py).
    counted = [sql for sql in statements if "reseller_visit" in sql]
    page = [sql for sql in statements if sql not in counted and "synchronous_commit" not in sql]
    assert len(counted) == 1 and "reseller_visit" in statements[-1]
    assert len(page) == 3


def test_an_unknown_window_is_read_once_and_nothing_is_counted(uncached, client, window):
    """The lookup and the reads sent with it (one round trip on PostgreSQL), and no count
    of picks that no window at that handle has."""
    client.get("/w/nobody-here")
    with recording_queries(uncached) as statements:
        assert client.get("/w/nobody-here").status_code == 404
    assert len(reads_of_the_window(statements)) == 1
    assert len(statements) == 3
    assert not [sql for sql in statements if sql.startswith("SELECT count(*)")]


def test_an_unknown_window_waits_on_postgresql_once(
    uncached, client, session, window, database_url, monkeypatch
):
    session.commit()
    counter = round_trip_counter(uncached, database_url, monkeypatch)
    for _ in range(2):
        client.get("/w/nobody-here")
    counter.take()
    assert client.get("/w/nobody-here").status_code == 404
    assert counter.take()["round_trips"] == 1


def old_window_page(session, reseller_id: int, page: int, *, collection_id=None):
    """The page as the window read it before its statement was prepared: a count, then
    the page's rows, then their prices and pictures."""
    query = sa.select(*CARD_COLUMNS, ResellerPick.note)
    if collection_id is None:
        query = query.join(ResellerPick, ResellerPick.product_id == Product.id).where(
            ResellerPick.reseller_id == reseller_id
        )
        order = (ResellerPick.position, ResellerPick.id)
    else:
        query = (
            query.join(CollectionPick, CollectionPick.product_id == Product.id)
            .join(
                ResellerPick,
                (ResellerPick.product_id == Product.id) & (ResellerPick.reseller_id == reseller_id),
            )
            .where(CollectionPick.collection_id == collection_id)
        )
        order = (CollectionPick.position, CollectionPick.id)
    query = query.where(Product.active.is_(True), Product.school_id.is_(None))
    connection = session.connection()
    total = len(connection.execute(query).all())
    pages = max(-(-total // WINDOW_PAGE_SIZE), 1)
    number = min(max(page, 1), pages)
    rows = connection.execute(
        query.order_by(*order).offset((number - 1) * WINDOW_PAGE_SIZE).limit(WINDOW_PAGE_SIZE)
    ).all()
    shown = build_cards(with_card_extras(connection, rows, {"currency": "CNY"}), "CNY", "en")
    return number, total, shown, {row.slug: row.note for row in rows if row.note}


@pytest.fixture
def big_window(session):
    """110 picks, every fifth off sale, notes on some, a few moved, a collection of 60."""
    reseller = make_reseller(session)
    made = [
        make_product(session, slug=f"pick-{n:03d}", images=n % 3, tiers=((1, 1000 + n), (10, 900)))
        for n in range(110)
    ]
    session.commit()
    add_picks(
        session, reseller, made, notes=[f"note {n}" if n % 4 == 0 else "" for n in range(110)]
    )
    for product in made[::5]:
        product.active = False
    own = session.scalars(
        sa.select(ResellerPick).where(ResellerPick.reseller_id == reseller.id)
    ).all()
    for pick in own[7:12]:
        picks.move_pick(session, reseller, pick.id, "up")
    collection = picks.create_collection(session, reseller, "Half", "half")
    for pick in own[::-2][:60]:
        picks.add_to_collection(session, reseller, collection.id, pick.id)
    session.commit()
    return reseller.id, collection.id


@pytest.mark.parametrize("page", [1, 2, 3, 4, 99, 100_000])
def test_the_prepared_page_gives_the_rows_of_a_plain_query(session, big_window, page):
    reseller_id, collection_id = big_window
    reseller = session.get(Reseller, reseller_id)
    number, total, expected, expected_notes = old_window_page(session, reseller_id, page)
    shown = picks.window_picks(session, reseller, page=page, currency="CNY", locale="en")
    assert (shown.page.number, shown.page.total) == (number, total) == (number, 88)
    assert shown.cards == expected
    assert shown.notes == expected_notes
    collection = picks.get_collection(session, reseller, "half")
    number, total, expected, expected_notes = old_window_page(
        session, reseller_id, page, collection_id=collection_id
    )
    shown = picks.collection_picks(
        session, reseller, collection, page=page, currency="CNY", locale="en"
    )
    assert (shown.page.number, shown.page.total) == (number, total)
    assert shown.cards == expected and shown.notes == expected_notes


def test_an_empty_window_has_one_empty_page(session):
    reseller = make_reseller(session)
    shown = picks.window_picks(session, reseller, page=3, currency="CNY", locale="en")
    assert (shown.page.number, shown.page.total, shown.cards) == (1, 0, [])


def pick_id(session, reseller, slug: str) -> int:
    _, own = picks.list_own_picks(session, reseller, 1)
    return next(pick.id for pick in own if pick.slug == slug)


def test_a_note_pick_order_and_price_change_show_at_once(uncached, client, session, window):
    """The grid is kept per process by what it shows, not by a version of it."""
    page = client.get("/w/ann-picks").text
    assert notes(page) == ["First", "Third"]
    picks.set_pick_note(session, window, pick_id(session, window, "item-01"), "Now noted")
    session.commit()
    assert notes(client.get("/w/ann-picks").text) == ["First", "Now noted", "Third"]
    picks.move_pick(session, window, pick_id(session, window, "item-04"), "up")
    picks.remove_pick(session, window, pick_id(session, window, "item-00"))
    session.commit()
    assert cards(client.get("/w/ann-picks").text) == ["item-01", "item-02", "item-04", "item-03"]
    tier = session.scalar(
        sa.select(PriceTier)
        .join(Product)
        .where(Product.slug == "item-02", PriceTier.currency == "CNY")
    )
    tier.unit_amount = 4321
    session.commit()
    assert card_prices(client.get("/w/ann-picks").text)["item-02"] == 4321


def test_the_windows_own_prices_show_at_once(uncached, session, window):
    use_money_model(session, window, "price")
    product = session.scalar(sa.select(Product).where(Product.slug == "item-01"))
    set_window_price(session, window, product, "CNY", 9900)
    buyer = uncached.test_client()
    for _ in range(2):  # the second time from the kept grids
        assert card_prices(buyer.get("/w/ann-picks").text)["item-01"] == 9900
    set_window_price(session, window, product, "CNY", 9500)
    assert card_prices(buyer.get("/w/ann-picks").text)["item-01"] == 9500
    use_money_model(session, window, "referral")
    assert card_prices(buyer.get("/w/ann-picks").text)["item-01"] == 8900


def page_plan(connection, statements: picks.WindowStatements, ids: dict) -> str:
    params = {**ids, "currency": "CNY", "offset": 0, "limit": WINDOW_PAGE_SIZE}
    sql, values = statements.page.driver_sql(connection.dialect, params)
    if connection.dialect.name == "sqlite":
        return "\n".join(
            row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", values)
        )
    return "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}", values))


@pytest.mark.parametrize("kind", ["window", "collection"])
def test_a_page_walks_its_picks_in_order_and_counts_them(session, big_window, kind):
    """SQLite: the count is a subquery of its own: with ``count(*) OVER ()`` SQLite
    counted and sorted every pick before paging them; now it walks the picks' order index
    and sorts only the page's rows back in order once their prices and pictures are read.
    The count walks the same index (left to itself, SQLite counted a collection's picks
    by going through every active product). PostgreSQL: the picks are read once, counted
    by a window ``count(*)`` over those the page is chosen from, not again apart."""
    reseller_id, collection_id = big_window
    dialect = session.connection().dialect.name
    if kind == "window":
        statements, ids = picks._window_picks(dialect), {"reseller_id": reseller_id}
        walk = "reseller_pick USING INDEX ix_reseller_pick_order"
        picks_table = "reseller_pick"
    else:
        statements = picks._collection_picks(dialect)
        ids = {"reseller_id": reseller_id, "collection_id": collection_id}
        walk = "reseller_collection_pick USING INDEX ix_collection_pick_order"
        picks_table = "reseller_collection_pick"
    plan = page_plan(session.connection(), statements, ids)
    if dialect == "sqlite":
        assert plan.count("USE TEMP B-TREE FOR ORDER BY") == 1, plan
        assert plan.count(f"SEARCH {walk}") == 2, plan  # the page's and the count's
        assert "SEARCH product USING INDEX" not in plan, plan
    else:
        assert len(re.findall(rf" on {picks_table}\b", plan)) == 1, plan
        assert "Seq Scan on product " not in plan, plan
