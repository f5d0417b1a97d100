"""Changes made in the catalogue admin show on the next request of every page they
affect, though each page was cached just before (and proved to come from the cache).
Each test runs with the memory store and with Redis."""

import re
from urllib.parse import quote

import pytest

from tests.accounts.helpers import login, make_user
from tests.factories import make_category, make_product
from tests.helpers.admin import category_data, product_data
from tests.helpers.images import picture, upload
from tests.helpers.pagecache import (
    behind_the_cache,
    card_html,
    card_prices,
    card_slugs,
    mark_category,
    mark_product,
    tier_amounts,
)
from tests.school_factories import add_item, make_school


@pytest.fixture
def polo(session):
    """A featured polo in Uniforms, on the list of the Greenfield school."""
    uniforms = make_category(session, slug="uniforms", name="Uniforms", name_zh="校服")
    product = make_product(
        session,
        category=uniforms,
        slug="summer-polo",
        name="Summer polo",
        name_zh="夏季校服短袖",
        tiers=((1, 8900), (50, 7900)),
        sizes=("130", "140"),
        on_hand=5,
        featured=True,
    )
    school = make_school(session, slug="greenfield", name="Greenfield Primary")
    add_item(session, school, product)
    session.commit()
    return product


def zh(path: str) -> str:
    return path + ("&" if "?" in path else "?") + "lang=zh_CN"


def product_form(product, **overrides) -> dict:
    """The product edit form as the admin page posts it, for this product as it is."""
    values = {
        "name": product.name,
        "name_zh": product.name_zh or "",
        "slug": product.slug,
        "active": "y" if product.active else None,
        "featured": "y" if product.featured else None,
        **overrides,
    }
    return product_data(product.category, **values)


def gallery(page: str) -> list[tuple[str, str]]:
    """The product page's pictures, in order: ``(src, alt)``."""
    block = page.split('class="product__gallery"')[1].split("</div>")[0]
    return re.findall(r'<img src="([^"]+)" alt="([^"]*)"', block)


def card_image(page: str, slug: str) -> tuple[str, str] | None:
    found = re.search(r'src="([^"]+)"\s+alt="([^"]*)"', card_html(page, slug))
    return found.groups() if found else None


# --- prices --------------------------------------------------------------------------------

PRICE_PAGES = (
    "/",
    "/products",
    "/products?category=uniforms",
    "/products?q=polo",
    "/products?sort=price_asc",
    "/products/summer-polo",
    "/schools/greenfield",
)


def test_a_price_changed_in_the_admin_shows_on_every_page_at_once(
    app, client, visitor, session, sign_in, polo
):
    """Product page, listing, category, search, sorted listing, home (featured) and the
    school shop listing it: all cached, all show the new tiers on the next request, for
    anonymous visitors and signed-in customers alike, in every language."""
    customer = app.test_client()
    make_user(session, email="cleo@example.com", name="Cleo")
    assert login(customer, email="cleo@example.com").status_code == 302
    marker = mark_product("summer-polo")
    behind_the_cache(app, visitor, PRICE_PAGES, marker)
    behind_the_cache(app, customer, PRICE_PAGES, marker)
    behind_the_cache(app, visitor, [zh(p) for p in PRICE_PAGES], marker)
    sign_in("manager")

    response = client.post(
        f"/admin/products/{polo.id}/tiers",
        data={"CNY-min": ["1", "50"], "CNY-price": ["99.00", "85.00"]},
    )

    assert response.status_code == 302
    for browser in (visitor, customer):
        for path in PRICE_PAGES[:5]:
            for shown in (path, zh(path)):
                assert card_prices(browser.get(shown).text) == {"summer-polo": 9900}, shown
        assert tier_amounts(browser.get("/products/summer-polo").text) == [9900, 8500]
        assert tier_amounts(browser.get(zh("/products/summer-polo")).text) == [9900, 8500]
        school_page = browser.get("/schools/greenfield").text
        assert 'data-amount="9900"' in school_page and 'data-amount="8900"' not in school_page


def test_a_price_order_change_reorders_the_sorted_listing(
    app, client, visitor, session, sign_in, polo
):
    """A new price moves a product in "price: low to high" at once."""
    cheap = make_product(session, slug="cheap-tee", name="Cheap tee", tiers=((1, 5000),))
    session.commit()
    behind_the_cache(app, visitor, ["/products?sort=price_asc"], mark_product("cheap-tee"))
    assert card_slugs(visitor.get("/products?sort=price_asc").text) == ["cheap-tee", "summer-polo"]
    sign_in("manager")

    client.post(f"/admin/products/{cheap.id}/tiers", data={"CNY-min": "1", "CNY-price": "120"})

    assert card_slugs(visitor.get("/products?sort=price_asc").text) == ["summer-polo", "cheap-tee"]


# --- names and translations ----------------------------------------------------------------


def test_a_chinese_name_changed_in_the_admin_shows_in_chinese_pages_and_search(
    app, client, visitor, sign_in, polo
):
    """The zh_CN listing, product page and search show the new name; a search for the
    new name, cached while it found nothing, now finds the product."""
    new_name_search = zh("/products?q=" + quote("冬季"))
    pages = [
        zh("/products"),
        zh("/products/summer-polo"),
        zh("/products?q=polo"),
        zh("/schools/greenfield"),
        "/products",
    ]
    behind_the_cache(app, visitor, pages, mark_product("summer-polo"))
    assert card_slugs(visitor.get(new_name_search).text) == []
    sign_in("manager")

    response = client.post(
        f"/admin/products/{polo.id}", data=product_form(polo, name_zh="冬季校服长袖")
    )

    assert response.status_code == 302
    for path in (zh("/products"), zh("/products?q=polo"), new_name_search):
        page = visitor.get(path).text
        assert "冬季校服长袖" in card_html(page, "summer-polo"), path
        assert "夏季校服短袖" not in page, path
    product_page = visitor.get(zh("/products/summer-polo")).text
    assert "<h1>冬季校服长袖</h1>" in product_page
    assert "冬季校服长袖" in visitor.get(zh("/schools/greenfield")).text
    assert "Summer polo" in card_html(visitor.get("/products").text, "summer-polo")


def test_deactivating_a_product_takes_it_off_every_page(app, client, visitor, sign_in, polo):
    behind_the_cache(app, visitor, PRICE_PAGES, mark_product("summer-polo"))
    sign_in("manager")

    client.post(f"/admin/products/{polo.id}/active", data={"active": "0"})

    for path in PRICE_PAGES[:5]:
        assert card_slugs(visitor.get(path).text) == [], path
    assert visitor.get("/products/summer-polo").status_code == 404


def test_a_withdrawn_size_shows_on_the_product_page(app, client, visitor, sign_in, polo):
    """Withdrawing a variant (an ORM change of the variant that is not its stock)."""
    withdrawn = polo.variants[0]
    behind_the_cache(app, visitor, ["/products/summer-polo"], mark_product("summer-polo"))
    assert 'data-testid="withdrawn"' not in visitor.get("/products/summer-polo").text
    sign_in("manager")

    client.post(
        f"/admin/variants/{withdrawn.id}", data={"sku": withdrawn.sku, "low_stock_threshold": "5"}
    )

    page = visitor.get("/products/summer-polo").text
    assert f'data-sku="{withdrawn.sku}" data-available="5" data-for-sale="false"' in page
    assert page.count('data-testid="withdrawn"') == 1


# --- images --------------------------------------------------------------------------------


def test_image_upload_alt_text_reorder_and_delete_show_at_once(app, client, visitor, sign_in, polo):
    """Each change to the pictures shows on the product page and the listing card."""
    pages = ("/products/summer-polo", "/products", "/")
    marker = mark_product("summer-polo")
    behind_the_cache(app, visitor, pages, marker)
    assert gallery(visitor.get("/products/summer-polo").text) == []
    assert card_image(visitor.get("/products").text, "summer-polo") is None
    sign_in("manager")

    assert upload(client, polo, picture(), alt="Front").status_code == 302
    [(front_src, front_alt)] = gallery(visitor.get("/products/summer-polo").text)
    assert front_alt == "Front"
    for path in ("/products", "/"):
        assert card_image(visitor.get(path).text, "summer-polo") == (front_src, "Front"), path

    behind_the_cache(app, visitor, pages, marker)
    assert upload(client, polo, picture(size=(65, 48)), alt="Back").status_code == 302
    shown = gallery(visitor.get("/products/summer-polo").text)
    assert [alt for _src, alt in shown] == ["Front", "Back"]
    back_src = shown[1][0]
    back_id = polo_image_id(app, back_src)

    behind_the_cache(app, visitor, pages, marker)
    client.post(f"/admin/images/{back_id}/move", data={"direction": "up"})
    assert gallery(visitor.get("/products/summer-polo").text) == [
        (back_src, "Back"),
        (front_src, "Front"),
    ]
    assert card_image(visitor.get("/products").text, "summer-polo") == (back_src, "Back")

    behind_the_cache(app, visitor, pages, marker)
    client.post(f"/admin/images/{back_id}/alt", data={"alt_text": "Navy polo, back"})
    assert gallery(visitor.get("/products/summer-polo").text)[0] == (back_src, "Navy polo, back")
    for path in ("/products", "/"):
        assert card_image(visitor.get(path).text, "summer-polo") == (back_src, "Navy polo, back")

    behind_the_cache(app, visitor, pages, marker)
    assert client.post(f"/admin/images/{back_id}/delete").status_code == 302
    assert gallery(visitor.get("/products/summer-polo").text) == [(front_src, "Front")]
    assert card_image(visitor.get("/products").text, "summer-polo") == (front_src, "Front")


def polo_image_id(app, src: str) -> int:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from shop.catalog.models import ProductImage

    path = src.split("/media/", 1)[1]
    with Session(app.extensions["sa_engine"]) as db:
        return db.scalar(sa.select(ProductImage.id).where(ProductImage.path == path))


# --- categories ----------------------------------------------------------------------------


@pytest.fixture
def categories(session):
    """Shirts › Polos (holding the polo), Trousers, and an empty Hats."""
    shirts = make_category(session, slug="shirts", name="Shirts", position=1)
    polos = make_category(session, slug="polos", name="Polos", parent=shirts)
    trousers = make_category(session, slug="trousers", name="Trousers", position=2)
    hats = make_category(session, slug="hats", name="Hats", position=3)
    make_product(session, category=polos, slug="pique-polo", name="Pique polo")
    session.commit()
    return shirts, polos, trousers, hats


CATEGORY_PAGES = (
    "/",
    "/products",
    "/products?category=shirts",
    "/products?category=polos",
    "/products?category=trousers",
    "/products?category=hats",
    "/products/pique-polo",
)


def category_nav(page: str) -> str:
    """The listing's category sidebar, tags stripped: e.g. "All categories Shirts Polos"."""
    block = page.split('class="category-nav"')[1].split("</aside>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


def breadcrumbs(page: str) -> list[str]:
    block = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    return [text.strip() for text in re.findall(r"<a [^>]*>([^<]*)</a>", block)]


def test_renaming_a_category_shows_in_menus_its_page_and_breadcrumbs(
    app, client, visitor, sign_in, categories
):
    _shirts, polos, _trousers, _hats = categories
    behind_the_cache(app, visitor, CATEGORY_PAGES, mark_category("polos"))
    sign_in("manager")

    response = client.post(
        f"/admin/categories/{polos.id}", data=category_data(polos, name="Polo shirts")
    )

    assert response.status_code == 302
    for path in CATEGORY_PAGES[1:6]:
        assert "Shirts Polo shirts Trousers" in category_nav(visitor.get(path).text), path
    home = visitor.get("/").text
    assert "Polo shirts</a>" in home and "Polos</a>" not in home
    assert "<title>Polo shirts · Sourcefront</title>" in visitor.get(CATEGORY_PAGES[3]).text
    assert breadcrumbs(visitor.get("/products/pique-polo").text) == [
        "All products",
        "Shirts",
        "Polo shirts",
    ]


def test_moving_a_category_moves_its_products_between_category_pages(
    app, client, visitor, sign_in, categories
):
    _shirts, polos, trousers, _hats = categories
    assert card_slugs(visitor.get("/products?category=shirts").text) == ["pique-polo"]
    assert card_slugs(visitor.get("/products?category=trousers").text) == []
    behind_the_cache(app, visitor, CATEGORY_PAGES, mark_category("polos"))
    sign_in("manager")

    response = client.post(
        f"/admin/categories/{polos.id}", data=category_data(polos, parent_id=str(trousers.id))
    )

    assert response.status_code == 302
    assert card_slugs(visitor.get("/products?category=shirts").text) == []
    assert card_slugs(visitor.get("/products?category=trousers").text) == ["pique-polo"]
    assert "Shirts Trousers Polos Hats" in category_nav(visitor.get("/products").text)
    assert breadcrumbs(visitor.get("/products/pique-polo").text)[1:] == ["Trousers", "Polos"]


def test_deleting_a_category_takes_it_out_of_every_menu(app, client, visitor, sign_in, categories):
    *_, hats = categories
    behind_the_cache(app, visitor, CATEGORY_PAGES, mark_category("hats"))
    assert "<title>Hats · Sourcefront</title>" in visitor.get("/products?category=hats").text
    sign_in("manager")

    assert client.post(f"/admin/categories/{hats.id}/delete").status_code == 302

    for path in CATEGORY_PAGES:
        assert "Hats" not in visitor.get(path).text, path
    # the slug now names no category: the page lists everything
    assert card_slugs(visitor.get("/products?category=hats").text) == ["pique-polo"]


def test_a_product_moved_to_another_category_changes_both_category_pages(
    app, client, visitor, sign_in, categories
):
    _shirts, polos, trousers, _hats = categories
    from sqlalchemy.orm import Session

    from shop.catalog.models import Product

    with Session(app.extensions["sa_engine"]) as db:
        product = db.query(Product).filter_by(slug="pique-polo").one()
        form = product_form(product, category_id=str(trousers.id))
    behind_the_cache(app, visitor, CATEGORY_PAGES, mark_product("pique-polo"))
    sign_in("manager")

    assert client.post(f"/admin/products/{product.id}", data=form).status_code == 302

    assert card_slugs(visitor.get("/products?category=polos").text) == []
    assert card_slugs(visitor.get("/products?category=trousers").text) == ["pique-polo"]
    assert breadcrumbs(visitor.get("/products/pique-polo").text) == ["All products", "Trousers"]
