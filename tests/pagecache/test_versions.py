"""Versions: shared by instances through Redis, bumped only by what commits, and a page
cached under one build never served by another."""

import shutil
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop import PROJECT_ROOT
from shop.catalog.models import PriceTier, Product
from shop.i18n_catalogs import compile_catalogs
from shop.pagecache import build_id
from shop.pagecache.changes import CATALOGUE, school_stock_name, stock_name
from shop.stock import allocation
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.pagecache import (
    RAW,
    behind_the_cache,
    card_prices,
    mark_product,
    raw_marked,
    tier_amounts,
)
from tests.school_factories import add_item, make_school

PAGES = ("/products", "/products/polo", "/")


def make_polo(session):
    """A polo, 5 in stock, on the Greenfield school's list."""
    product = make_product(session, slug="polo", name="Polo", tiers=((1, 8900),), on_hand=5)
    add_item(session, make_school(session, slug="greenfield"), product)
    session.commit()
    return product


@pytest.fixture
def polo(session):
    return make_polo(session)


def versions(app, *names: str) -> list[str]:
    return app.extensions["page_store"].read_versions(list(names))


NAMES = (CATALOGUE, stock_name("polo"), school_stock_name("greenfield"))


# --- two instances -------------------------------------------------------------------------


def test_a_change_on_one_instance_shows_at_once_on_another(cache_app, session_factory):
    """Two instances (apps) on one database and one Redis namespace: a page cached by B,
    a price changed through A's admin, B's next request shows the new price."""
    namespace = f"shared-{uuid.uuid4().hex}"
    instance_a = cache_app("redis", PAGE_CACHE_NAMESPACE=namespace)
    instance_b = cache_app("redis", PAGE_CACHE_NAMESPACE=namespace)
    with session_factory(instance_a) as session:
        polo = make_polo(session)
        make_user(session, email="mia@example.com", role="manager", name="Mia")
    visitor_b = instance_b.test_client()
    behind_the_cache(instance_b, visitor_b, PAGES, mark_product("polo"))
    staff_a = instance_a.test_client()
    assert login(staff_a, email="mia@example.com").status_code == 302

    staff_a.post(f"/admin/products/{polo.id}/tiers", data={"CNY-min": "1", "CNY-price": "95"})
    staff_a.post(
        f"/admin/stock/{polo.variants[0].id}/adjust", data={"reason": "received", "quantity": "2"}
    )

    assert card_prices(visitor_b.get("/products").text) == {"polo": 9500}
    page = visitor_b.get("/products/polo").text
    assert tier_amounts(page) == [9500] and "7 in stock" in page
    assert versions(instance_a, *NAMES) == versions(instance_b, *NAMES)


# --- builds --------------------------------------------------------------------------------


def test_the_build_id_changes_when_a_compiled_translation_changes(tmp_path):
    """A copy of the translations (and a template and a static file): the same files give
    the same build; a changed ``.po`` compiled to a new ``.mo`` gives another."""
    root = tmp_path / "root"
    shutil.copytree(PROJECT_ROOT / "shop" / "translations", root / "shop" / "translations")
    (root / "templates").mkdir()
    (root / "templates" / "base.html").write_text("<html></html>")
    (root / "static").mkdir()
    (root / "static" / "shop.css").write_text("body {}")
    for mo in (root / "shop" / "translations").rglob("*.mo"):
        mo.unlink()
    compile_catalogs(root / "shop" / "translations")
    before = build_id(root)
    assert build_id(root) == before
    (root / "shop" / "__pycache__").mkdir()
    (root / "shop" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert build_id(root) == before  # bytecode is not the build

    po = next((root / "shop" / "translations").rglob("zh*/LC_MESSAGES/messages.po"))
    text = po.read_text(encoding="utf-8")
    assert 'msgstr "' in text
    po.write_text(
        text.replace('msgid "Add to cart"\nmsgstr "', 'msgid "Add to cart"\nmsgstr "新', 1)
    )
    mo = po.with_suffix(".mo")
    old_mo = mo.read_bytes()
    mo.unlink()  # compile_catalogs skips a .mo newer than its .po
    compile_catalogs(root / "shop" / "translations")

    assert mo.read_bytes() != old_mo
    assert build_id(root) != before


def test_a_page_cached_under_another_build_is_never_served(app, visitor, polo, monkeypatch):
    """After a deploy (a new build id), every page is rendered again."""
    behind_the_cache(app, visitor, PAGES, mark_product("polo"))

    monkeypatch.setitem(app.extensions, "page_build", "a-new-build")

    with raw_marked(app, mark_product("polo")):
        for path in PAGES:
            assert RAW in visitor.get(path).text, path


def test_with_the_cache_off_every_page_is_rendered(make_app, session_factory):
    app = make_app(PAGE_CACHE=False)
    with session_factory(app) as session:
        make_polo(session)
    visitor = app.test_client()
    assert app.extensions["page_store"] is None
    for path in PAGES:
        visitor.get(path)
    with raw_marked(app, mark_product("polo")):
        for path in PAGES:
            assert RAW in visitor.get(path).text, path


# --- what bumps, and what does not ---------------------------------------------------------


def test_a_rolled_back_write_bumps_no_version(app, polo):
    """ORM changes, a Core statement and a stock movement, all rolled back: no version
    moves (so cached pages stay). The same committed: they move."""
    before = versions(app, *NAMES)
    with Session(app.extensions["sa_engine"]) as db:
        db.get(Product, polo.id).name = "Rolled back"
        db.flush()
        db.execute(sa.update(PriceTier).values(unit_amount=1))
        allocation.adjust(db, polo.variants[0].id, 3, reason="received")
        db.rollback()
    assert versions(app, *NAMES) == before

    with Session(app.extensions["sa_engine"]) as db:
        db.execute(sa.update(PriceTier).values(unit_amount=1))
        db.commit()
    catalogue_only = versions(app, *NAMES)
    assert catalogue_only[0] != before[0] and catalogue_only[1:] == before[1:]

    with Session(app.extensions["sa_engine"]) as db:
        allocation.adjust(db, polo.variants[0].id, 3, reason="received")
        db.commit()
    after = versions(app, *NAMES)
    assert after[0] == catalogue_only[0]
    assert after[1] != before[1] and after[2] != before[2]


def test_a_rolled_back_admin_form_leaves_the_pages_cached(app, client, visitor, sign_in, polo):
    """A refused tier table (400: the view rolls back) changes nothing and evicts nothing."""
    behind_the_cache(app, visitor, PAGES, mark_product("polo"))
    before = versions(app, *NAMES)
    sign_in("manager")

    refused = client.post(
        f"/admin/products/{polo.id}/tiers", data={"CNY-min": ["1", "50"], "CNY-price": ["80", "90"]}
    )

    assert refused.status_code == 400
    assert versions(app, *NAMES) == before
    with raw_marked(app, mark_product("polo")):
        for path in PAGES:
            assert RAW not in visitor.get(path).text, path


def test_a_rolled_back_savepoint_does_not_lose_the_transactions_other_changes(app, polo):
    """As ``orders.lifecycle._hold_again`` does: a savepoint rolled back inside a
    transaction that then commits an earlier price change and stock movement."""
    before = versions(app, *NAMES)
    with Session(app.extensions["sa_engine"]) as db:
        db.get(Product, polo.id).name = "Committed"
        allocation.adjust(db, polo.variants[0].id, 1, reason="received")
        savepoint = db.begin_nested()
        db.get(Product, polo.id).name = "Undone"
        db.flush()
        savepoint.rollback()
        db.commit()
    after = versions(app, *NAMES)
    assert [new != old for new, old in zip(after, before, strict=True)] == [True, True, True]
