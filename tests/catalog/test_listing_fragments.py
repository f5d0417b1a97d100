"""The listing's category menu and filter form are rendered once and kept
(``shop.catalog.views.listing_filters``), by everything they show: never stale, whatever
changed and however (even a write that bumps no page version), and never another
listing's, language's or currency's."""

import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import Category
from tests.factories import make_category, make_product
from tests.helpers.pagecache import card_slugs, raw_write


@pytest.fixture
def uncached(make_app):
    """The shop with the page cache off: every request renders the page."""
    return make_app(PAGE_CACHE=False)


@pytest.fixture
def catalogue(uncached, session_factory):
    with session_factory(uncached) as session:
        school = make_category(session, slug="school-uniforms", name="School uniforms")
        make_category(session, slug="polos", name="Polos", parent=school)
        make_product(session, slug="polo", category=school, sizes=("120", "130"))
        session.commit()


def menu(page: str) -> str:
    return page.split('class="category-nav"')[1].split("</ul>\n")[0]


def sizes(page: str) -> list[str]:
    size_menu = page.split('id="filter-size"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)"', size_menu)


def selected(page: str, select_id: str) -> list[str]:
    options = page.split(f'id="{select_id}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)" selected', options)


def test_a_category_renamed_behind_the_shops_back_shows_on_the_next_request(uncached, catalogue):
    client = uncached.test_client()
    assert "Polos" in menu(client.get("/products").text)

    raw_write(uncached, "UPDATE category SET name = 'Polo shirts' WHERE slug = 'polos'")

    page = client.get("/products?page=2").text
    assert "Polo shirts" in menu(page)
    assert "Polos<" not in menu(page)


def test_a_category_renamed_in_the_admin_shows_on_the_next_request(app, client, session):
    """With the page cache on: the rename bumps the catalogue, the page renders again,
    and its menu is the new one."""
    make_category(session, slug="polos", name="Polos")
    session.commit()
    assert "Polos" in menu(client.get("/products").text)

    category = session.scalars(sa.select(Category)).one()
    category.name = "Polo shirts"
    session.commit()

    assert "Polo shirts" in menu(client.get("/products").text)


def test_a_child_category_moved_or_added_behind_the_shops_back_changes_the_category_pages(
    uncached, catalogue, session_factory
):
    """A category page's statement is made for the children the last one saw
    (``list_products``): a child moved, or a new one, shows on the next request."""
    with session_factory(uncached) as session:
        polos = session.scalars(sa.select(Category).filter_by(slug="polos")).one()
        make_product(session, slug="pique", category=polos)
        make_category(session, slug="workwear", name="Workwear")
        session.commit()
    client = uncached.test_client()
    assert card_slugs(client.get("/products?category=school-uniforms").text) == ["pique", "polo"]
    assert card_slugs(client.get("/products?category=workwear").text) == []

    raw_write(
        uncached,
        "UPDATE category SET parent_id = (SELECT id FROM category"
        " WHERE slug = 'workwear') WHERE slug = 'polos'",
    )

    assert card_slugs(client.get("/products?category=school-uniforms").text) == ["polo"]
    page = client.get("/products?category=workwear").text
    assert card_slugs(page) == ["pique"]
    assert "Workwear Polos" in " ".join(re.sub(r"<[^>]+>", " ", menu(page)).split())

    with session_factory(uncached) as session:
        school = session.scalars(sa.select(Category).filter_by(slug="school-uniforms")).one()
        ties = make_category(session, slug="ties", name="Ties", parent=school)
        make_product(session, slug="tie", category=ties)
        session.commit()

    assert card_slugs(client.get("/products?category=school-uniforms").text) == ["tie", "polo"]
    assert card_slugs(client.get("/products?category=workwear").text) == ["pique"]


def test_a_new_size_shows_in_the_filters_on_the_next_request(uncached, catalogue, session_factory):
    client = uncached.test_client()
    assert sizes(client.get("/products").text) == ["", "120", "130"]

    with session_factory(uncached) as session:
        school = session.scalars(sa.select(Category).filter_by(slug="school-uniforms")).one()
        make_product(session, slug="blazer", category=school, sizes=("150",))
        session.commit()

    assert sizes(client.get("/products").text) == ["", "120", "130", "150"]


def test_the_filters_follow_the_query_language_and_currency(uncached, catalogue):
    client = uncached.test_client()
    assert selected(client.get("/products?size=120").text, "filter-size") == ["120"]
    assert selected(client.get("/products?size=130&page=2").text, "filter-size") == ["130"]
    assert selected(client.get("/products").text, "filter-size") == []

    polos = client.get("/products?category=polos").text
    assert 'aria-current="true">Polos' in polos
    assert '<input type="hidden" name="category" value="polos">' in polos
    assert 'aria-current="true">All categories' in client.get("/products").text

    assert "尺码" in client.get("/products?lang=zh_CN").text.split("</aside>")[0]
    assert "Size" in client.get("/products?lang=en").text.split("</aside>")[0]

    with client.session_transaction() as browser:
        browser["currency"] = "JPY"
    assert "(JPY)" in client.get("/products").text.split("</aside>")[0]


def test_every_page_of_a_listing_shares_one_rendered_menu(uncached, catalogue):
    client = uncached.test_client()
    for number in (1, 2, 3):
        client.get(f"/products?size=120&page={number}")

    def menus() -> list:  # the header is kept there too (shop.layout)
        kept = uncached.extensions["shop_fragments"].texts
        return [key for key in kept if key[0].name == "catalog/_listing_filters.html"]

    assert len(menus()) == 1
    client.get("/products?size=130")
    assert len(menus()) == 2


# The page's grid of cards is kept too (``shop.templating.card_grid``), by the cards
# themselves: a change to anything a card shows, however it was made, shows next time.
GRID_PAGES = ("/products", "/products?q=polo")


def card(page: str, slug: str) -> str:
    return page.split(f'data-slug="{slug}"')[1].split("</li>")[0]


@pytest.mark.parametrize("path", GRID_PAGES)
def test_a_cards_name_price_and_badge_changed_behind_the_shops_back_show_next_time(
    uncached, session_factory, path
):
    with session_factory(uncached) as session:
        make_product(session, slug="polo", name="Navy polo", tiers=((1, 8900), (50, 6900)))
        session.commit()
    client = uncached.test_client()
    before = card(client.get(path).text, "polo")
    assert "Navy polo" in before and 'data-amount="8900"' in before
    assert "From stock" in before
    assert client.get(path).text.count('data-testid="product-card"') == 1  # kept, the same

    raw_write(uncached, "UPDATE product SET name = 'Navy polo shirt' WHERE slug = 'polo'")
    assert "Navy polo shirt" in card(client.get(path).text, "polo")

    raw_write(uncached, "UPDATE price_tier SET unit_amount = unit_amount - 1000")
    repriced = card(client.get(path).text, "polo")
    assert 'data-amount="7900"' in repriced and "59.00" in repriced

    raw_write(
        uncached,
        "UPDATE product SET made_to_order = :yes, lead_time_days = 12 WHERE slug = 'polo'",
        yes=True,
    )
    assert "about 12 days" in card(client.get(path).text, "polo")


@pytest.mark.parametrize("path", GRID_PAGES)
def test_a_kept_grid_is_never_another_languages_or_currencys(uncached, session_factory, path):
    with session_factory(uncached) as session:
        make_product(session, slug="polo", name="Navy polo", name_zh="藏青polo衫")
        session.commit()
    client = uncached.test_client()
    assert "Navy polo" in card(client.get(path).text, "polo")

    separator = "&" if "?" in path else "?"
    chinese = card(client.get(f"{path}{separator}lang=zh_CN").text, "polo")
    assert "藏青polo衫" in chinese and "Navy polo" not in chinese
    assert "Navy polo" in card(client.get(f"{path}{separator}lang=en").text, "polo")
