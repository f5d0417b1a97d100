"""Stock over a whole roster: every line of a variant added up against what is available
(on hand less what others hold), made-to-order products available with their ready date,
and the bursar's choice for each variant that is short: another colour, made to order,
or leaving those lines out. The order placed is the preview after the choices."""

from datetime import date

import pytest
import sqlalchemy as sa

from shop.catalog.models import Variant
from shop.db import utcnow
from shop.orders.lifecycle import StockRanOut
from shop.orders.models import OrderLine
from shop.schools.ordering import place_roster_order
from shop.schools.roster import (
    LEAVE_OUT,
    MADE_TO_ORDER,
    build_preview,
    clean_choices,
)
from tests.factories import make_product
from tests.school_factories import add_item, make_school

HEADER = "student,class,gender,polo,cap"
TODAY = date(2026, 12, 5)


@pytest.fixture
def school(session):
    school = make_school(
        session,
        slug="hillside",
        grades=(),
        verified=True,
        invoice_terms_days=30,
        credit_limit_amount=10_000_000,
    )
    # The polo: 130 white has 1 on the shelf (and 1 more held by another order), navy 130
    # has 5; the factory can make it in 21 days.
    polo = make_product(
        session,
        slug="polo",
        name="Summer polo",
        name_zh="夏季Polo衫",
        sizes=("130", "140"),
        colours=("white", "navy", "sky"),
        on_hand=5,
        lead_time_days=21,
        tiers=((1, 1000),),
    )
    cap = make_product(
        session,
        slug="cap",
        name="Cap",
        sizes=("M",),
        made_to_order=True,
        lead_time_days=10,
        on_hand=0,
        tiers=((1, 500),),
    )
    add_item(session, school, polo, position=1)
    add_item(session, school, cap, position=2, required=False)
    white = variant(session, "polo", "130", "white")
    white.on_hand, white.allocated = 2, 1
    sky = variant(session, "polo", "130", "sky")
    sky.on_hand = 1
    session.commit()
    return school


def variant(session, slug, size, colour) -> Variant:
    return session.scalars(
        sa.select(Variant)
        .join(Variant.product)
        .where(Variant.size == size, Variant.colour == colour, Variant.product.has(slug=slug))
    ).one()


def roster(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


THREE_WHITE = roster(
    "Ann Lee,1A,girls,130/white,",
    "Bo Wang,1A,boys,130/white,",
    "Cy Chen,1B,boys,130/white,M",
)


def preview(session, school, text, choices=None):
    return build_preview(session, school, text, choices=choices, today=TODAY)


def test_lines_of_one_variant_are_added_up_over_the_whole_roster(session, school):
    result = preview(session, school, THREE_WHITE)

    assert not result.ok and result.problems == []
    [shortage] = result.shortages
    white = variant(session, "polo", "130", "white")
    assert (shortage.variant_id, shortage.needed, shortage.available, shortage.short) == (
        white.id,
        3,
        1,  # 2 on hand, 1 held by another order
        2,
    )
    # named by item, size and colour; the first come are served, the others are short
    assert (shortage.item_name, shortage.size, shortage.colour) == ("Summer polo", "130", "white")
    assert [(s.row, s.name, s.class_name) for s in shortage.students] == [
        (3, "Bo Wang", "1A"),
        (4, "Cy Chen", "1B"),
    ]


def test_a_roster_within_stock_has_no_shortage(session, school):
    result = preview(session, school, roster("Ann Lee,1A,girls,130/white,"))

    assert result.ok and result.shortages == []


def test_made_to_order_products_are_available_with_their_ready_date(session, school):
    # five caps, none on the shelf
    result = preview(session, school, roster(*(f"Kid {n},1A,boys,140,M" for n in range(5))))

    assert result.ok and result.shortages == []
    cap = variant(session, "cap", "M", "navy")
    assert result.ready_dates == {cap.product_id: date(2026, 12, 15)}


def test_the_choices_offered_are_colours_with_enough_stock_and_made_to_order(session, school):
    [shortage] = preview(session, school, THREE_WHITE).shortages

    navy = variant(session, "polo", "130", "navy")
    # sky has 1 (not enough for the 2 short); navy has 5
    assert [(o.variant_id, o.colour, o.available) for o in shortage.colours] == [
        (navy.id, "navy", 5)
    ]
    assert shortage.lead_time_days == 21 and shortage.ready_on == date(2026, 12, 26)


def test_a_colour_the_rest_of_the_roster_already_takes_is_not_offered(session, school):
    text = roster(
        "Ann Lee,1A,girls,130/white,",
        "Bo Wang,1A,boys,130/white,",
        "Cy Chen,1B,boys,130/white,",
        *(f"Navy {n},2A,boys,130/navy," for n in range(4)),
    )

    [shortage] = preview(session, school, text).shortages

    assert shortage.colours == []  # navy: 5 less the 4 the roster takes, 1 < 2


def test_choosing_another_colour_changes_the_short_lines_only(session, school):
    navy = variant(session, "polo", "130", "navy")
    white = variant(session, "polo", "130", "white")
    key = f"stock-{white.id}"

    result = preview(session, school, THREE_WHITE, {key: f"colour:{navy.id}"})

    assert result.ok
    assert result.choices == {key: f"colour:{navy.id}"}
    lines = {s.name: s.lines[0] for s in result.students}
    assert lines["Ann Lee"].variant_id == white.id
    assert (lines["Bo Wang"].variant_id, lines["Bo Wang"].instead_of) == (navy.id, "white")
    assert lines["Cy Chen"].colour == "navy" and lines["Cy Chen"].sku == navy.sku
    assert result.pieces == 4  # three polos and a cap


def test_choosing_made_to_order_keeps_the_lines_without_stock(session, school):
    white = variant(session, "polo", "130", "white")

    result = preview(session, school, THREE_WHITE, {f"stock-{white.id}": MADE_TO_ORDER})

    assert result.ok
    assert [s.lines[0].made_to_order for s in result.students] == [False, True, True]


def test_leaving_the_lines_out_drops_them_from_the_order(session, school):
    white = variant(session, "polo", "130", "white")

    result = preview(session, school, THREE_WHITE, {f"stock-{white.id}": LEAVE_OUT})

    assert result.ok
    assert [(s.name, line.product_slug) for s, line in result.left_out] == [
        ("Bo Wang", "polo"),
        ("Cy Chen", "polo"),
    ]
    assert [len(s.lines) for s in result.students] == [1, 0, 1]  # Cy keeps the cap
    assert [(t.product_name, t.pieces) for t in result.item_totals] == [
        ("Summer polo", 1),
        ("Cap", 1),
    ]


@pytest.mark.parametrize(
    "choice",
    ["colour:999999", "colour:{sky}", "made_to_order_please", "", "leave_out "],
)
def test_a_choice_not_on_offer_leaves_the_shortage_open(session, school, choice):
    white = variant(session, "polo", "130", "white")
    sky = variant(session, "polo", "130", "sky")

    result = preview(session, school, THREE_WHITE, {f"stock-{white.id}": choice.format(sky=sky.id)})

    assert not result.ok and len(result.unresolved) == 1
    assert [len(s.lines) for s in result.students] == [1, 1, 2]  # nothing changed


def test_made_to_order_is_not_offered_for_a_product_without_a_lead_time(session, school):
    white = variant(session, "polo", "130", "white")
    white.product.lead_time_days = None
    session.commit()

    result = preview(session, school, THREE_WHITE, {f"stock-{white.id}": MADE_TO_ORDER})

    assert result.shortages[0].lead_time_days is None
    assert not result.ok


def test_clean_choices_keeps_only_stock_fields_of_a_sane_size():
    posted = [
        ("stock-12", "leave_out"),
        ("stock-x", "leave_out"),
        ("roster", "..."),
        ("stock-13", "x" * 41),
        ("stock-14", ""),
        ("stock-15", "colour:7"),
    ]

    assert clean_choices(posted) == {"stock-12": "leave_out", "stock-15": "colour:7"}


def test_the_order_placed_matches_the_preview_after_the_choices(session, school):
    navy = variant(session, "polo", "130", "navy")
    white = variant(session, "polo", "130", "white")
    text = roster(
        "Ann Lee,1A,girls,130/white,",
        "Bo Wang,1A,boys,130/white,",
        "Cy Chen,1B,boys,130/white,M",
        "Di Xu,1B,girls,130/sky,",
        "Ed Wu,1B,boys,130/sky,",
    )
    sky = variant(session, "polo", "130", "sky")
    choices = {f"stock-{white.id}": f"colour:{navy.id}", f"stock-{sky.id}": MADE_TO_ORDER}
    result = preview(session, school, text, choices)
    assert result.ok

    order = place_roster_order(
        session,
        school,
        result,
        user=None,
        payment="invoice",
        po_number="PO-1",
        locale="en",
        gateway=None,
        now=utcnow(),
        reservation_minutes=30,
        notes="Deliver to the gym",
    )
    session.commit()

    lines = sorted(
        (line.student_name, line.colour, line.made_to_order, line.allocated)
        for line in session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id))
    )
    assert lines == [
        ("Ann Lee", "white", False, False),  # sold on invoice: no longer held
        ("Bo Wang", "navy", False, False),
        ("Cy Chen", "navy", False, False),
        ("Cy Chen", "navy", True, False),  # the cap: a made-to-order product
        ("Di Xu", "sky", False, False),
        ("Ed Wu", "sky", True, False),  # made to order although the polo is stocked
    ]
    assert order.total_amount == 5 * 1000 + 500 and order.notes == "Deliver to the gym"
    session.expire_all()
    # the shelf gave what the preview said: 1 white, 2 navy, 1 sky (the rest is made)
    assert variant(session, "polo", "130", "white").on_hand == 1
    assert variant(session, "polo", "130", "navy").on_hand == 3
    assert variant(session, "polo", "130", "sky").on_hand == 0


def test_stock_gone_after_the_preview_refuses_the_order_and_writes_nothing(session, school):
    white = variant(session, "polo", "130", "white")
    result = preview(session, school, roster("Ann Lee,1A,girls,130/white,"))
    assert result.ok
    white.allocated = 2  # someone else holds the last one now
    session.commit()

    with pytest.raises(StockRanOut):
        place_roster_order(
            session,
            school,
            result,
            user=None,
            payment="invoice",
            po_number="PO-1",
            locale="en",
            gateway=None,
            now=utcnow(),
            reservation_minutes=30,
        )
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(OrderLine)) == 0


def test_placing_a_preview_with_a_shortage_left_open_names_the_variant(session, school):
    white = variant(session, "polo", "130", "white")
    result = preview(session, school, THREE_WHITE)  # no choice made

    with pytest.raises(StockRanOut) as refused:
        place_roster_order(
            session,
            school,
            result,
            user=None,
            payment="invoice",
            po_number="PO-1",
            locale="en",
            gateway=None,
            now=utcnow(),
            reservation_minutes=30,
        )

    assert (refused.value.sku, refused.value.available) == (white.sku, 1)
