"""One order on the desk: moving it from production to delivery, shipping in parts, bad
shipments, internal notes, the message thread, the packing slip and CSRF."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.orders import lifecycle, messages
from shop.orders.models import OrderMessage
from tests.accounts.helpers import make_user
from tests.helpers.desk import flashes, reload, snapshot
from tests.helpers.queries import recording_queries
from tests.order_factories import make_order


def subjects(outbox) -> list[str]:
    return [message["Subject"] for message in outbox()]


def follow(client, response) -> str:
    assert response.status_code == 303, response.text
    return client.get(response.headers["Location"]).text


@pytest.fixture
def order(session):
    """Paid, two stocked lines (3 × A, 2 × B), for a customer who wants production news."""
    customer = make_user(session, email="parent@example.com", production_updates=True)
    made = make_order(
        session,
        user=customer,
        email=customer.email,
        lines=(("POLO-A", 3, 8900), ("SKIRT-B", 2, 12000)),
    )
    session.commit()
    return made


def test_an_order_goes_from_production_to_delivery_through_the_desk(
    app, client, sign_in, order, outbox
):
    owner = sign_in("owner")
    url = f"/admin/orders/{order.number}"
    line_a, line_b = (line.id for line in order.lines)

    page = follow(client, client.post(f"{url}/production"))
    assert flashes(page) == ["The order is in production."]
    again = follow(client, client.post(f"{url}/production"))
    assert flashes(again) == ["This order is already “In production”."]

    follow(client, client.post(f"{url}/ready"))
    assert reload(app, order.number).fulfilment_status == "ready"

    first = {"carrier": "sf_express", "tracking_number": "SF1234567890"}
    page = follow(client, client.post(f"{url}/ship", data={**first, f"qty-{line_a}": "2"}))
    assert reload(app, order.number).fulfilment_status == "partially_shipped"
    # The form now offers what is left: 1 × A and 2 × B.
    assert re.search(rf'name="qty-{line_a}"[^>]*value="1"', page)
    assert re.search(rf'name="qty-{line_b}"[^>]*value="2"', page)
    assert 'href="https://www.sf-express.com/chn/en/waybill/waybill-detail/SF1234567890"' in page

    rest = {"carrier": "yamato", "tracking_number": "4444-5555"}
    data = {**rest, f"qty-{line_a}": "1", f"qty-{line_b}": "2"}
    follow(client, client.post(f"{url}/ship", data=data))
    assert reload(app, order.number).fulfilment_status == "shipped"

    page = follow(client, client.post(f"{url}/delivered"))
    assert flashes(page) == ["The order is marked delivered."]
    again = follow(client, client.post(f"{url}/delivered"))
    assert flashes(again) == ["This order is already “Delivered”."]

    final = reload(app, order.number)
    assert final.fulfilment_status == "delivered"
    assert [(e.kind, e.actor_user_id, e.visible_to_customer) for e in final.events] == [
        ("in_production", owner.id, True),
        ("ready", owner.id, True),
        ("partially_shipped", owner.id, True),
        ("shipped", owner.id, True),
        ("delivered", owner.id, True),
    ]
    assert [
        (s.carrier, [(i.order_line_id, i.quantity) for i in s.lines]) for s in final.shipments
    ] == [
        ("sf_express", [(line_a, 2)]),
        ("yamato", [(line_a, 1), (line_b, 2)]),
    ]
    number = order.number
    assert subjects(outbox) == [
        f"Order {number} is being made",
        f"Order {number} is on its way",
        f"Order {number} is on its way",
        f"Order {number} was delivered",
    ]
    assert {message["To"] for message in outbox()} == {"parent@example.com"}
    page = client.get(url).text
    assert re.findall(r'data-testid="event" data-kind="([a-z_]+)"', page) == [
        "in_production",
        "ready",
        "partially_shipped",
        "shipped",
        "delivered",
    ]
    assert page.count('data-testid="packing-slip-link"') == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"carrier": "sf_express", "tracking_number": "", "qty-A": "1"},
            "Enter the tracking number.",
        ),
        (
            {"carrier": "sf_express", "tracking_number": "SF1", "qty-A": "4"},
            "Ship at most what is left of each line, and no negative quantities.",
        ),
        (
            {"carrier": "sf_express", "tracking_number": "SF1", "qty-A": "-1"},
            "Ship at most what is left of each line, and no negative quantities.",
        ),
        (
            {"carrier": "pigeon", "tracking_number": "SF1", "qty-A": "1"},
            "Choose a carrier; for “Other”, also write the carrier's name.",
        ),
        (
            {"carrier": "other", "tracking_number": "123", "qty-A": "1"},
            "Choose a carrier; for “Other”, also write the carrier's name.",
        ),
        (
            {"carrier": "dhl", "tracking_number": "D1", "qty-A": "0", "qty-B": "0"},
            "Enter a quantity for at least one line.",
        ),
        (
            {"carrier": "dhl", "tracking_number": "D1", "qty-A": "1.5"},
            "Quantities are whole numbers.",
        ),
        (
            {"carrier": "dhl", "tracking_number": "D1", "qty-A": "two"},
            "Quantities are whole numbers.",
        ),
        (
            {"carrier": "dhl", "tracking_number": "D" * 65, "qty-A": "1"},
            "Check the shipment: some fields are too long.",
        ),
    ],
)
def test_a_bad_shipment_is_refused_in_words_and_changes_nothing(
    app, client, sign_in, order, outbox, fields, message
):
    sign_in("warehouse")
    ids = {"A": order.lines[0].id, "B": order.lines[1].id}
    data = {
        re.sub(r"qty-([AB])", lambda m: f"qty-{ids[m.group(1)]}", k): v for k, v in fields.items()
    }
    before = snapshot(app, order.number)
    response = client.post(f"/admin/orders/{order.number}/ship", data=data)
    assert response.status_code == 400
    assert flashes(response.text) == [message]
    assert 'data-testid="ship-form"' in response.text  # shown again, with what was typed
    assert snapshot(app, order.number) == before
    assert outbox() == []


def test_shipping_with_another_carrier_needs_its_name_but_no_tracking_number(
    app, client, sign_in, order
):
    sign_in("warehouse")
    line_a = order.lines[0].id
    data = {"carrier": "other", "custom_carrier": "Foshan Bike Courier", f"qty-{line_a}": "3"}
    page = follow(client, client.post(f"/admin/orders/{order.number}/ship", data=data))
    [shipment] = reload(app, order.number).shipments
    assert (shipment.carrier, shipment.carrier_name, shipment.tracking_number) == (
        "other",
        "Foshan Bike Courier",
        "",
    )
    assert 'data-testid="tracking-link"' not in page
    assert "Foshan Bike Courier" in page


def test_an_unpaid_order_cannot_be_produced_or_shipped(app, client, session, sign_in):
    unpaid = make_order(session, payment_status="unpaid")
    session.commit()
    sign_in("owner")
    page = follow(client, client.post(f"/admin/orders/{unpaid.number}/production"))
    assert flashes(page) == ["This order is not paid, or no longer open."]
    response = client.post(
        f"/admin/orders/{unpaid.number}/ship",
        data={"carrier": "dhl", "tracking_number": "1", f"qty-{unpaid.lines[0].id}": "1"},
    )
    assert response.status_code == 400
    assert reload(app, unpaid.number).fulfilment_status == "unfulfilled"
    assert 'data-testid="production-form"' not in page and 'data-testid="ship-form"' not in page


def test_an_unknown_order_is_a_404_for_staff(client, sign_in):
    sign_in("owner")
    assert client.get("/admin/orders/SF-NOPE0-NOPE0").status_code == 404
    assert client.post("/admin/orders/SF-NOPE0-NOPE0/production").status_code == 404


def test_an_internal_note_is_on_the_timeline_but_not_for_the_customer(
    app, client, sign_in, order, outbox
):
    workshop = sign_in("workshop")
    url = f"/admin/orders/{order.number}"
    page = follow(
        client, client.post(f"{url}/note", data={"note": "  School asked for blue piping  "})
    )
    [event] = reload(app, order.number).events
    assert (event.kind, event.note, event.visible_to_customer, event.actor_user_id) == (
        "note",
        "School asked for blue piping",
        False,
        workshop.id,
    )
    assert re.search(r'data-kind="note" data-visible="false"', page)
    assert "Internal" in page and "School asked for blue piping" in page
    assert outbox() == []

    refused = client.post(f"{url}/note", data={"note": "   "})
    assert refused.status_code == 400
    assert len(reload(app, order.number).events) == 1


def test_customer_messages_are_counted_until_someone_who_answers_marks_them_read(
    app, client, session, sign_in, order, outbox
):
    service = make_user(session, email="service@factory.example", role="service", name="Mei")
    other = make_order(session)
    session.commit()
    with app.test_request_context():
        messages.post_customer_message(session, order, "Can it come before Monday?", user_id=None)
        messages.post_customer_message(session, order, "And in size 140?", user_id=None)
        messages.post_customer_message(session, other, "Where is my order?", user_id=None)
        session.commit()
    assert len(outbox()) == 3  # the factory heard about each (the service role answers)

    sign_in("workshop")
    listing = client.get("/admin/orders").text
    assert re.search(
        rf'data-number="{order.number}".*?data-testid="unread-count" data-count="2"', listing, re.S
    )
    assert 'data-testid="unread-total" data-count="3"' in listing
    dashboard = client.get("/admin/").text
    assert 'data-testid="unread-messages" data-count="3" data-orders="2"' in dashboard
    workshop_page = client.get(f"/admin/orders/{order.number}").text  # the workshop only looks
    assert 'data-testid="mark-read"' not in workshop_page
    assert client.post(f"/admin/orders/{order.number}/messages/read").status_code == 403
    assert messages.unread_counts(session) == {order.id: 2, other.id: 1}

    sign_in("service")
    page = client.get(f"/admin/orders/{order.number}").text
    assert page.count('data-testid="new-message"') == 2
    assert 'data-testid="mark-read"' in page
    assert messages.unread_counts(session) == {order.id: 2, other.id: 1}  # GET writes nothing
    read = client.post(f"/admin/orders/{order.number}/messages/read")
    assert read.status_code == 303
    assert messages.unread_counts(session) == {other.id: 1}
    assert client.get(f"/admin/orders/{order.number}").text.count('data-testid="new-message"') == 0
    assert (
        'data-testid="unread-messages" data-count="1" data-orders="1"' in client.get("/admin/").text
    )

    reply = "Yes: it leaves on Friday.\n<b>Size 140</b> is in stock."
    page = follow(client, client.post(f"/admin/orders/{order.number}/reply", data={"body": reply}))
    assert flashes(page) == ["Your answer was emailed to parent@example.com."]
    assert "&lt;b&gt;Size 140&lt;/b&gt;" in page and "<b>Size 140</b>" not in page
    thread = session.scalars(
        sa.select(OrderMessage).where(OrderMessage.order_id == order.id).order_by(OrderMessage.id)
    ).all()
    assert [(m.from_staff, m.author_user_id) for m in thread] == [
        (False, None),
        (False, None),
        (True, service.id),
    ]
    to_customer = [m for m in outbox() if m["To"] == "parent@example.com"]
    assert len(to_customer) == 1
    assert "it leaves on Friday" in to_customer[0].get_body(("plain",)).get_content()


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_an_empty_or_too_long_answer_is_refused(app, client, sign_in, order, outbox, body):
    sign_in("service")
    response = client.post(f"/admin/orders/{order.number}/reply", data={"body": body})
    assert response.status_code == 400
    assert flashes(response.text) == ["Your answer was not sent."]
    assert reload(app, order.number).messages == []
    assert outbox() == []


def test_the_packing_slip_lists_that_shipments_lines_and_no_prices(
    app, client, session, sign_in, order
):
    line_a, line_b = order.lines
    order.delivery_method, order.recipient, order.country = "courier", "Li Wei", "CN"
    order.city, order.line1, order.postcode = "Foshan", "18 Jihua Road", "528000"
    with app.test_request_context():
        first = lifecycle.ship(
            session, order, {line_a.id: 2}, carrier="sf_express", tracking_number="SF77"
        )
        second = lifecycle.ship(
            session, order, {line_a.id: 1, line_b.id: 2}, carrier="dhl", tracking_number="D9"
        )
    session.commit()
    sign_in("warehouse")
    slip = client.get(f"/admin/orders/{order.number}/shipments/{first.id}/packing-slip")
    assert slip.status_code == 200
    rows = re.findall(
        r'data-testid="slip-line" data-sku="([^"]+)" data-quantity="(\d+)"', slip.text
    )
    assert rows == [("POLO-A", "2")]
    assert "SKIRT-B" not in slip.text
    assert "18 Industrial Road, Foshan" in slip.text  # FACTORY_PICKUP_ADDRESS
    assert "18 Jihua Road" in slip.text and "SF77" in slip.text
    assert 'data-testid="price"' not in slip.text and "89.00" not in slip.text
    rows = re.findall(
        r'data-testid="slip-line" data-sku="([^"]+)" data-quantity="(\d+)"',
        client.get(f"/admin/orders/{order.number}/shipments/{second.id}/packing-slip").text,
    )
    assert rows == [("POLO-A", "1"), ("SKIRT-B", "2")]

    elsewhere = make_order(session)
    session.commit()
    assert (
        client.get(
            f"/admin/orders/{elsewhere.number}/shipments/{first.id}/packing-slip"
        ).status_code
        == 404
    )


def test_the_order_page_shows_estimated_dates_payments_and_shipped_quantities(
    client, session, sign_in
):
    made = make_order(session, made_to_order=True, lead_time_days=21, paid_days_ago=2)
    session.commit()
    sign_in("workshop")
    page = client.get(f"/admin/orders/{made.number}").text
    expected = (made.paid_at + timedelta(days=21)).date().isoformat()
    assert f'data-testid="estimated-ship-date" data-date="{expected}"' in page
    assert 'data-testid="payment" data-status="succeeded"' in page
    assert "pi_test_" in page
    assert re.search(r'data-testid="order-line"[^>]*data-quantity="2" data-shipped="0"', page)


def test_the_order_page_takes_the_same_few_queries_however_much_happened(
    app, client, session, sign_in, order
):
    sign_in("owner")
    line_a, line_b = order.lines

    def happen(parcels: dict[int, int], tracking: str):
        with app.test_request_context():
            lifecycle.ship(session, order, parcels, carrier="dhl", tracking_number=tracking)
            lifecycle.add_note(session, order, f"note {tracking}", actor_user_id=None)
            messages.post_customer_message(session, order, f"hello {tracking}", user_id=None)
        session.commit()

    def reads_for_the_page() -> int:
        with recording_queries(app) as statements:
            assert client.get(f"/admin/orders/{order.number}").status_code == 200
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    happen({line_a.id: 1}, "1")
    few = reads_for_the_page()
    happen({line_a.id: 1, line_b.id: 1}, "2")
    happen({line_a.id: 1, line_b.id: 1}, "3")
    assert reads_for_the_page() == few <= 12


def test_a_post_without_the_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        make_user(session, email="boss@factory.example", role="owner")
        order = make_order(session)
        session.commit()
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account/login").text)[1]
    client.post(
        "/account/login",
        data={
            "email": "boss@factory.example",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    url = f"/admin/orders/{order.number}"
    before = snapshot(app, order.number)
    for action in ("production", "note", "cancel"):
        response = client.post(f"{url}/{action}", data={"note": "x", "confirm": "y"})
        assert response.status_code == 400
        assert "Form expired" in response.text
    assert snapshot(app, order.number) == before
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text)[1]
    assert client.post(f"{url}/production", data={"csrf_token": token}).status_code == 303
    assert reload(app, order.number).fulfilment_status == "in_production"


def test_every_id_on_the_order_page_is_unique(client, session, sign_in, order):
    sign_in("owner")  # every form on the page
    page = client.get(f"/admin/orders/{order.number}").text
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
