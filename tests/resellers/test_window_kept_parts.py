"""A window's page keeps its header (profile, collections' menu, the prices it sells at)
and its link preview per process, as it keeps its grid: by all they show, so a renamed,
added or removed collection, a changed money model or a new first picture shows on the
next request. And the visitor's mark is signed without zlib's attempt to shorten it,
into the very cookie itsdangerous' own serializer makes."""

import re
import zlib

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from shop.catalog.models import Product, ProductImage
from shop.resellers import attribution, picks
from shop.resellers.attribution import SALT, Mark, read_mark, sign_mark
from shop.templating import GRIDS
from tests.factories import make_product
from tests.helpers.pagecache import without_csrf
from tests.helpers.resellers import add_picks, make_reseller, use_money_model

SECRET = "s" * 64


@pytest.fixture
def window(session):
    reseller = make_reseller(session)
    made = [make_product(session, slug=f"item-{n:02d}", images=1) for n in range(3)]
    session.commit()
    add_picks(session, reseller, made)
    return reseller


def menu(page: str) -> list[str]:
    return re.findall(r'data-testid="window-collection"[^>]*>([^<]*)<', page)


def heading(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]*)</h2>", page)


def og(page: str, name: str) -> str:
    return re.search(rf'<meta property="og:{name}" content="([^"]*)">', page).group(1)


def own_prices(page: str) -> bool:
    return 'data-testid="window-own-prices"' in page


def test_the_collections_menu_and_heading_show_changes_at_once(uncached, client, session, window):
    made = picks.create_collection(session, window, "Summer", "summer")
    session.commit()
    _, own = picks.list_own_picks(session, window, 1)
    picks.add_to_collection(session, window, made.id, own[0].id)
    session.commit()
    page = client.get("/w/ann-picks/c/summer").text
    assert (menu(page), heading(page)) == (["Summer"], ["Summer"])
    assert og(page, "title") == "Summer · Ann&#39;s picks"

    picks.rename_collection(session, window, made.id, "Summer & sun")
    picks.create_collection(session, window, "Winter", "winter")
    session.commit()
    page = client.get("/w/ann-picks/c/summer").text
    assert (menu(page), heading(page)) == (["Summer &amp; sun", "Winter"], ["Summer &amp; sun"])
    assert og(page, "title") == "Summer &amp; sun · Ann&#39;s picks"
    assert 'aria-current="page">Summer &amp; sun<' in page
    page = client.get("/w/ann-picks").text
    assert (menu(page), heading(page)) == (["Summer &amp; sun", "Winter"], [])
    assert 'aria-current="page">All picks<' in page

    picks.delete_collection(session, window, made.id)
    session.commit()
    assert menu(client.get("/w/ann-picks").text) == ["Winter"]
    assert client.get("/w/ann-picks/c/summer").status_code == 404


def test_the_own_prices_hint_follows_the_money_model_at_once(uncached, session, window):
    visitor = uncached.test_client()
    assert not own_prices(visitor.get("/w/ann-picks").text)
    use_money_model(session, window, "price")
    for _ in range(2):  # the second time from the kept header
        assert own_prices(visitor.get("/w/ann-picks").text)
    assert own_prices(uncached.test_client().get("/w/ann-picks").text)
    use_money_model(session, window, "referral")
    assert not own_prices(visitor.get("/w/ann-picks").text)


def test_the_preview_picture_is_the_first_cards_at_once(uncached, client, session, app, window):
    def picture_of(slug: str) -> str:
        path = session.scalar(
            sa.select(ProductImage.path)
            .join(Product)
            .where(Product.slug == slug)
            .order_by(ProductImage.position)
        )
        return f"{app.config['SHOP_BASE_URL']}/media/{path}"

    assert og(client.get("/w/ann-picks").text, "image") == picture_of("item-00")
    _, own = picks.list_own_picks(session, window, 1)
    picks.remove_pick(session, window, own[0].id)
    session.commit()
    assert og(client.get("/w/ann-picks").text, "image") == picture_of("item-01")


def test_the_header_and_preview_are_kept_per_process(uncached, client, window):
    first = client.get("/w/ann-picks").text
    kept = uncached.extensions[GRIDS].texts
    names = sorted(key[0].name for key in kept)
    assert names == [
        "resellers/_window_grid.html",
        "resellers/_window_header.html",
        "resellers/_window_preview.html",
    ]
    # (the same page; its CSRF token is signed anew, with the second it was made in)
    assert without_csrf(client.get("/w/ann-picks").text) == without_csrf(first)
    assert len(kept) == 3


@pytest.mark.parametrize("numbers", [(1, 1_765_000_000), (987_654, 2_000_000_001)])
def test_a_mark_is_the_cookie_itsdangerous_makes(numbers):
    reseller_id, stamp = numbers
    stock = URLSafeSerializer(SECRET, salt=SALT)
    mark = read_mark(stock.dumps([reseller_id, stamp]), SECRET)
    assert mark is not None and mark.reseller_id == reseller_id
    assert sign_mark(mark, SECRET) == stock.dumps([reseller_id, stamp])


def test_a_mark_is_signed_without_zlib_and_reads_either_form(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("zlib's attempt on a mark's few digits")

    stock = URLSafeSerializer(SECRET, salt=SALT)
    runs = stock.dumps([10**12, 10**9])  # a run of zeros: zlib shortens it ('.' first)
    assert runs.startswith(".")
    monkeypatch.setattr(zlib, "compress", refuse)
    attribution._serializer.cache_clear()
    signed = sign_mark(Mark(10**12, read_mark(runs, SECRET).marked_at), SECRET)
    assert not signed.startswith(".")
    assert read_mark(signed, SECRET) == read_mark(runs, SECRET)
    assert read_mark(signed, "another secret") is None
