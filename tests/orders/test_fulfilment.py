"""After payment: production, partial and full shipments, delivery, estimated dates and
emails sent exactly once — the rules, without HTTP."""

from datetime import timedelta

import pytest

from shop.orders import lifecycle, transitions
from shop.orders.carriers import tracking_url
from tests.accounts.helpers import make_user
from tests.order_factories import make_order


@pytest.fixture
def db(app, session):
    with app.test_request_context():
        yield session


def kinds(order):
    return [event.kind for event in order.events]


def test_a_partial_shipment_then_the_rest(db, outbox):
    order = make_order(db, lines=(("A", 3, 1000), ("B", 2, 1000)))
    line_a, line_b = order.lines
    first = lifecycle.ship(
        db, order, {line_a.id: 2}, carrier="sf_express", tracking_number="SF1234567890"
    )
    assert order.fulfilment_status == "partially_shipped"
    assert lifecycle.unshipped_quantities(order) == {line_a.id: 1, line_b.id: 2}
    second = lifecycle.ship(
        db, order, {line_a.id: 1, line_b.id: 2}, carrier="yamato", tracking_number="4444-5555"
    )
    assert order.fulfilment_status == "shipped"
    assert lifecycle.unshipped_quantities(order) == {line_a.id: 0, line_b.id: 0}
    assert kinds(order) == ["partially_shipped", "shipped"]
    assert [s.id for s in order.shipments] == [first.id, second.id]
    assert outbox() == []  # emails wait for the commit
    db.commit()
    mails = outbox()
    assert len(mails) == 2 and all("on its way" in m["Subject"] for m in mails)
    assert "SF1234567890" in mails[0].get_body(("plain",)).get_content()
    lifecycle.mark_delivered(db, order)
    db.commit()
    assert order.fulfilment_status == "delivered" and len(outbox()) == 3


@pytest.mark.parametrize(
    ("quantities", "carrier", "tracking", "reason"),
    [
        ({}, "sf_express", "SF1", "nothing"),
        ({"A": 0}, "sf_express", "SF1", "nothing"),
        ({"A": 4}, "sf_express", "SF1", "quantity"),
        ({"A": -1}, "sf_express", "SF1", "quantity"),
        ({"X": 1}, "sf_express", "SF1", "quantity"),
        ({"A": 1}, "pigeon", "SF1", "carrier"),
        ({"A": 1}, "sf_express", "  ", "tracking"),
        ({"A": 1}, "other", "", "carrier"),  # "other" needs the carrier's name
    ],
)
def test_bad_shipments_are_refused_and_change_nothing(db, quantities, carrier, tracking, reason):
    order = make_order(db, lines=(("A", 3, 1000),))
    ids = {"A": order.lines[0].id, "X": 999_999}
    with pytest.raises(lifecycle.InvalidShipment) as refused:
        lifecycle.ship(
            db,
            order,
            {ids[key]: q for key, q in quantities.items()},
            carrier=carrier,
            tracking_number=tracking,
        )
    assert refused.value.reason == reason
    assert order.shipments == [] and order.fulfilment_status == "unfulfilled"


def test_unpaid_or_cancelled_orders_are_not_shipped(db):
    for order in (
        make_order(db, payment_status="unpaid"),
        make_order(db, state="cancelled"),
    ):
        with pytest.raises(lifecycle.CannotFulfil):
            lifecycle.ship(db, order, {order.lines[0].id: 1}, carrier="dhl", tracking_number="1")


def test_production_emails_only_customers_who_asked(db, outbox):
    keen = make_user(db, email="keen@example.com")
    keen.production_updates = True
    quiet = make_user(db, email="quiet@example.com")
    for user in (keen, quiet):
        order = make_order(db, user=user, email=user.email)
        lifecycle.start_production(db, order)
        lifecycle.mark_ready(db, order)
        assert kinds(order) == ["in_production", "ready"]
    db.commit()
    assert [m["To"] for m in outbox()] == ["keen@example.com"]


def test_the_same_event_never_emails_twice(db, outbox):
    from shop.orders.notifications import notify

    order = make_order(db)
    assert notify(db, order, "paid") is True
    assert notify(db, order, "paid") is False
    db.commit()
    assert len(outbox()) == 1


def test_an_email_about_a_change_that_was_rolled_back_never_goes_out(db, outbox):
    order = make_order(db)
    db.commit()
    line_id = order.lines[0].id
    lifecycle.ship(db, order, {line_id: 1}, carrier="dhl", tracking_number="D1")
    db.rollback()
    db.commit()
    assert outbox() == []

    lifecycle.ship(db, order, {line_id: 1}, carrier="dhl", tracking_number="D2")
    db.commit()
    [mail] = outbox()
    assert "D2" in mail.get_body(("plain",)).get_content()


def test_made_to_order_lines_have_an_estimated_ship_date(db):
    order = make_order(db, made_to_order=True, lead_time_days=21, paid_days_ago=1)
    [line] = order.lines
    assert lifecycle.estimated_ship_date(line, order) == (order.paid_at + timedelta(days=21)).date()
    stocked = make_order(db)
    assert lifecycle.estimated_ship_date(stocked.lines[0], stocked) is None
    unpaid = make_order(db, made_to_order=True, lead_time_days=21, payment_status="unpaid")
    assert lifecycle.estimated_ship_date(unpaid.lines[0], unpaid) is None


def test_internal_notes_stay_internal(db):
    order = make_order(db)
    lifecycle.add_note(db, order, "  called the school  ", actor_user_id=None)
    [event] = order.events
    assert (event.kind, event.note, event.visible_to_customer) == (
        "note",
        "called the school",
        False,
    )


def test_customers_may_cancel_only_until_production(db):
    order = make_order(db, payment_status="unpaid")
    assert lifecycle.can_customer_cancel(order)
    transitions.move(db, order, "fulfilment_status", "in_production")
    assert not lifecycle.can_customer_cancel(order)
    with pytest.raises(lifecycle.CannotCancel):
        lifecycle.cancel(db, order, gateway=None, by_customer=True)


@pytest.mark.parametrize(
    ("carrier", "number", "expected"),
    [
        ("sf_express", "SF123", "https://www.sf-express.com/chn/en/waybill/waybill-detail/SF123"),
        ("yamato", "4444 5555", "tneko?number01=4444%205555"),
        ("singpost", "A/B", "trackingid=A%2FB"),
        ("other", "123", None),
        ("dhl", "", None),
    ],
)
def test_tracking_links_per_carrier(carrier, number, expected):
    url = tracking_url(carrier, number)
    if expected is None:
        assert url is None
    else:
        assert url.endswith(expected) or url == expected


def test_two_people_shipping_the_same_order_at_once_take_turns(app, session):
    """Both try to ship everything that is left: one parcel goes, the other is told there
    is nothing left of that line (no over-shipment)."""
    import threading

    from sqlalchemy.orm import Session

    from shop.orders.models import Order

    order = make_order(session, lines=(("A", 3, 1000),))
    session.commit()
    order_id, line_id = order.id, order.lines[0].id
    start = threading.Barrier(2)
    outcomes = []

    def ship_all(tracking):
        with app.test_request_context(), Session(app.extensions["sa_engine"]) as db:
            mine = db.get(Order, order_id)
            _ = mine.lines, mine.shipments
            start.wait()
            try:
                lifecycle.ship(db, mine, {line_id: 3}, carrier="dhl", tracking_number=tracking)
                db.commit()
                outcomes.append("shipped")
            except lifecycle.InvalidShipment as error:
                db.rollback()
                outcomes.append(error.reason)

    threads = [threading.Thread(target=ship_all, args=(f"T{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["quantity", "shipped"]
    session.expire_all()
    fresh = session.get(Order, order_id)
    assert len(fresh.shipments) == 1 and fresh.fulfilment_status == "shipped"


def test_the_paid_email_of_a_whole_school_lists_the_first_lines_and_counts_the_rest(db, outbox):
    from shop.orders.notifications import notify

    order = make_order(db, lines=[(f"POLO-{n}", 1, 8900) for n in range(35)])
    order.lines[0].student_name, order.lines[0].class_name = "Li Ming", "3A"
    notify(db, order, "paid")
    db.commit()

    [mail] = outbox()
    text = mail.get_body(("plain",)).get_content()
    assert "Product POLO-29" in text and "Product POLO-30" not in text
    assert "and 5 more lines" in text
    assert "Li Ming 3A" in text
    assert "and 5 more lines" in mail.get_body(("html",)).get_content()
