"""The close of a group buy, exactly once, however many runners start it and wherever one
of them dies.

1. ``start_close``: one conditional ``UPDATE`` moves the campaign from *open* to *closing*
   (a second runner finds it *closing* and carries on: that is how a killed close
   resumes), and stores each product's final unit price from the authorised counters.
2. Each participant in their own transaction (``settle_participant``): their row is
   locked, their state read again, and only a *held* or *charged* participant is charged:
   the PaymentIntent is asked first, so an intent a dead run already captured is recorded,
   never captured again. Captured → one paid order through the normal pipeline; a capture
   Stripe refuses → *payment_due* with 48 hours to pay on their own page. A campaign that
   missed its minimum lets every card go instead (*released*).
3. ``finish_close``: once nobody holds a place any more, *closing* → *closed* (or
   *failed*), and the leader's credit is written.

The Stripe call of a participant happens under their row's lock and before the writes
that record it; if the run dies in between, the next run finds the intent captured and
records it. Plain functions over the session: they flush, and ``close_campaign`` commits
through the ``commit`` it is given, once per step (the job is the boundary).
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.cart.pricing import CartPricing, PricedLine, ProductGroup
from shop.catalog.models import Product, Variant
from shop.checkout.service import CheckoutDetails
from shop.db import as_utc, lock_row, rows_changed, utcnow
from shop.groupbuys import leaving, outcomes, rules, service
from shop.groupbuys.models import (
    Campaign,
    GroupBuyProgram,
    LeaderCredit,
    Participant,
)
from shop.locales import localized
from shop.orders import lifecycle
from shop.orders.models import Order
from shop.orders.numbers import new_order_number
from shop.payments.stripe_gateway import (
    CaptureFailed,
    Intent,
    RefundRefused,
    StripeGateway,
    UnknownIntent,
)
from shop.resellers.attribution import attribute_order
from shop.schools.models import School
from shop.stock.allocation import release

# Where a pick-up point is, when the campaign names no school: the currency's country.
CURRENCY_COUNTRIES = {"CNY": "CN", "JPY": "JP", "SGD": "SG", "USD": "US"}


# --- which campaigns -----------------------------------------------------------------------


def due_campaign_ids(session: Session, now: datetime) -> list[int]:
    """Open campaigns past their closing time, and closes that did not finish."""
    rows = session.execute(
        sa.select(Campaign.id, Campaign.state, Campaign.closes_at)
        .where(
            sa.or_(
                Campaign.state == "closing",
                sa.and_(Campaign.state == "open", Campaign.closes_at <= now),
            )
        )
        .order_by(Campaign.id)
    )
    return [row.id for row in rows if rules.is_due(row.state, as_utc(row.closes_at), now)]


# --- 1. start ------------------------------------------------------------------------------


def start_close(session: Session, campaign_id: int, now: datetime) -> str | None:
    """Move a due open campaign to *closing* and fix its final prices (once: the
    conditional ``UPDATE`` is the race). The campaign's state now; ``None``: no such
    campaign."""
    started = rows_changed(
        session,
        sa.update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.state == "open", Campaign.closes_at <= now)
        .values(state="closing", closing_started_at=now, version=Campaign.version + 1)
        .execution_options(synchronize_session=False),
    )
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    session.refresh(campaign)
    if started:
        tiers = service.ladders(session, campaign)
        counted = service.counted_pieces(session, campaign)
        for item in campaign.products:
            item.final_unit_amount = rules.unit_at(
                tiers.get(item.product_id, []), counted.get(item.product_id, 0)
            )
        session.flush()
    return campaign.state


def final_units(campaign: Campaign) -> dict[int, int]:
    return {
        item.product_id: item.final_unit_amount
        for item in campaign.products
        if item.final_unit_amount is not None
    }


def amount_due(campaign: Campaign, participant: Participant) -> int:
    """What the participant pays at the close: each piece at the final unit price, never
    above the unit they joined at."""
    return rules.final_amount(
        ((line.product_id, line.quantity, line.joined_unit_amount) for line in participant.lines),
        final_units(campaign),
    )


def holding_ids(session: Session, campaign_id: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(Participant.id)
            .where(
                Participant.campaign_id == campaign_id,
                Participant.state.in_(rules.HOLDING_STATES),
            )
            .order_by(Participant.id)
        )
    )


# --- 2. each participant -------------------------------------------------------------------


def _take(session: Session, participant_id: int) -> Participant | None:
    """Lock the participant's row for this transaction and read it as it is now."""
    lock_row(session, Participant.last_error, participant_id)
    participant = session.get(Participant, participant_id)
    if participant is not None:
        session.refresh(participant)
    return participant


def _move(session: Session, participant: Participant, before: str, to: str, **values) -> bool:
    moved = rows_changed(
        session,
        sa.update(Participant)
        .where(Participant.id == participant.id, Participant.state == before)
        .values(state=to, **values)
        .execution_options(synchronize_session=False),
    )
    if moved:
        session.refresh(participant)
    return bool(moved)


def settle_participant(
    session: Session, campaign: Campaign, participant_id: int, gateway: StripeGateway, now: datetime
) -> str:
    """Charge (or let go) one participant of a closing campaign; what happened."""
    participant = _take(session, participant_id)
    if participant is None or participant.state not in rules.HOLDING_STATES:
        return "nothing to do"
    before = participant.state
    if not rules.goes_ahead(campaign.pieces, campaign.min_pieces):
        _move(session, participant, before, "released")
        service.give_back(session, campaign, participant, was_joined=before in rules.JOINED_STATES)
        leaving.let_card_go(campaign, participant, before, gateway, "failed")
        outcomes.campaign_failed(session, campaign, participant, refunded=before == "charged")
        return "released"
    if before == "pending":  # their card never joined: the close lets the place go
        _move(session, participant, before, "left")
        service.give_back(session, campaign, participant, was_joined=False)
        leaving.let_card_go(campaign, participant, before, gateway, "closed")
        return "let go"
    amount = amount_due(campaign, participant)
    if before == "charged":
        _refund_difference(campaign, participant, amount, gateway)
        record_payment(session, campaign, participant, participant.intent_id or "", amount, now)
        return "captured"
    if not _capture(campaign, participant, amount, gateway):
        _payment_due(session, campaign, participant, gateway, now)
        return "payment due"
    record_payment(session, campaign, participant, participant.intent_id or "", amount, now)
    return "captured"


def _capture(
    campaign: Campaign, participant: Participant, amount: int, gateway: StripeGateway
) -> bool:
    """Capture ``amount`` of the held card, unless a run that died before recording it
    did already (the intent says ``succeeded``). ``False``: the card cannot be charged."""
    if participant.intent_id is None:
        return False
    try:
        intent = gateway.retrieve(participant.intent_id)
    except UnknownIntent:
        return False
    if intent.status == "succeeded":
        return True
    if intent.status != "requires_capture":
        participant.last_error = f"the card authorisation is {intent.status}"[:300]
        return False
    try:
        gateway.capture(
            participant.intent_id,
            amount,
            idempotency_key=f"campaign-{campaign.code}-{participant.id}-capture",
        )
    except CaptureFailed as error:
        participant.last_error = str(error)[:300]
        return False
    return True


def _refund_difference(
    campaign: Campaign, participant: Participant, amount: int, gateway: StripeGateway
) -> None:
    """A long campaign charged at joining: give back what the final price saves, less
    what a run that died before recording it already gave back."""
    difference = participant.authorised_amount - amount
    if difference <= 0 or participant.intent_id is None:
        return
    charge = gateway.charge_of(participant.intent_id)
    left = difference - (charge.amount_refunded if charge is not None else 0)
    if left <= 0:
        return
    with suppress(RefundRefused):  # refunded already: the running total says so next run
        gateway.refund(
            participant.intent_id,
            left,
            idempotency_key=f"campaign-{campaign.code}-{participant.id}-difference",
        )


def _payment_due(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    gateway: StripeGateway,
    now: datetime,
) -> None:
    """The card could not be charged: 48 hours to pay on their own page. The dead hold
    is cancelled (if Stripe still has it) and forgotten; the page makes a new intent."""
    if participant.intent_id is not None:
        gateway.cancel(participant.intent_id)
    _move(
        session,
        participant,
        "held",
        "payment_due",
        payment_due_until=now + rules.PAYMENT_DUE,
        intent_id=None,
        last_error=participant.last_error,
    )
    outcomes.payment_due(session, campaign, participant, amount_due(campaign, participant))


# --- the order -----------------------------------------------------------------------------


def record_payment(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    intent_id: str,
    amount: int,
    now: datetime,
) -> Order:
    """Stripe took ``amount`` on ``intent_id`` for the participant (a capture, a long
    campaign's charge, or their payment after a failed capture): their one order, paid,
    and the participant *captured*. The caller holds the participant's lock."""
    before = participant.state
    pricing = participant_pricing(session, campaign, participant)
    if pricing.total_amount != amount:
        raise AssertionError(f"{participant.id}: {pricing.total_amount} != {amount}")
    _hand_stock_to_order(session, campaign, participant)
    number = new_order_number()
    released = max(participant.authorised_amount - amount, 0) if before != "payment_due" else 0
    order = lifecycle.write_order(
        session,
        pricing,
        delivery_details(session, campaign, participant),
        number=number,
        shipping_amount=0,
        user_id=participant.user_id,
        locale=participant.locale,
        now=now,
        intent=Intent(id=intent_id, status="succeeded", amount=amount, currency=campaign.currency),
    )
    order.campaign_id = campaign.id
    order.payments[0].released_amount = released
    if campaign.leader_reward == "commission" and campaign.reseller_id is not None:
        attribute_order(session, order, campaign.reseller_id)
    lifecycle.mark_paid(session, order, note=intent_id, intent_id=intent_id, now=now)
    _move(
        session,
        participant,
        before,
        "captured",
        order_id=order.id,
        captured_amount=amount,
        payment_due_until=None,
        last_error="",
    )
    outcomes.captured(
        session, campaign, participant, order, saved=_saved(session, campaign, participant, amount)
    )
    return order


def participant_pricing(
    session: Session, campaign: Campaign, participant: Participant
) -> CartPricing:
    """The participant's lines priced at the final unit (never above their joined unit),
    in the shape ``write_order`` takes."""
    units = final_units(campaign)
    variant_ids = [line.variant_id for line in participant.lines]
    variants = {
        variant.id: variant
        for variant in session.scalars(sa.select(Variant).where(Variant.id.in_(variant_ids)))
    }
    products = {
        product.id: product
        for product in session.scalars(
            sa.select(Product).where(Product.id.in_({v.product_id for v in variants.values()}))
        )
    }
    groups = []
    for product_id in sorted({line.product_id for line in participant.lines}):
        product = products[product_id]
        lines = []
        for line in participant.lines:
            if line.product_id != product_id:
                continue
            variant = variants[line.variant_id]
            unit = rules.final_unit(units[product_id], line.joined_unit_amount)
            lines.append(
                PricedLine(
                    variant_id=variant.id,
                    sku=variant.sku,
                    size=variant.size,
                    colour=variant.colour,
                    quantity=line.quantity,
                    available=None,
                    unit_amount=unit,
                    line_amount=unit * line.quantity,
                    problems=[],
                    made_to_order=not line.allocated and not product.made_to_order,
                )
            )
        groups.append(
            ProductGroup(
                product_id=product.id,
                slug=product.slug,
                name=localized(product, "name", participant.locale),
                quantity=sum(line.quantity for line in lines),
                tier=None,
                next_tier=None,
                amount=sum(line.line_amount or 0 for line in lines),
                made_to_order=product.made_to_order,
                lead_time_days=product.lead_time_days,
                lines=lines,
                problems=[],
            )
        )
    total = sum(group.amount or 0 for group in groups)
    count = sum(group.quantity for group in groups)
    return CartPricing(
        currency=campaign.currency, groups=groups, total_amount=total, item_count=count
    )


def _hand_stock_to_order(session: Session, campaign: Campaign, participant: Participant) -> None:
    """The stock held for the participant goes to their order: released here and
    allocated again by ``write_order`` in the same transaction, so the ledger shows the
    campaign's hold ending and the order's beginning (then its sale)."""
    for line in participant.lines:
        if line.allocated:
            release(session, line.variant_id, line.quantity, reference=f"group buy {campaign.code}")
            line.allocated = False
    session.flush()


def delivery_details(
    session: Session, campaign: Campaign, participant: Participant
) -> CheckoutDetails:
    """To the leader's pick-up point (their bag labelled with their number), or to the
    participant's own address."""
    if campaign.delivery == "each":
        return CheckoutDetails(
            email=participant.email,
            delivery_method="courier",
            recipient=participant.name,
            phone=participant.phone,
            country=participant.country,
            region=participant.region,
            city=participant.city,
            line1=participant.line1,
            line2=participant.line2,
            postcode=participant.postcode,
            notes=f"Group buy {campaign.code}",
        )
    school = session.get(School, campaign.school_id) if campaign.school_id else None
    return CheckoutDetails(
        email=participant.email,
        delivery_method="courier",
        recipient=participant.name,
        phone=participant.phone,
        country=school.country
        if school is not None
        else CURRENCY_COUNTRIES.get(campaign.currency, ""),
        line1=campaign.pickup_name[:200],
        line2=campaign.pickup_address[:200],
        notes=f"Group buy {campaign.code}, bag #{participant.bag_number}",
    )


def _saved(session: Session, campaign: Campaign, participant: Participant, paid: int) -> int:
    """Against buying alone at each product's first tier."""
    firsts = {
        product_id: min(tiers, key=lambda tier: tier.min_quantity).unit_amount
        for product_id, tiers in service.ladders(session, campaign).items()
        if tiers
    }
    return rules.saved(
        ((line.product_id, line.quantity) for line in participant.lines), firsts, paid
    )


# --- 3. finish -----------------------------------------------------------------------------


def finish_close(session: Session, campaign: Campaign, now: datetime) -> str:
    """*closing* → *closed* (or *failed*) once no participant holds a place; the
    campaign's state after."""
    if holding_ids(session, campaign.id):
        return campaign.state
    went_ahead = rules.goes_ahead(campaign.pieces, campaign.min_pieces)
    finished = rows_changed(
        session,
        sa.update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state == "closing")
        .values(
            state="closed" if went_ahead else "failed",
            closed_at=now,
            version=Campaign.version + 1,
        )
        .execution_options(synchronize_session=False),
    )
    if finished and went_ahead and campaign.leader_reward == "credit":
        _credit_leader(session, campaign, now)
    session.refresh(campaign)
    return campaign.state


def _credit_leader(session: Session, campaign: Campaign, now: datetime) -> None:
    program = session.get(GroupBuyProgram, 1)
    per_piece = int((program.credit_per_piece or {}).get(campaign.currency, 0)) if program else 0
    pieces = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Participant.pieces), 0)).where(
            Participant.campaign_id == campaign.id, Participant.state == "captured"
        )
    )
    if per_piece <= 0 or not pieces or session.get(LeaderCredit, campaign.id) is not None:
        return
    session.add(
        LeaderCredit(
            campaign_id=campaign.id,
            leader_id=campaign.leader_id,
            currency=campaign.currency,
            pieces=pieces,
            amount=per_piece * pieces,
            created_at=now,
        )
    )
    session.flush()


# --- the whole close -----------------------------------------------------------------------


@dataclass
class CloseReport:
    state: str | None = None
    outcomes: dict[int, str] | None = None  # participant id → what happened


def close_campaign(
    session: Session,
    campaign_id: int,
    gateway: StripeGateway,
    now: datetime | None = None,
    *,
    commit: Callable[[], None],
) -> CloseReport:
    """Close one campaign, or carry on a close that did not finish; ``commit`` after the
    start and after each participant. Safe to run any number of times, at once too."""
    now = now or utcnow()
    report = CloseReport(state=start_close(session, campaign_id, now), outcomes={})
    commit()
    if report.state != "closing":
        return report
    for participant_id in holding_ids(session, campaign_id):
        campaign = session.get_one(Campaign, campaign_id)
        session.refresh(campaign)
        report.outcomes[participant_id] = settle_participant(  # type: ignore[index]
            session, campaign, participant_id, gateway, now
        )
        commit()
    campaign = session.get_one(Campaign, campaign_id)
    session.refresh(campaign)
    report.state = finish_close(session, campaign, now)
    commit()
    return report


# --- after the close: paying on their page, and who has not --------------------------------


def participant_by_token(session: Session, campaign: Campaign, token: str) -> Participant | None:
    return session.scalars(
        sa.select(Participant).where(
            Participant.campaign_id == campaign.id, Participant.token == token
        )
    ).first()


def can_pay(participant: Participant, now: datetime) -> bool:
    until = participant.payment_due_until
    return participant.state == "payment_due" and until is not None and as_utc(until) > now


def pay_succeeded(
    session: Session, campaign: Campaign, participant_id: int, intent: Intent, now: datetime
) -> bool:
    """Their card paid ``intent`` on their page (or the webhook says so): their order,
    once. ``False`` when the intent is not theirs, not paid in full, or already
    recorded."""
    participant = _take(session, participant_id)
    if (
        participant is None
        or participant.state != "payment_due"
        or participant.intent_id != intent.id
        or intent.status != "succeeded"
    ):
        return False
    amount = amount_due(campaign, participant)
    if intent.amount != amount or intent.currency != campaign.currency:
        participant.last_error = f"{intent.id} paid {intent.amount} {intent.currency}"[:300]
        session.flush()
        return False
    record_payment(session, campaign, participant, intent.id, amount, now)
    return True


def intent_paid(session: Session, intent: Intent, now: datetime | None = None) -> str | None:
    """The webhook's (and reconciliation's) news of a PaymentIntent no order names: if it
    is a group-buy participant's, what that means (``None``: not a participant's)."""
    participant = session.scalars(
        sa.select(Participant).where(Participant.intent_id == intent.id)
    ).first()
    if participant is None:
        return None
    if participant.state != "payment_due":
        return "group buy participant"
    campaign = session.get_one(Campaign, participant.campaign_id)
    if pay_succeeded(session, campaign, participant.id, intent, now or utcnow()):
        return "group buy: paid"
    return "group buy: not applied"


def lapsed_ids(session: Session, now: datetime) -> list[int]:
    """Participants of closed campaigns whose 48 hours to pay are over."""
    return list(
        session.scalars(
            sa.select(Participant.id)
            .join(Campaign, Campaign.id == Participant.campaign_id)
            .where(
                Participant.state == "payment_due",
                Participant.payment_due_until < now,
                Campaign.state == "closed",
            )
            .order_by(Participant.id)
        )
    )


def lapse(session: Session, participant_id: int, gateway: StripeGateway, now: datetime) -> str:
    """Their time to pay is over: their places and stock go back. A payment Stripe took
    meanwhile (its webhook lost) is recorded instead; one still in the bank's hands is
    left for the next run."""
    participant = _take(session, participant_id)
    if participant is None or participant.state != "payment_due":
        return "nothing to do"
    campaign = session.get_one(Campaign, participant.campaign_id)
    if participant.intent_id is not None:
        try:
            intent = gateway.retrieve(participant.intent_id)
        except UnknownIntent:
            intent = None
        if intent is not None and intent.status == "succeeded":
            return (
                "paid" if pay_succeeded(session, campaign, participant.id, intent, now) else "left"
            )
        if intent is not None and not gateway.cancel(intent.id):
            return "left"  # processing, or paid this very moment: the next run sees
    if not _move(session, participant, "payment_due", "lapsed"):
        return "nothing to do"
    service.give_back(session, campaign, participant, was_joined=True)
    return "lapsed"


@dataclass(frozen=True)
class Unpaid:
    """A participant whose card could not be charged at the close, for the desk."""

    participant_id: int
    campaign_code: str
    name: str
    email: str
    phone: str
    pieces: int
    amount: int
    currency: str
    due_until: datetime


def unpaid_participants(session: Session) -> list[Unpaid]:
    """Who has not paid after a failed capture, soonest deadline first."""
    rows = session.execute(
        sa.select(Participant, Campaign)
        .join(Campaign, Campaign.id == Participant.campaign_id)
        .where(Participant.state == "payment_due")
        .order_by(Participant.payment_due_until, Participant.id)
    ).all()
    return [
        Unpaid(
            participant_id=participant.id,
            campaign_code=campaign.code,
            name=participant.name,
            email=participant.email,
            phone=participant.phone,
            pieces=participant.pieces,
            amount=amount_due(campaign, participant),
            currency=campaign.currency,
            due_until=as_utc(participant.payment_due_until or utcnow()),
        )
        for participant, campaign in rows
    ]
