"""What happens next, on the order's page (issue 16): where and from when to collect a
pick-up, the school's delivery round for delivery to school, the expected dispatch day
for the courier."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shop.checkout.next_steps import (
    DISPATCH_WORKING_DAYS,
    NextSteps,
    add_working_days,
    next_steps,
)
from shop.orders.access import SESSION_KEY
from shop.orders.models import Order, OrderLine
from tests.order_factories import make_order
from tests.school_factories import make_school

ZONE = ZoneInfo("Asia/Shanghai")
# Wednesday 2 December 2026, 10:00 in the factory's zone.
WEDNESDAY = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def order(method="courier", *, paid=True, lines=(), **fields) -> Order:
    return Order(
        number="SF-X",
        delivery_method=method,
        state=fields.pop("state", "open"),
        fulfilment_status=fields.pop("fulfilment_status", "unfulfilled"),
        paid_at=WEDNESDAY if paid else None,
        lines=list(lines),
        **fields,
    )


def line(made_to_order=False, lead_time_days=None) -> OrderLine:
    return OrderLine(sku="S", made_to_order=made_to_order, lead_time_days=lead_time_days)


def test_working_days_skip_the_weekend():
    friday = date(2026, 12, 4)
    assert add_working_days(date(2026, 12, 2), 2) == friday
    assert add_working_days(friday, 1) == date(2026, 12, 7)  # Monday
    assert add_working_days(date(2026, 12, 5), 2) == date(2026, 12, 8)  # Saturday → Tuesday


def test_stock_items_are_ready_two_working_days_after_payment():
    assert DISPATCH_WORKING_DAYS == 2
    steps = next_steps(order("pickup", lines=[line()]), now=WEDNESDAY, zone=ZONE)
    assert steps == NextSteps("pickup", date(2026, 12, 4), paid=True)
    steps = next_steps(order("courier", lines=[line()]), now=WEDNESDAY, zone=ZONE)
    assert steps == NextSteps("courier", date(2026, 12, 4), paid=True)


def test_made_to_order_lines_wait_for_their_lead_time():
    lines = [line(), line(made_to_order=True, lead_time_days=20)]
    steps = next_steps(order("courier", lines=lines), now=WEDNESDAY, zone=ZONE)
    assert steps is not None and steps.day == date(2026, 12, 22)


def test_an_unpaid_order_counts_from_today():
    later = WEDNESDAY + timedelta(days=7)
    steps = next_steps(order("pickup", paid=False, lines=[line()]), now=later, zone=ZONE)
    assert steps == NextSteps("pickup", date(2026, 12, 11), paid=False)


@pytest.mark.parametrize(
    ("state", "fulfilment"),
    [
        ("cancelled", "unfulfilled"),
        ("open", "shipped"),
        ("open", "delivered"),
        ("closed", "delivered"),
    ],
)
def test_nothing_to_forecast_once_it_is_over_or_on_its_way(state, fulfilment):
    done = order(lines=[line()], state=state, fulfilment_status=fulfilment)
    assert next_steps(done, now=WEDNESDAY, zone=ZONE) is None


# --- on the order's page -----------------------------------------------------------------


def page_of(client, order_: Order) -> str:
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = [order_.number]
    response = client.get(f"/orders/{order_.number}")
    assert response.status_code == 200
    return response.text


def block(page: str) -> str:
    return page.split('data-testid="next-steps"')[1].split("</section>")[0]


def test_a_pickup_order_says_where_and_from_when_to_collect(app, client, session):
    placed = make_order(session)
    placed.paid_at = WEDNESDAY
    session.commit()
    text = block(page_of(client, placed))
    assert 'data-method="pickup" data-date="2026-12-04"' in text
    assert app.config["FACTORY_PICKUP_ADDRESS"] in text
    assert "Collect your order at the factory from" in text


def test_a_school_order_names_the_round_and_the_school(client, session):
    school = make_school(session, name="Marina Bay School", rounds_in_days=(12,))
    delivery_round = school.rounds[0]
    placed = make_order(session, school_id=school.id, delivery_round_id=delivery_round.id)
    placed.delivery_method = "school"
    session.commit()
    text = block(page_of(client, placed))
    assert f'data-method="school" data-date="{delivery_round.delivery_date.isoformat()}"' in text
    assert "We deliver your order to Marina Bay School with the school’s delivery round of" in text


def test_a_courier_order_gives_the_expected_dispatch_day(client, session):
    placed = make_order(session, country="CN", line1="1 Road")
    placed.delivery_method = "courier"
    placed.paid_at = WEDNESDAY
    session.commit()
    text = block(page_of(client, placed))
    assert 'data-method="courier" data-date="2026-12-04"' in text
    assert "We expect to dispatch your order by" in text


def test_a_shipped_order_has_no_forecast(client, session):
    placed = make_order(session, fulfilment_status="shipped")
    placed.delivery_method = "courier"
    session.commit()
    assert 'data-testid="next-steps"' not in page_of(client, placed)


def test_the_order_page_never_writes_none_into_an_attribute(client, session):
    placed = make_order(session)
    session.commit()
    page = page_of(client, placed)
    assert '="None"' not in page


def test_the_thank_you_page_after_payment_says_what_happens_next(app, client, session):
    placed = make_order(session)
    placed.paid_at = WEDNESDAY
    session.commit()
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = [placed.number]
    page = client.get(f"/checkout/pay/{placed.number}").text

    assert 'data-testid="payment-confirmed"' in page  # the thank-you stage
    text = block(page)
    assert 'data-method="pickup" data-date="2026-12-04"' in text
    assert app.config["FACTORY_PICKUP_ADDRESS"] in text


def test_an_unpaid_order_pay_page_has_no_forecast(client, session):
    placed = make_order(session, payment_status="unpaid")
    session.commit()
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = [placed.number]
    page = client.get(f"/checkout/pay/{placed.number}").text

    assert 'data-testid="next-steps"' not in page
