"""Proving a page came from the page cache (``shop.pagecache``), and reading pages.

The proof: ``behind_the_cache`` writes to the database through a bare connection — no ORM
session, so no version is bumped — and the next request must *not* show that write."""

import re
import uuid
from contextlib import contextmanager

import sqlalchemy as sa

from tests.accounts.helpers import login, make_user
from tests.redis_dbs import SHARED

REDIS_URL = SHARED
RAW = "~raw~"  # what a write that bypasses the shop appends to a name


def store_settings(kind: str) -> dict:
    """App settings for a page store: the default memory one, or Redis in a fresh
    namespace (as a second shop on the same database and Redis would have). Jobs (emails,
    thumbnails) run in-process: no worker runs here."""
    if kind == "memory":
        return {}
    return {
        "REDIS_URL": REDIS_URL,
        "PAGE_CACHE_NAMESPACE": f"test-{uuid.uuid4().hex}",
        "JOBS_INLINE": True,
    }


def raw_write(app, sql: str, **params) -> None:
    """Commit ``sql`` on a bare connection: no ORM session, no listener, no version bump."""
    with app.extensions["sa_engine"].connect() as connection:
        connection.execute(sa.text(sql), params)
        connection.commit()


def mark_product(slug: str) -> tuple[str, str, dict]:
    """SQL that appends ``RAW`` to a product's names, and SQL that takes it off again."""
    mark = (
        "UPDATE product SET name = name || :raw, name_zh = name_zh || :raw, "
        "name_ja = name_ja || :raw WHERE slug = :key"
    )
    unmark = (
        "UPDATE product SET name = replace(name, :raw, ''), name_zh = replace(name_zh, :raw, ''),"
        " name_ja = replace(name_ja, :raw, '') WHERE slug = :key"
    )
    return mark, unmark, {"raw": RAW, "key": slug}


def mark_category(slug: str) -> tuple[str, str, dict]:
    mark = "UPDATE category SET name = name || :raw, name_zh = name_zh || :raw WHERE slug = :key"
    unmark = (
        "UPDATE category SET name = replace(name, :raw, ''), name_zh = replace(name_zh, :raw, '')"
        " WHERE slug = :key"
    )
    return mark, unmark, {"raw": RAW, "key": slug}


def mark_school(slug: str) -> tuple[str, str, dict]:
    mark = "UPDATE school SET name = name || :raw, name_zh = name_zh || :raw WHERE slug = :key"
    unmark = (
        "UPDATE school SET name = replace(name, :raw, ''), name_zh = replace(name_zh, :raw, '')"
        " WHERE slug = :key"
    )
    return mark, unmark, {"raw": RAW, "key": slug}


@contextmanager
def raw_marked(app, marker: tuple[str, str, dict]):
    """While inside, the marked rows carry ``RAW`` in the database (and nowhere else)."""
    mark, unmark, params = marker
    raw_write(app, mark, **params)
    try:
        yield
    finally:
        raw_write(app, unmark, **params)


def behind_the_cache(app, browser, paths, marker) -> dict[str, str]:
    """Load every path (so it is cached), then prove each one is now served from the
    cache: a write that bypasses the shop's sessions does not show on the next request.
    Returns each page as first served."""
    pages = {}
    for path in paths:
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
        pages[path] = response.text
    with raw_marked(app, marker):
        for path in paths:
            again = browser.get(path).text
            assert RAW not in again, f"{path} was rendered again, not served from the cache"
    return pages


def shows_fresh(app, browser, path, marker) -> str:
    """The page as rendered now from the database: a raw write *is* visible (the page was
    rendered, not taken from the cache). For staff, or after a version was bumped."""
    with raw_marked(app, marker):
        text = browser.get(path).text
    return text


def card_prices(page: str) -> dict[str, int]:
    """Product cards' base prices: ``{slug: amount}``."""
    cards = re.findall(
        r'data-testid="product-card" data-slug="([^"]+)".*?data-testid="price" data-amount="(\d+)"',
        page,
        re.S,
    )
    return {slug: int(amount) for slug, amount in cards}


def card_slugs(page: str) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', page)


def card_html(page: str, slug: str) -> str:
    start = page.index(f'data-testid="product-card" data-slug="{slug}"')
    return page[start : page.index("</li>", start)]


def available(page: str) -> dict[str, str]:
    """The product page's stock per SKU: ``{sku: data-available}``."""
    return dict(
        re.findall(r'data-testid="variant" data-sku="([^"]+)" data-available="([^"]*)"', page)
    )


def tier_amounts(page: str) -> list[int]:
    """The product page's tier table: each tier's price per piece (minor units)."""
    table = page.split('data-testid="tier-table"')[1].split("</table>")[0]
    return [int(amount) for amount in re.findall(r'data-amount="(\d+)"', table)]


def csrf_in(page: str) -> list[str]:
    return re.findall(r'name="csrf_token" value="([^"]*)"', page)


def without_csrf(page: str) -> str:
    """``page`` with its CSRF tokens' values blanked: a token carries the second it was
    signed in, so two renderings of one page a second apart differ there alone."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', page)


def cart_count(page: str) -> str:
    found = re.search(r'data-testid="cart-count" data-count="([^"]*)"', page)
    assert found, "no cart count on the page"
    return found.group(1)


def flash_texts(page: str) -> list[str]:
    return [m.strip() for m in re.findall(r'data-testid="flash">(.*?)</p>', page, re.S)]


def school_sizes(page: str) -> dict[str, bool]:
    """The school shop's size choices: ``{size: orderable}``."""
    options = re.findall(r'<option value="\d+" data-size="([^"]+)"([^>]*)>', page)
    return {size: "disabled" not in rest for size, rest in options}


def fresh_token(browser) -> str:
    """A CSRF token for this browser from a page the cache never serves."""
    return csrf_in(browser.get("/account/login").text)[0]


def signed_in(app, session, name: str, role: str = "customer"):
    browser = app.test_client()
    email = f"{name.lower()}@example.com"
    make_user(session, email=email, name=name, role=role)
    response = login(browser, email=email, csrf_token=fresh_token(browser))
    assert response.status_code == 302, response.text
    browser.get(response.headers["Location"])  # the welcome message, shown and gone
    return browser


def add(
    browser, variant_id: int, quantity: int, token: str | None = None, next_page="/products/polo"
):
    return browser.post(
        "/cart/add",
        data={
            "variant_id": variant_id,
            "quantity": quantity,
            "next": next_page,
            "csrf_token": token or fresh_token(browser),
        },
    )
