"""One visitor's parts of a cached page — CSRF token, cart count, signed-in navigation,
name, flash messages — never reach another; staff always get a page rendered fresh; the
cached pages answer conditional requests with 304 until a change."""

import re
from email.utils import parsedate_to_datetime

import pytest

from shop.pagecache import stores
from tests.factories import make_product
from tests.helpers.pagecache import (
    RAW,
    add,
    behind_the_cache,
    cart_count,
    csrf_in,
    flash_texts,
    fresh_token,
    mark_product,
    raw_marked,
    signed_in,
)

PAGE = "/products/polo"
OTHER_PAGES = ("/", "/products", "/products?q=polo")


@pytest.fixture
def app(cache_app, store_kind):
    """CSRF checks on, as in production: tokens are real and refused when wrong."""
    return cache_app(store_kind, WTF_CSRF_ENABLED=True)


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Polo", on_hand=20)
    session.commit()
    return product


def nav(page: str) -> set[str]:
    """Which signed-in/out links the navigation shows."""
    return set(re.findall(r'data-testid="(login-link|account-link|orders-link)"', page)) | (
        {"admin"} if 'href="/admin/"' in page else set()
    )


def test_cart_count_and_signed_in_navigation_are_each_visitors_own(app, session, polo):
    """Alice (signed in, 3 pieces in her cart) renders the page into the cache; an
    anonymous visitor and Bob (signed in, 1 piece) get the same cached page with their own
    count and navigation, and nothing of Alice's."""
    alice = signed_in(app, session, "Alice")
    assert add(alice, polo.variants[0].id, 3).status_code == 303
    alice.get(PAGE)  # the flash, shown and gone
    first = alice.get(PAGE).text
    assert (cart_count(first), nav(first)) == ("3", {"account-link", "orders-link"})
    anonymous = app.test_client()
    bob = signed_in(app, session, "Bob")
    assert add(bob, polo.variants[0].id, 1).status_code == 303
    bob.get(PAGE)
    for path in OTHER_PAGES:
        alice.get(path)  # Alice renders these into the cache too

    with raw_marked(app, mark_product("polo")):  # every page below comes from the cache
        for path in (PAGE, *OTHER_PAGES):
            pages = {who: b.get(path).text for who, b in (("anon", anonymous), ("bob", bob))}
            pages["alice"] = alice.get(path).text
            for who, page in pages.items():
                assert RAW not in page, (who, path)
            assert (cart_count(pages["anon"]), nav(pages["anon"])) == ("0", {"login-link"})
            assert (cart_count(pages["bob"]), nav(pages["bob"])) == (
                "1",
                {"account-link", "orders-link"},
            )
            assert cart_count(pages["alice"]) == "3"
            for who in ("anon", "bob"):
                assert "Alice" not in pages[who] and "alice@" not in pages[who], (who, path)
                assert 'data-count="3"' not in pages[who], (who, path)
            assert "Bob" not in pages["anon"] and "Bob" not in pages["alice"]


def test_a_flash_message_shows_only_to_its_visitor_and_only_once(app, session, polo):
    anonymous = app.test_client()
    behind_the_cache(app, anonymous, [PAGE], mark_product("polo"))
    alice = signed_in(app, session, "Alice")
    bob = signed_in(app, session, "Bob")

    response = add(alice, polo.variants[0].id, 3)
    assert response.status_code == 303 and response.headers["Location"] == PAGE

    with raw_marked(app, mark_product("polo")):  # the page comes from the cache
        to_alice = alice.get(PAGE).text
        to_bob = bob.get(PAGE).text
        to_anonymous = anonymous.get(PAGE).text
        again = alice.get(PAGE).text
    assert RAW not in to_alice
    assert flash_texts(to_alice) == ["Added 3 pieces to your cart."]
    assert flash_texts(to_bob) == flash_texts(to_anonymous) == []
    assert flash_texts(again) == []
    assert "Added 3 pieces" not in to_bob + to_anonymous + again


def test_each_visitor_gets_their_own_csrf_token_on_a_cached_page(app, session, polo):
    """Alice renders the page into the cache; Bob and an anonymous visitor get it from the
    cache with tokens of their own (never Alice's), which their sessions accept."""
    alice = signed_in(app, session, "Alice")
    alice_tokens = set(csrf_in(alice.get(PAGE).text))
    for browser in (app.test_client(), signed_in(app, session, "Bob")):
        with raw_marked(app, mark_product("polo")):
            page = browser.get(PAGE).text
        assert RAW not in page
        tokens = set(csrf_in(page))
        assert tokens and not tokens & alice_tokens
        [token] = tokens
        assert add(browser, polo.variants[0].id, 1, token=token).status_code == 303


def test_staff_get_a_fresh_page_and_never_fill_the_cache(app, session, polo):
    """A write that bypasses the shop shows to staff at once (rendered fresh); the page a
    staff member renders, with its Admin link, is never stored for anyone else."""
    anonymous = app.test_client()
    behind_the_cache(app, anonymous, [PAGE], mark_product("polo"))
    staff = signed_in(app, session, "Mia", role="manager")

    with raw_marked(app, mark_product("polo")):
        to_staff = staff.get(PAGE).text
        to_anonymous = anonymous.get(PAGE).text
        staff_first = staff.get("/products?sort=name").text  # never cached before
    assert RAW in to_staff and "admin" in nav(to_staff)
    assert RAW not in to_anonymous and "admin" not in nav(to_anonymous)
    assert RAW in staff_first
    after = anonymous.get("/products?sort=name").text
    assert RAW not in after and nav(after) == {"login-link"}


# --- HTTP caching --------------------------------------------------------------------------


def test_an_unchanged_page_answers_304_and_a_changed_one_200(app, session, polo, steady_tokens):
    visitor = app.test_client()
    first = visitor.get(PAGE)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"

    again = visitor.get(PAGE, headers={"If-None-Match": etag})

    assert again.status_code == 304 and again.data == b""
    staff = signed_in(app, session, "Mia", role="manager")
    response = staff.post(
        f"/admin/products/{polo.id}/tiers",
        data={"CNY-min": "1", "CNY-price": "95.00", "csrf_token": fresh_token(staff)},
    )
    assert response.status_code == 302
    changed = visitor.get(PAGE, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert 'data-amount="9500"' in changed.text
    assert visitor.get(PAGE, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


@pytest.fixture
def clock(monkeypatch):
    """The page cache's clock, moved by hand: versions carry the time they were made."""
    now = [1_800_000_000.25]
    monkeypatch.setattr(stores, "clock", lambda: now[0])
    return now


def change_price(app, session, polo, price: str):
    staff = signed_in(app, session, f"Staff{price.replace('.', '')}", role="manager")
    response = staff.post(
        f"/admin/products/{polo.id}/tiers",
        data={"CNY-min": "1", "CNY-price": price, "csrf_token": fresh_token(staff)},
    )
    assert response.status_code == 302


def test_last_modified_is_the_newest_version_and_answers_if_modified_since(
    app, session, polo, clock
):
    visitor = app.test_client()
    visitor.get(PAGE)  # the page's versions are made now
    clock[0] += 5
    first = visitor.get(PAGE)
    modified = first.headers["Last-Modified"]
    assert parsedate_to_datetime(modified).timestamp() == 1_800_000_000

    unchanged = visitor.get(PAGE, headers={"If-Modified-Since": modified})
    assert unchanged.status_code == 304 and unchanged.data == b""

    change_price(app, session, polo, "95.00")  # a new catalogue version, made now
    assert visitor.get(PAGE, headers={"If-Modified-Since": modified}).status_code == 200
    clock[0] += 1
    changed = visitor.get(PAGE, headers={"If-Modified-Since": modified})
    assert changed.status_code == 200 and 'data-amount="9500"' in changed.text
    assert parsedate_to_datetime(changed.headers["Last-Modified"]).timestamp() == 1_800_000_005


def test_no_last_modified_within_the_second_of_a_change(app, session, polo, clock):
    """HTTP dates have whole seconds: a page sent in the second it changed could change
    again in that second, and a date would not tell. An ETag still does."""
    visitor = app.test_client()
    visitor.get(PAGE)
    clock[0] += 0.5
    response = visitor.get(PAGE)
    assert "Last-Modified" not in response.headers and response.headers["ETag"]


def test_last_modified_only_for_visitors_whose_parts_are_everyones(app, session, polo, clock):
    visitor = app.test_client()
    visitor.get(PAGE)
    clock[0] += 5
    assert "Last-Modified" in visitor.get(PAGE).headers
    token = csrf_in(visitor.get(PAGE).text)[0]
    assert add(visitor, polo.variants[0].id, 1, token).status_code in (302, 303)
    visitor.get("/cart")  # the message is shown

    page = visitor.get(PAGE)
    assert cart_count(page.text) == "1"
    assert "Last-Modified" not in page.headers
    assert "Last-Modified" not in signed_in(app, session, "Ana").get(PAGE).headers


def test_text_that_looks_like_a_hole_stays_text(app, session):
    """A product name or a search holding the private-use characters of a marker is
    shown as typed: only markers tagged with the shop's secret are filled."""
    make_product(session, slug="odd", name="Polo \ue000cart\ue001 \ue000nav\ue001")
    session.commit()
    client = app.test_client()
    for _ in range(2):  # rendered into the cache, then served from it
        page = client.get("/products/odd").text
        assert "Polo \ue000cart\ue001 \ue000nav\ue001" in page
    search = client.get("/products?q=%EE%80%80nav%EE%80%81").text
    assert 'data-testid="login-link"' in search
    assert search.count('data-testid="login-link"') == 1
