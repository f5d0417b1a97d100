"""The staff's list of windows shows what each window has earned, net of reversals, per
currency, and what is approved to pay; in one query for the page."""

import re
from datetime import timedelta

from shop.db import utcnow
from shop.resellers import ledger
from tests.helpers.ledger import attributed_order, deliver, pay, refund_to
from tests.helpers.queries import recording_queries
from tests.helpers.resellers import make_reseller


def earned(page: str) -> list[tuple[str, int]]:
    return [
        (currency, int(amount))
        for currency, amount in re.findall(
            r'data-testid="window-earned" data-currency="(\w+)" data-amount="(-?\d+)"', page
        )
    ]


def test_each_window_shows_its_net_earnings(app, client, session, sign_in):
    ann = make_reseller(session)
    bob = make_reseller(session, email="bob@example.com", handle="bob-picks")
    with app.test_request_context():
        delivered = attributed_order(session, ann, lines=(("POLO-130", 1, 60000),))
        pay(session, delivered)
        deliver(session, delivered, utcnow() - timedelta(days=30))
        ledger.approve_due(session, utcnow())
        refund_to(session, delivered, 30000)
        session.commit()
        expected = ledger.balances(session, ann.id)["CNY"]
    assert 0 < expected.total < expected.approved + expected.pending + expected.paid
    sign_in("manager")
    page = client.get("/admin/resellers").text
    assert earned(page) == [("CNY", expected.total)]
    assert "to pay" in page
    assert f"/w/{bob.handle}" in page  # a window with no ledger shows a dash


def test_the_list_reads_the_ledger_once_for_the_page(app, client, session, sign_in):
    for n in range(3):
        window = make_reseller(session, email=f"r{n}@example.com", handle=f"window-{n}")
        with app.test_request_context():
            order = attributed_order(session, window, lines=(("POLO-130", 1, 60000),))
            pay(session, order)
            session.commit()
    sign_in("manager")
    with recording_queries(app) as statements:
        page = client.get("/admin/resellers").text
    assert len(earned(page)) == 3
    assert len([sql for sql in statements if "commission_line" in sql]) == 1
