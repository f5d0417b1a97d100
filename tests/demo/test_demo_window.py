"""``seed-demo``'s window ``/w/demo``: an approved reseller with a dozen picks and a
collection, prices under the cap, and orders through it whose ledger has a line in every
state, written by the ledger's own functions, so the window, the reseller's dashboard and
earnings and the staff's payouts page are never empty."""

import re

import pytest
import sqlalchemy as sa

from shop.catalog.models import PriceTier
from shop.demo.accounts import DEMO_PASSWORD
from shop.demo.resellers import DEMO_HANDLE, DEMO_RESELLER_EMAIL, PAYOUT_REFERENCE
from shop.resellers import ledger
from shop.resellers.models import (
    CommissionLine,
    Reseller,
    ResellerPayout,
    ResellerPrice,
    ResellerVisit,
)
from shop.resellers.program import cap_amount


@pytest.fixture
def seeded(make_app):
    app = make_app(DEMO_IMAGE_SIZE=64)
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo window: /w/demo with 12 picks" in result.output
    return app


def rows(app, statement):
    with app.extensions["sa_sessionmaker"]() as session:
        return session.execute(statement).all()


def test_the_window_shows_its_picks_and_collection(seeded):
    client = seeded.test_client()
    page = client.get(f"/w/{DEMO_HANDLE}").text
    assert len(re.findall(r'data-testid="product-card"', page)) == 12
    assert "Back to school" in page
    collection = client.get(f"/w/{DEMO_HANDLE}/c/back-to-school").text
    assert len(re.findall(r'data-testid="product-card"', collection)) == 5


def test_prices_are_under_the_cap_in_every_currency(seeded):
    prices = rows(seeded, sa.select(ResellerPrice))
    assert {price.ResellerPrice.currency for price in prices} >= {"CNY", "JPY", "SGD", "USD"}
    for (price,) in prices:
        factory = rows(  # the first tier's price: the one the cap follows
            seeded,
            sa.select(PriceTier.unit_amount)
            .where(PriceTier.product_id == price.product_id, PriceTier.currency == price.currency)
            .order_by(PriceTier.min_quantity)
            .limit(1),
        )[0][0]
        assert factory < price.unit_amount <= cap_amount(factory, 3000)


def test_the_ledger_has_every_state_and_adds_up(seeded):
    lines = [line for (line,) in rows(seeded, sa.select(CommissionLine))]
    states = {(line.kind, line.state) for line in lines}
    assert {("commission", "pending"), ("commission", "approved"), ("commission", "paid")} <= states
    assert any(line.kind == "reversal" for line in lines)
    with seeded.extensions["sa_sessionmaker"]() as session:
        reseller = session.scalar(sa.select(Reseller).where(Reseller.handle == DEMO_HANDLE))
        balance = ledger.balances(session, reseller.id)["CNY"]
        assert balance.total == sum(line.amount for line in lines)
        assert balance.pending > 0 and balance.approved > 0 and balance.paid > 0
        assert balance.reversed > 0
        payouts = session.scalars(sa.select(ResellerPayout)).all()
        assert [payout.reference for payout in payouts] == [PAYOUT_REFERENCE]
        assert payouts[0].amount == balance.paid
        # the approved balance is above the minimum: the payouts page lists it
        assert [row.reseller_id for row in ledger.payable(session)] == [reseller.id]
        assert session.scalar(sa.select(sa.func.count()).select_from(ResellerVisit)) == 30


def test_the_reseller_sees_a_lived_in_dashboard_and_earnings(seeded):
    client = seeded.test_client()
    response = client.post(
        "/account/login",
        data={"email": DEMO_RESELLER_EMAIL, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302, response.text
    dashboard = client.get("/account/window/dashboard").text
    assert "Demo customer" not in dashboard and "customer@demo" not in dashboard
    earnings = client.get("/account/window/earnings").text
    assert PAYOUT_REFERENCE in earnings
    assert "customer@demo" not in earnings
