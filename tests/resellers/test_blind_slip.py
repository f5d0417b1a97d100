"""A blind packing slip: the reseller chooses it on their own page; the desk says so, and
the parcel's slip carries the window's name and thank-you line — no factory name,
address or prices. Without the choice, the factory's own slip."""

import re

import pytest
import sqlalchemy as sa

from shop.audit.models import AuditEntry
from shop.orders.models import Shipment, ShipmentLine
from shop.resellers.models import Reseller, ResellerTerms
from tests.accounts.helpers import login
from tests.at_once import send_at_once
from tests.helpers.admin import audits
from tests.helpers.resellers import make_reseller
from tests.helpers.window_rows import window_order
from tests.order_factories import make_order

SLIP = "/account/window/slip"
KEY = "slip-key-0123456789abcdef"


@pytest.fixture
def ann(client, session):
    made = make_reseller(session)
    assert login(client, email="reseller@example.com").status_code == 302
    return made


def terms_of(session, reseller) -> ResellerTerms | None:
    session.expire_all()
    return session.get(ResellerTerms, reseller.id)


def choose(client, blind=True, message="Thank you for shopping with Ann!", key=KEY):
    data = {"slip_message": message, "request_key": key}
    if blind:
        data["blind_slip"] = "y"
    return client.post(SLIP, data=data)


def test_the_reseller_chooses_a_blind_slip(client, session, ann):
    page = client.get("/account/window").text
    assert 'data-testid="slip-form"' in page and 'href="/account/window/dashboard"' in page
    assert choose(client).status_code == 302
    terms = terms_of(session, ann)
    assert (terms.blind_slip, terms.slip_message) == (True, "Thank you for shopping with Ann!")
    [entry] = audits(session, "reseller.slip")
    assert entry.after == {"blind_slip": True, "slip_message": "Thank you for shopping with Ann!"}
    assert (
        choose(client, blind=False, message="", key="another-key-0123456789ab").status_code == 302
    )
    assert terms_of(session, ann).blind_slip is False
    assert len(audits(session, "reseller.slip")) == 2


@pytest.mark.parametrize(
    "data",
    [
        {"blind_slip": "y", "slip_message": "x" * 201, "request_key": KEY},
        {"blind_slip": "y", "slip_message": "ok", "request_key": "short"},
        {"blind_slip": "y", "slip_message": "ok"},
        {"blind_slip": "y", "slip_message": "a\x00b" * 2000, "request_key": KEY},
    ],
)
def test_a_bad_form_changes_nothing(client, session, ann, data):
    response = client.post(SLIP, data=data)
    assert response.status_code in (302, 400)
    assert terms_of(session, ann) is None
    assert audits(session, "reseller.slip") == []


def test_a_suspended_window_cannot_change_its_slip(client, session, ann):
    session.execute(sa.update(Reseller).where(Reseller.id == ann.id).values(status="suspended"))
    session.commit()
    assert choose(client).status_code == 302
    assert terms_of(session, ann) is None


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_form_at_once_saves_once(app, client, session, ann, copies):
    data = {"blind_slip": "y", "slip_message": "Thanks!", "request_key": KEY}
    answers = send_at_once(app, client, copies, "POST", SLIP, data)
    assert [answer.status for answer in answers] == [302] * copies
    assert terms_of(session, ann).blind_slip is True
    assert len(audits(session, "reseller.slip")) == 1


@pytest.fixture
def shipped(session, ann):
    order = window_order(session, ann, delivery_method="courier", line1="1 Dock Road")
    shipment = Shipment(order_id=order.id, carrier="sf_express", tracking_number="SF123")
    shipment.lines.append(ShipmentLine(order_line_id=order.lines[0].id, quantity=2))
    session.add(shipment)
    session.commit()
    return order, shipment


def slip_page(client, sign_in, order, shipment) -> str:
    sign_in("warehouse")
    return client.get(f"/admin/orders/{order.number}/shipments/{shipment.id}/packing-slip").text


def test_without_a_blind_slip_the_factory_packs_as_ever(app, client, sign_in, shipped):
    order, shipment = shipped
    page = slip_page(client, sign_in, order, shipment)
    assert 'data-testid="factory"' in page and app.config["FACTORY_NAME"] in page
    assert 'data-testid="blind-slip"' not in page
    assert 'data-testid="blind-slip-badge"' not in client.get(f"/admin/orders/{order.number}").text


def test_a_blind_slip_speaks_for_the_window(app, client, session, sign_in, ann, shipped):
    order, shipment = shipped
    assert choose(client).status_code == 302
    client.get("/account/logout")
    page = slip_page(client, sign_in, order, shipment)
    slip = page[page.index('data-testid="packing-slip"') :]
    assert 'data-testid="blind-slip"' in slip
    assert "Ann&#39;s picks" in slip and "Thank you for shopping with Ann!" in slip
    assert 'data-testid="factory"' not in slip and app.config["FACTORY_NAME"] not in slip
    assert "data-amount" not in slip and not re.search(r"CN¥|US\$|S\$|¥\s?\d", slip)
    assert re.findall(r'data-testid="slip-line" data-sku="[^"]+" data-quantity="(\d+)"', slip) == [
        "2"
    ]
    desk = client.get(f"/admin/orders/{order.number}").text
    assert 'data-testid="blind-slip-badge"' in desk and "Blind slip" in desk


def test_an_order_outside_the_window_keeps_the_factory_slip(client, session, sign_in, ann):
    assert choose(client).status_code == 302
    order = make_order(session)
    shipment = Shipment(order_id=order.id, carrier="sf_express", tracking_number="SF9")
    shipment.lines.append(ShipmentLine(order_line_id=order.lines[0].id, quantity=1))
    session.add(shipment)
    session.commit()
    client.get("/account/logout")
    page = slip_page(client, sign_in, order, shipment)
    assert 'data-testid="factory"' in page and 'data-testid="blind-slip"' not in page


def test_the_audit_names_the_window(session, client, ann):
    assert choose(client).status_code == 302
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "reseller.slip"))
    assert (entry.target_type, entry.target_id) == ("reseller", str(ann.id))
