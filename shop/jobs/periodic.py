"""The periodic jobs: the scheduler queues them; the CLI commands of the same names run
them at once. Each commits once per order, so an order's lock is held only while that
order is handled, and each is safe on any instance, as often as it runs: everything it
applies is a compare-and-set on the order."""

from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from shop.db import get_session, utcnow


@dataclass
class ExpiryReport:
    cancelled: list[str] = field(default_factory=list)  # order numbers


def expire_reservations() -> ExpiryReport:
    """Cancel unpaid orders past their reservation and release their stock."""
    from shop.orders import lifecycle
    from shop.orders.models import Order
    from shop.payments.stripe_gateway import gateway

    session = get_session()
    report = ExpiryReport()
    for order_id in lifecycle.expired_order_ids(session, utcnow()):
        order = session.get_one(Order, order_id)
        if lifecycle.expire_reservation(session, order, gateway()):
            report.cancelled.append(order.number)
        session.commit()
    return report


def approve_commissions() -> int:
    """Approve the reseller commission of orders delivered longer ago than the return
    window (``shop.resellers.ledger.approve_due``); the number of ledger lines approved."""
    from shop.resellers import ledger

    session = get_session()
    approved = ledger.approve_due(session, utcnow())
    session.commit()
    return approved


def prune_facets() -> int:
    """Take the sizes and colours no variant has any more out of the filter menus
    (``shop.catalog.facets.prune_facets``); the number removed. Safe at any moment, on any
    instance, beside any writer of variants: it never removes a value a variant has."""
    from shop.catalog import facets

    session = get_session()
    pruned = facets.prune_facets(session)
    session.commit()  # at once: on PostgreSQL variant writers wait while it holds its lock
    return pruned


def fold_window_visits() -> int:
    """Move the window visits counted in Redis into ``reseller_visit``
    (``shop.resellers.visits``); the number of visits moved. Nothing to do without Redis."""
    from shop.resellers.visits import fold_visits

    return fold_visits()


@dataclass
class ReconcileReport:
    applied: list[str] = field(default_factory=list)  # "<order>: <outcome>"
    cancelled: list[str] = field(default_factory=list)  # PaymentIntent ids
    unanswered: list[str] = field(default_factory=list)  # orders Stripe did not answer for


def reconcile_payments(minutes: int | None = None) -> ReconcileReport:
    """Ask Stripe about unpaid orders whose payment began ``minutes`` ago or more (a lost
    webhook) and cancel PaymentIntents whose order was never written. ``None``: the
    ``RECONCILE_MIN_AGE_MINUTES`` setting."""
    from shop.orders.models import Order
    from shop.payments import reconcile
    from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway

    if minutes is None:
        minutes = current_app.config["RECONCILE_MIN_AGE_MINUTES"]
    session = get_session()
    now = utcnow()
    older_than = now - timedelta(minutes=minutes)
    report = ReconcileReport()
    for order_id in reconcile.unsettled_order_ids(session, older_than):
        order = session.get_one(Order, order_id)
        try:
            outcome = reconcile.reconcile_order(session, order, gateway(), now=now)
        except PaymentServiceUnavailable:
            session.rollback()
            report.unanswered.append(order.number)
            continue
        session.commit()
        if outcome:
            report.applied.append(f"{order.number}: {outcome}")
    for intent in reconcile.unknown_intents(session, gateway(), older_than=older_than):
        outcome = reconcile.settle_unknown(session, intent, gateway(), now=now)
        session.commit()
        if outcome == "cancelled":
            report.cancelled.append(intent.id)
        elif outcome != "left":
            report.applied.append(f"{intent.id} ({intent.order_number or 'no order'}): {outcome}")
    return report


@dataclass
class CloseReport:
    closed: list[str] = field(default_factory=list)  # "<code>: <state>"


def close_campaigns() -> CloseReport:
    """Close every group buy past its closing time, and carry on closes that did not
    finish (``shop.groupbuys.closing``): each participant charged once, whoever else runs
    it at the same moment."""
    from shop.groupbuys import closing
    from shop.groupbuys.models import Campaign
    from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway

    session = get_session()
    report = CloseReport()
    for campaign_id in closing.due_campaign_ids(session, utcnow()):
        session.commit()  # the list was a read: end it before the close's own steps
        code = session.get_one(Campaign, campaign_id).code
        try:
            outcome = closing.close_campaign(session, campaign_id, gateway(), commit=session.commit)
        except PaymentServiceUnavailable:
            session.rollback()  # the next run carries on where this one stopped
            report.closed.append(f"{code}: Stripe did not answer; next run")
            continue
        report.closed.append(f"{code}: {outcome.state}")
    return report


def close_campaign(campaign_id: int) -> str | None:
    """Close one group buy now (queued when its leader closes it early, keyed by the
    campaign): the same close as the periodic job's."""
    from shop.groupbuys import closing
    from shop.payments.stripe_gateway import gateway

    session = get_session()
    return closing.close_campaign(session, campaign_id, gateway(), commit=session.commit).state


@dataclass
class PlacesReport:
    let_go: int = 0  # pending places whose card never came
    lapsed: int = 0  # unpaid after a failed capture, past the 48 hours
    paid: int = 0  # paid after all (a lost webhook)


def expire_campaign_places() -> PlacesReport:
    """Let go of group-buy places whose card never came (``PENDING_LIFETIME``) and of
    participants who did not pay within 48 hours of a failed capture; one transaction
    each."""
    from shop.groupbuys import closing, leaving
    from shop.payments.stripe_gateway import gateway

    session = get_session()
    report = PlacesReport()
    now = utcnow()
    for participant_id in leaving.expired_pending(session, now):
        if leaving.expire_pending(session, participant_id, gateway(), now=now) == "let go":
            report.let_go += 1
        session.commit()
    for participant_id in closing.lapsed_ids(session, now):
        outcome = closing.lapse(session, participant_id, gateway(), now)
        report.lapsed += outcome == "lapsed"
        report.paid += outcome == "paid"
        session.commit()
    return report
