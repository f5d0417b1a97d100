"""Joining and leaving a campaign, exactly once, whoever presses what how often.

Joining is two steps, like checkout: ``reserve`` takes the pieces (one conditional
``UPDATE`` of the campaign's counters, which refuses a join past the maximum and says how
many are left, and stock for stocked items through ``shop.stock.allocation``) and writes a
*pending* participant; then the card: ``start_card`` makes the PaymentIntent (manual
capture for a campaign that holds cards) at the price the campaign reaches with these
pieces, and ``card_given`` / ``check_card`` turn a card Stripe authorised (or charged) into
a *held* (or *charged*) participant whose pieces count towards the price. A pending
participant whose card never came is let go by ``expire_pending``.

Everything here flushes; the caller commits once (a Stripe call comes before the writes
it depends on, or after the row that claims it, never between two writes that must agree).
"""

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import PriceTier, Product, Variant
from shop.catalog.pricing import Tier
from shop.db import as_utc, lock_row, rows_changed, utcnow
from shop.exceptions import ShopError
from shop.groupbuys import rules
from shop.groupbuys.models import Campaign, CampaignProduct, Participant, ParticipantLine
from shop.payments.stripe_gateway import (
    CardDeclined,
    IntentNotUsable,
    StripeGateway,
    UnknownIntent,
)
from shop.stock.allocation import NotEnoughStock, allocate, release


class CampaignNotOpen(ShopError):
    message = "This group buy is not taking orders."


class OverCapacity(ShopError):
    def __init__(self, left: int):
        super().__init__(f"only {left} pieces left in this group buy")
        self.left = left


class NothingChosen(ShopError):
    message = "Choose at least one piece."


class NotInCampaign(ShopError):
    message = "That item is not part of this group buy."


class StockShort(ShopError):
    def __init__(self, variant: Variant, available: int):
        super().__init__(f"only {available} left of {variant.sku}")
        self.variant = variant
        self.available = available


class CannotLeave(ShopError):
    message = "Your place can no longer be changed: the group buy has closed."


# --- reading -----------------------------------------------------------------------------


def campaign_by_code(session: Session, code: str) -> Campaign | None:
    cleaned = (code or "").strip().upper()
    if not cleaned or len(cleaned) > 16 or not cleaned.isalnum():
        return None
    return session.scalars(sa.select(Campaign).where(Campaign.code == cleaned)).first()


def ladders(session: Session, campaign: Campaign) -> dict[int, list[Tier]]:
    """Each product's tiers in the campaign's currency: the campaign's own ladder once
    staff approved it, else the product's."""
    product_ids = [item.product_id for item in campaign.products]
    found: dict[int, list[Tier]] = {product_id: [] for product_id in product_ids}
    if campaign.own_ladder and campaign.ladder_approved_by_id is not None:
        for step in campaign.tiers:
            found.setdefault(step.product_id, []).append(Tier(step.min_quantity, step.unit_amount))
        if all(found.values()):
            return found
        found = {product_id: [] for product_id in product_ids}
    rows = session.execute(
        sa.select(PriceTier.product_id, PriceTier.min_quantity, PriceTier.unit_amount).where(
            PriceTier.product_id.in_(product_ids), PriceTier.currency == campaign.currency
        )
    )
    for product_id, min_quantity, unit_amount in rows:
        found[product_id].append(Tier(min_quantity, unit_amount))
    return found


def counted_pieces(session: Session, campaign: Campaign) -> dict[int, int]:
    """Authorised pieces per product, read now (the counters change under the ORM)."""
    rows = session.execute(
        sa.select(CampaignProduct.product_id, CampaignProduct.pieces).where(
            CampaignProduct.campaign_id == campaign.id
        )
    )
    return {product_id: pieces for product_id, pieces in rows}


# --- joining -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Joiner:
    """Who joins, as the form gave it (checked by the form)."""

    email: str
    name: str
    phone: str = ""
    locale: str = "en"
    user_id: int | None = None
    country: str = ""
    region: str = ""
    city: str = ""
    line1: str = ""
    line2: str = ""
    postcode: str = ""


def _chosen_variants(
    session: Session, campaign: Campaign, quantities: dict[int, int]
) -> dict[int, Variant]:
    wanted = {variant_id: q for variant_id, q in quantities.items() if q > 0}
    if not wanted:
        raise NothingChosen()
    if any(q > rules.MAX_PIECES_PER_PARTICIPANT for q in wanted.values()):
        raise OverCapacity(rules.MAX_PIECES_PER_PARTICIPANT)
    product_ids = {item.product_id for item in campaign.products}
    variants = {
        variant.id: variant
        for variant in session.scalars(
            sa.select(Variant)
            .join(Product, Product.id == Variant.product_id)
            .where(
                Variant.id.in_(wanted),
                Variant.product_id.in_(product_ids),
                Variant.for_sale.is_(True),
                Product.active.is_(True),
            )
        )
    }
    if set(variants) != set(wanted):
        raise NotInCampaign()
    return variants


def _take_pieces(session: Session, campaign: Campaign, pieces: int, now: datetime) -> int:
    """Add ``pieces`` to the campaign's reserved count if it is open and has room; the
    participant's bag number. One conditional ``UPDATE``: the race for the last places."""
    statement = (
        sa.update(Campaign)
        .where(
            Campaign.id == campaign.id,
            Campaign.state == "open",
            Campaign.closes_at > now,
            sa.or_(
                Campaign.max_pieces.is_(None),
                Campaign.reserved_pieces + pieces <= Campaign.max_pieces,
            ),
        )
        .values(
            reserved_pieces=Campaign.reserved_pieces + pieces,
            participant_count=Campaign.participant_count + 1,
        )
        .returning(Campaign.participant_count)
        .execution_options(synchronize_session=False)
    )
    bag = session.execute(statement).scalar()
    if bag is not None:
        return bag
    row = session.execute(
        sa.select(
            Campaign.state, Campaign.closes_at, Campaign.max_pieces, Campaign.reserved_pieces
        ).where(Campaign.id == campaign.id)
    ).one()
    if row.state != "open" or as_utc(row.closes_at) <= now:
        raise CampaignNotOpen()
    raise OverCapacity(rules.pieces_left(row.max_pieces, row.reserved_pieces) or 0)


def reserve(
    session: Session,
    campaign: Campaign,
    quantities: dict[int, int],
    joiner: Joiner,
    *,
    join_key: str,
    now: datetime | None = None,
    replaces: Participant | None = None,
) -> Participant:
    """Take the pieces and write a pending participant. Raises ``CampaignNotOpen``,
    ``OverCapacity`` (with how many are left), ``NothingChosen``, ``NotInCampaign`` or
    ``StockShort``; the caller rolls back. ``join_key`` (unique) makes the same form sent
    twice one participant: the second flush fails."""
    now = now or utcnow()
    variants = _chosen_variants(session, campaign, quantities)
    wanted = {variant_id: quantities[variant_id] for variant_id in variants}
    pieces = sum(wanted.values())
    bag = _take_pieces(session, campaign, pieces, now)
    participant = Participant(
        campaign_id=campaign.id,
        token=secrets.token_urlsafe(24),
        join_key=join_key,
        state="pending",
        pieces=pieces,
        bag_number=bag,
        replaces_id=replaces.id if replaces is not None else None,
        created_at=now,
        **joiner.__dict__,
    )
    made_to_order = _made_to_order(session, {v.product_id for v in variants.values()})
    for variant_id in sorted(wanted):
        variant = variants[variant_id]
        stocked = variant.product_id not in made_to_order
        if stocked:
            try:
                allocate(session, variant_id, wanted[variant_id], reference=_reference(campaign))
            except NotEnoughStock as error:
                raise StockShort(variant, error.available) from None
        participant.lines.append(
            ParticipantLine(
                variant_id=variant_id,
                product_id=variant.product_id,
                quantity=wanted[variant_id],
                joined_unit_amount=0,  # priced when the card is asked for
                allocated=stocked,
            )
        )
    session.add(participant)
    session.flush()
    return participant


def _made_to_order(session: Session, product_ids: set[int]) -> set[int]:
    return set(
        session.scalars(
            sa.select(Product.id).where(Product.id.in_(product_ids), Product.made_to_order)
        )
    )


def _reference(campaign: Campaign) -> str:
    return f"group buy {campaign.code}"


def pieces_by_product(participant: Participant) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for line in participant.lines:
        counts[line.product_id] += line.quantity
    return dict(counts)


def start_card(
    session: Session, campaign: Campaign, participant: Participant, gateway: StripeGateway
) -> None:
    """Price the participant's pieces at the tier the campaign reaches with them and make
    their PaymentIntent (a new one if the last card left it unusable)."""
    if participant.state != "pending":
        return
    share = rules.price_share(
        ladders(session, campaign),
        counted_pieces(session, campaign),
        pieces_by_product(participant),
    )
    for line in participant.lines:
        line.joined_unit_amount = share.units[line.product_id]
    participant.authorised_amount = share.amount
    attempt = 1 if participant.intent_id is None else int(secrets.token_hex(3), 16)
    intent = gateway.create_group_intent(
        campaign=campaign.code,
        participant_id=participant.id,
        attempt=attempt,
        amount=share.amount,
        currency=campaign.currency,
        manual_capture=campaign.payment_mode == "hold",
    )
    participant.intent_id = intent.id
    session.flush()


@dataclass(frozen=True)
class CardResult:
    status: str  # joined, requires_action, declined
    client_secret: str = ""
    message: str = ""


def card_given(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    payment_method_id: str,
    gateway: StripeGateway,
) -> CardResult:
    """The browser's card for the participant's intent: authorise (or charge) it. Two
    clicks at once take turns on the participant's row: the second finds them joined,
    never a second hold on a fresh intent."""
    lock_row(session, Participant.pieces, participant.id)
    session.refresh(participant)
    if participant.state != "pending" or participant.intent_id is None:
        return CardResult("joined" if participant.state in rules.JOINED_STATES else "declined")
    try:
        try:
            intent = gateway.attach_and_confirm(participant.intent_id, payment_method_id)
        except IntentNotUsable:
            # An intent a declined card left behind may take no other card: this card
            # goes on a fresh one, at the price now (as checkout's new attempt does).
            participant.intent_id = None
            start_card(session, campaign, participant, gateway)
            fresh = participant.intent_id
            if fresh is None:
                raise
            intent = gateway.attach_and_confirm(fresh, payment_method_id)
    except (CardDeclined, IntentNotUsable) as error:
        participant.last_error = str(error)[:300]
        if isinstance(error, IntentNotUsable):
            participant.intent_id = None  # the next card gets a fresh intent
            start_card(session, campaign, participant, gateway)
        return CardResult("declined", message=str(error))
    if intent.status == "requires_action":
        return CardResult("requires_action", client_secret=intent.client_secret)
    if settle_card(session, campaign, participant, intent.status, gateway):
        return CardResult("joined")
    return CardResult("declined", message=intent.error_message)


def check_card(
    session: Session, campaign: Campaign, participant: Participant, gateway: StripeGateway
) -> bool:
    """Ask Stripe how the participant's card ended (after 3-D Secure, or for the expiry
    sweep) and settle it; whether they have joined."""
    if participant.state in rules.JOINED_STATES:
        return True
    if participant.state != "pending" or participant.intent_id is None:
        return False
    try:
        intent = gateway.retrieve(participant.intent_id)
    except UnknownIntent:
        return False
    return settle_card(session, campaign, participant, intent.status, gateway)


def settle_card(
    session: Session,
    campaign: Campaign,
    participant: Participant,
    intent_status: str,
    gateway: StripeGateway,
) -> bool:
    """A pending participant whose card Stripe authorised (``requires_capture``) or
    charged (``succeeded``) joins: their pieces count towards the price, once."""
    wanted = "held" if intent_status == "requires_capture" else None
    if intent_status == "succeeded":
        wanted = "charged"
    if wanted is None:
        return False
    if not lock_open(session, campaign):
        return False  # closed meanwhile: the close (or the expiry sweep) lets the card go
    claimed = rows_changed(
        session,
        sa.update(Participant)
        .where(Participant.id == participant.id, Participant.state == "pending")
        .values(state=wanted, last_error="")
        .execution_options(synchronize_session=False),
    )
    if not claimed:
        session.refresh(participant)
        return participant.state in rules.JOINED_STATES
    _count(session, campaign, pieces_by_product(participant), sign=1)
    session.refresh(participant)
    if participant.replaces_id is not None:
        previous = session.get(Participant, participant.replaces_id)
        if previous is not None and previous.state in rules.HOLDING_STATES:
            from shop.groupbuys import leaving  # leaving imports this module

            leaving.leave(session, campaign, previous, gateway, replaced=True)
    return True


def lock_open(session: Session, campaign: Campaign) -> bool:
    """Take the campaign row's lock (joins, leaves and the close take turns on it) and
    say whether it is still open."""
    lock_row(session, Campaign.version, campaign.id)
    state = session.scalar(sa.select(Campaign.state).where(Campaign.id == campaign.id))
    return state == "open"


def _count(
    session: Session, campaign: Campaign, counts: dict[int, int], *, sign: int, reserved: int = 0
) -> None:
    """Add (``sign`` 1) or take away (-1) authorised pieces (the price counters), and
    ``reserved`` places, in one ``UPDATE`` (the counts' check holds at every statement)."""
    total = sum(counts.values())
    session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(
            pieces=Campaign.pieces + sign * total,
            reserved_pieces=Campaign.reserved_pieces + reserved,
            version=Campaign.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    for product_id in sorted(counts):
        session.execute(
            sa.update(CampaignProduct)
            .where(
                CampaignProduct.campaign_id == campaign.id,
                CampaignProduct.product_id == product_id,
            )
            .values(pieces=CampaignProduct.pieces + sign * counts[product_id])
            .execution_options(synchronize_session=False)
        )


def give_back(
    session: Session, campaign: Campaign, participant: Participant, *, was_joined: bool
) -> None:
    """Return a participant's places and stock (they left, expired or the campaign
    failed): the reserved count, the price counters if their card had joined
    (``was_joined``), and every stocked piece held for them. Call once, after claiming the
    participant's new state."""
    counts = pieces_by_product(participant) if was_joined else {}
    _count(session, campaign, counts, sign=-1, reserved=-participant.pieces)
    for line in participant.lines:
        if line.allocated:
            release(session, line.variant_id, line.quantity, reference=_reference(campaign))
            line.allocated = False
    session.flush()


def request_close_early(session: Session, campaign: Campaign, now: datetime | None = None) -> bool:
    """The leader closes the campaign now, which only an open campaign that reached its
    minimum may do: its closing time becomes now, and the close job (which runs every
    minute, and is queued by the caller) takes it from there. ``False``: not allowed, or
    already asked (the same button pressed twice closes once)."""
    now = now or utcnow()
    return bool(
        rows_changed(
            session,
            sa.update(Campaign)
            .where(
                Campaign.id == campaign.id,
                Campaign.state == "open",
                Campaign.closes_at > now,
                # Two presses whose clocks were read in the other order: the later one
                # would still see a closing time ahead of its own "now".
                Campaign.closed_early.is_(False),
                Campaign.pieces >= Campaign.min_pieces,
            )
            .values(closes_at=now, closed_early=True, version=Campaign.version + 1)
            .execution_options(synchronize_session=False),
        )
    )
