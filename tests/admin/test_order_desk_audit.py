"""Every order-desk action that changes an order writes an audit row (who, what, before
and after); a refused action writes none."""

import sqlalchemy as sa

from shop.audit.models import AuditEntry
from tests.accounts.helpers import make_user
from tests.order_factories import make_order


def audit_rows(session):
    session.expire_all()
    return session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()


def test_desk_actions_are_audited_with_before_and_after(client, session, sign_in):
    customer = make_user(session, email="parent@example.com")
    order = make_order(session, user=customer, email=customer.email, lines=(("A", 2, 8900),))
    session.commit()
    manager = sign_in("manager")
    url = f"/admin/orders/{order.number}"
    [line_id] = [line.id for line in order.lines]

    client.post(f"{url}/production")
    client.post(f"{url}/ready")
    client.post(
        f"{url}/ship", data={"carrier": "dhl", "tracking_number": "JD01", f"qty-{line_id}": "2"}
    )
    client.post(f"{url}/delivered")
    client.post(f"{url}/note", data={"note": "Left at the school gate"})

    rows = audit_rows(session)
    assert [row.action for row in rows] == [
        "order.production",
        "order.ready",
        "order.ship",
        "order.delivered",
        "order.note",
    ]
    assert all(row.actor_user_id == manager.id and row.target_id == order.number for row in rows)
    production, _ready, ship, delivered, _note = rows
    assert production.before["fulfilment_status"] == "unfulfilled"
    assert production.after["fulfilment_status"] == "in_production"
    assert ship.after["tracking"] == "JD01" and ship.after["fulfilment_status"] == "shipped"
    assert (delivered.before["fulfilment_status"], delivered.after["fulfilment_status"]) == (
        "shipped",
        "delivered",
    )


def test_a_refused_action_writes_no_audit_row(client, session, sign_in):
    order = make_order(session, payment_status="unpaid")
    session.commit()
    sign_in("manager")
    client.post(f"/admin/orders/{order.number}/production")  # unpaid: refused
    client.post(
        f"/admin/orders/{order.number}/ship",
        data={"carrier": "dhl", "tracking_number": "X", f"qty-{order.lines[0].id}": "1"},
    )
    assert audit_rows(session) == []
