"""Campaigns with participants whose cards localstripe authorised, closed by the tests
as the job closes them."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.db import utcnow
from shop.groupbuys import closing, service
from shop.groupbuys.models import Campaign
from shop.payments.stripe_gateway import gateway
from tests.checkout_helpers import card
from tests.groupbuy_factories import reserve


def join(app, session, campaign, quantities, number=1, **fields):
    """Reserve and give a card that localstripe authorises (or charges)."""
    participant = reserve(session, campaign, quantities, number, **fields)
    session.commit()
    with app.app_context():
        service.start_card(session, campaign, participant, gateway())
        session.commit()
        result = service.card_given(session, campaign, participant, card(app), gateway())
        session.commit()
    assert result.status == "joined", result
    return participant


def make_due(session, campaign) -> None:
    """The campaign's closing time has come."""
    session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(closes_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()


def close(app, campaign_id, stripe=None, now=None):
    with app.app_context(), Session(app.extensions["sa_engine"], expire_on_commit=False) as db:
        return closing.close_campaign(
            db, campaign_id, stripe or gateway(), now or utcnow(), commit=db.commit
        )


def charge_of(app, intent_id):
    with app.app_context():
        return gateway().charge_of(intent_id)


def captured_at_stripe(app, intent_id) -> int:
    """What Stripe took on the intent: the charge less what was released or refunded."""
    charge = charge_of(app, intent_id)
    return 0 if charge is None else charge.amount - charge.amount_refunded


# --- the close in several processes at once (PostgreSQL) --------------------------------

SETTINGS = (
    "TESTING",
    "SECRET_KEY",
    "DATABASE_URL",
    "MAIL_OUTBOX",
    "STRIPE_API_BASE",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "SHOP_BASE_URL",
    "SERVER_NAME",
)


def _close_in_process(settings: dict, campaign_id: int, start_at: float) -> str:
    import time

    from shop import create_app

    app = create_app(settings)
    time.sleep(max(start_at - time.time(), 0))
    try:
        return str(close(app, campaign_id).state)
    finally:
        app.extensions["sa_engine"].dispose()


def close_in_processes(app, campaign_id: int, copies: int) -> list[str]:
    import time

    settings = {key: app.config[key] for key in SETTINGS if key in app.config}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(copies, mp_context=context) as pool:
        start_at = time.time() + 8  # every process built its app by then
        futures = [
            pool.submit(_close_in_process, settings, campaign_id, start_at) for _ in range(copies)
        ]
        return [future.result(timeout=180) for future in futures]
