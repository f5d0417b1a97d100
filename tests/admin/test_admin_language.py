"""The factory admin in the staff member's language: product, category, colour and school
names in Chinese (or Japanese) wherever the admin shows them, each falling back to the
English name; roles named in words."""

import re

import pytest

from tests.factories import make_category, make_product
from tests.order_factories import make_order
from tests.school_factories import make_school


@pytest.fixture
def polo(session):
    category = make_category(session, slug="polos", name="Polos", name_zh="Polo衫", name_ja="ポロ")
    return make_product(
        session,
        slug="polo",
        name="Polo shirt",
        name_zh="校服Polo衫",
        name_ja="スクールポロシャツ",
        category=category,
        on_hand=2,  # below the default threshold of 5: the dashboard lists it
    )


def test_the_product_list_names_products_and_categories_in_chinese(client, session, sign_in, polo):
    make_product(session, slug="cap", name="Cap")  # no translation: the English name
    session.commit()
    sign_in("manager")

    zh = client.get("/admin/products?lang=zh_CN").text
    names = re.findall(r'data-testid="product-name">([^<]+)</a>', zh)
    assert sorted(names) == ["Cap", "校服Polo衫"]
    assert "<td>Polo衫</td>" in zh and '"polos"' not in zh
    assert re.search(r"<option value=\"\d+\" >Polo衫</option>", zh)  # the category filter too

    en = client.get("/admin/products?lang=en").text
    assert sorted(re.findall(r'data-testid="product-name">([^<]+)</a>', en)) == [
        "Cap",
        "Polo shirt",
    ]


def desk_order(session, polo, locale="en", name="Polo shirt"):
    order = make_order(session, lines=(("POLO-130-NAVY", 2, 8900),), locale=locale)
    order.lines[0].product_id = polo.id
    order.lines[0].product_name = name
    session.flush()
    return order


def test_order_desk_lines_in_the_admins_language(client, session, sign_in, polo):
    english = desk_order(session, polo)
    chinese = desk_order(session, polo, locale="zh_CN", name="Polo衫(下单时的名称)")
    session.commit()
    sign_in("service")

    page = client.get(f"/admin/orders/{english.number}?lang=zh_CN").text
    assert re.findall(r'data-testid="line-name">([^<]+)<', page) == ["校服Polo衫"]
    # Ordered in Chinese: the name it was ordered under stays, as the customer saw it.
    page = client.get(f"/admin/orders/{chinese.number}?lang=zh_CN").text
    assert re.findall(r'data-testid="line-name">([^<]+)<', page) == ["Polo衫(下单时的名称)"]
    page = client.get(f"/admin/orders/{english.number}?lang=en").text
    assert re.findall(r'data-testid="line-name">([^<]+)<', page) == ["Polo shirt"]


def test_stock_list_dashboard_and_schools_in_chinese(client, session, sign_in, polo):
    make_school(session, slug="xixi", name="Xixi Primary", name_zh="西溪小学", city_zh="杭州")
    session.commit()
    sign_in("owner")

    stock = client.get("/admin/stock?lang=zh_CN").text
    assert "<td>校服Polo衫</td>" in stock and "<td>藏青色</td>" in stock

    dashboard = client.get("/admin/?lang=zh_CN").text
    assert "Polo shirt" not in dashboard  # low stock is a count and a link now
    assert "角色：所有者</p>" in dashboard  # the role in words, not "owner"

    schools = client.get("/admin/schools?lang=zh_CN").text
    assert ">西溪小学</a>" in schools and "Xixi Primary" not in schools


def test_the_production_queue_in_japanese(client, session, sign_in, polo):
    school = make_school(session, name="Xixi Primary", name_ja="西渓小学校")
    order = make_order(
        session,
        lines=(("POLO-130-NAVY", 3, 8900),),
        made_to_order=True,
        lead_time_days=7,
        school_id=school.id,
    )
    order.lines[0].product_id = polo.id
    order.lines[0].product_name = "Polo shirt"
    session.commit()
    sign_in("workshop")

    page = client.get("/admin/production?lang=ja").text
    assert re.search(r"<label for=\"row-\d+\">スクールポロシャツ</label>", page)
    assert "西渓小学校" in page
    page = client.get("/admin/production?lang=en").text
    assert re.search(r"<label for=\"row-\d+\">Polo shirt</label>", page)
