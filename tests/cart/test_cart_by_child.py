"""The cart reads a school order as each child's kit (issue 16): lines grouped by the
child's name the parent gave in the school shop, no volume-tier upsell on kit lines, and
rows that stack on a phone (``table-stack`` with a ``data-label`` per cell)."""

import re

import pytest

from shop.cart.layout import arrange
from shop.cart.pricing import CartPricing, PricedLine, ProductGroup
from shop.cart.rules import Problem
from tests.factories import make_product
from tests.school_factories import add_item, make_school


@pytest.fixture
def school_and_items(session):
    school = make_school(session, slug="lotus", currency="CNY")
    polo = make_product(
        session, slug="lotus-polo", name="Lotus polo", tiers=((1, 8900), (50, 7900))
    )
    shorts = make_product(
        session, slug="lotus-shorts", name="Lotus shorts", tiers=((1, 5000), (50, 4000))
    )
    polo_item = add_item(session, school, polo)
    shorts_item = add_item(session, school, shorts)
    retail = make_product(
        session, slug="retail-tee", name="Plain tee", tiers=((1, 3000), (10, 2500))
    )
    session.commit()
    return school, (polo_item, shorts_item), retail


def add_kit(client, school, items, student, class_name):
    data = {"student_name": student, "class_name": class_name}
    for item in items:
        data[f"variant-{item.id}"] = item.product.variants[0].id
        data[f"qty-{item.id}"] = "1"
    response = client.post(f"/schools/{school.slug}/kit", data=data)
    assert response.status_code == 303, response.text


def section(page: str, student: str) -> str:
    return page.split(f'data-testid="cart-child" data-student="{student}"')[1].split("</section>")[
        0
    ]


def test_a_school_order_is_grouped_by_child_in_the_order_they_were_added(client, school_and_items):
    school, items, _retail = school_and_items
    add_kit(client, school, items, "Li Na", "2B")
    add_kit(client, school, items, "Li Wei", "4A")
    page = client.get("/cart").text

    children = re.findall(
        r'data-testid="cart-child" data-student="([^"]+)" data-class="([^"]+)"', page
    )
    assert children == [("Li Na", "2B"), ("Li Wei", "4A")]
    for student in ("Li Na", "Li Wei"):
        kit = section(page, student)
        assert re.findall(r'data-testid="cart-line"[^>]*data-student="([^"]*)"', kit) == [
            student,
            student,
        ]
        assert "Lotus polo" in kit and "Lotus shorts" in kit
    # The products are not listed again by product: each child's kit is the list.
    assert 'data-testid="cart-group"' not in page


def test_kit_lines_offer_no_volume_tier_but_a_retail_item_still_does(client, school_and_items):
    school, items, retail = school_and_items
    add_kit(client, school, items, "Li Na", "2B")
    client.post("/cart/add", data={"variant_id": retail.variants[0].id, "quantity": "2"})
    page = client.get("/cart").text

    assert "Add " not in section(page, "Li Na")
    assert page.count('data-testid="next-tier"') == 1
    retail_group = page.split('data-testid="cart-group" data-slug="retail-tee"')[1]
    assert 'data-testid="next-tier" data-more="8"' in retail_group


def test_cart_rows_stack_on_phones_with_a_label_per_cell(client, school_and_items):
    school, items, retail = school_and_items
    add_kit(client, school, items, "Li Na", "2B")
    client.post("/cart/add", data={"variant_id": retail.variants[0].id, "quantity": "2"})
    page = client.get("/cart").text

    tables = re.findall(r'<table class="([^"]+)"', page)
    assert tables == ["cart-lines table-stack", "cart-lines table-stack"]
    assert page.count('data-testid="line-total"') == 3
    assert len(re.findall(r'<td data-label="Line total" data-testid="line-total">', page)) == 3
    for label in ("Size", "Colour", "Quantity"):
        assert page.count(f'<td data-label="{label}">') == 3
    assert page.count('data-testid="remove-line"') == 3


def priced(line_id, student="", quantity=1, amount=100):
    return PricedLine(
        variant_id=line_id,
        sku=f"SKU-{line_id}",
        size="130",
        colour="navy",
        quantity=quantity,
        available=10,
        unit_amount=amount,
        line_amount=amount * quantity,
        problems=[],
        line_id=line_id,
        school_id=1 if student else None,
        student_name=student,
        class_name="1A" if student else "",
    )


def group(product_id, lines, problems=()):
    return ProductGroup(
        product_id=product_id,
        slug=f"p{product_id}",
        name=f"P{product_id}",
        quantity=sum(line.quantity for line in lines),
        tier=None,
        next_tier=None,
        amount=sum(line.line_amount for line in lines),
        made_to_order=False,
        lead_time_days=None,
        lines=list(lines),
        problems=list(problems),
    )


def test_arrange_groups_children_by_first_line_and_keeps_retail_lines_by_product():
    moq = Problem("below_moq", {"moq": 10, "more": 7})
    polo = group(1, [priced(3, "Bo"), priced(1, "Ai", quantity=2), priced(5)])
    shorts = group(2, [priced(2, "Ai"), priced(4, "Bo")], problems=[moq])
    layout = arrange(CartPricing("CNY", [polo, shorts], total_amount=0, item_count=0))

    assert [(kit.student_name, [k.line.line_id for k in kit.lines]) for kit in layout.children] == [
        ("Ai", [1, 2]),
        ("Bo", [3, 4]),
    ]
    assert [kit.quantity for kit in layout.children] == [3, 2]
    assert [kit.amount for kit in layout.children] == [300, 200]
    assert [(g.product_id, [line.line_id for line in g.lines]) for g in layout.groups] == [(1, [5])]
    # A product bought only for children keeps its problem, named, above the kits.
    assert [(item.group.product_id, item.problem) for item in layout.kit_problems] == [(2, moq)]
