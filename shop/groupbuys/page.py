"""What the campaign page and a participant's page show, worked out once so the templates
only print: each product with its picture and size grid (the product page's own
``get_product_page`` and ``grid_rows``), the leader's first name, the time left, and a
participant's lines. Reads only (the pages are GETs)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.catalog.models import Product, Variant
from shop.catalog.products import ProductPage, get_product_page
from shop.catalog.size_grid import SizeGrid, grid_rows, grid_texts
from shop.db import as_utc
from shop.groupbuys.models import Campaign, Participant, ParticipantLine
from shop.groupbuys.progress import ProductProgress, Progress
from shop.links import external_url
from shop.locales import localized
from shop.previews import Preview, media_url, short_description


@dataclass(frozen=True)
class CampaignItem:
    """One product of the campaign as the page shows it."""

    page: ProductPage
    grid: SizeGrid
    progress: ProductProgress | None


def campaign_items(
    session: Session, campaign: Campaign, progress: Progress, locale: str
) -> list[CampaignItem]:
    product_ids = [item.product_id for item in campaign.products]
    rows = session.execute(sa.select(Product.id, Product.slug).where(Product.id.in_(product_ids)))
    slugs = {product_id: slug for product_id, slug in rows}
    texts = grid_texts(locale)
    items = []
    for product_id in product_ids:
        page = get_product_page(
            session, slugs[product_id], currency=campaign.currency, locale=locale
        )
        if page is None:  # taken off sale since the campaign opened
            continue
        items.append(CampaignItem(page, grid_rows(page, texts), progress.for_product(product_id)))
    return items


def leader_first_name(session: Session, campaign: Campaign) -> str:
    name = session.scalar(sa.select(User.name).where(User.id == campaign.leader_id)) or ""
    return (name.split() or [""])[0]


@dataclass(frozen=True)
class TimeLeft:
    days: int
    hours: int
    minutes: int

    @property
    def over(self) -> bool:
        return not (self.days or self.hours or self.minutes)


def time_left(closes_at: datetime, now: datetime) -> TimeLeft:
    left = max(as_utc(closes_at) - now, timedelta(0))
    minutes = int(left.total_seconds() // 60)
    return TimeLeft(minutes // (24 * 60), minutes // 60 % 24, minutes % 60)


@dataclass(frozen=True)
class ShownLine:
    product_id: int
    name: str
    sku: str
    size: str
    colour: str
    quantity: int
    joined_unit_amount: int


def participant_lines(session: Session, participant: Participant, locale: str) -> list[ShownLine]:
    rows = session.execute(
        sa.select(ParticipantLine, Variant, Product)
        .join(Variant, Variant.id == ParticipantLine.variant_id)
        .join(Product, Product.id == ParticipantLine.product_id)
        .where(ParticipantLine.participant_id == participant.id)
        .order_by(Product.id, Variant.id)
    )
    return [
        ShownLine(
            product_id=product.id,
            name=localized(product, "name", locale),
            sku=variant.sku,
            size=variant.size,
            colour=variant.colour,
            quantity=line.quantity,
            joined_unit_amount=line.joined_unit_amount,
        )
        for line, variant, product in rows
    ]


def find_participant(session: Session, campaign: Campaign, token: str) -> Participant | None:
    """The participant whose link this is; ``None`` for a token of no participant of this
    campaign (someone else's, made up, or of another campaign)."""
    if not token or len(token) > 64 or not token.isascii():
        return None
    if not all(ch.isalnum() or ch in "-_" for ch in token):
        return None
    return session.scalars(
        sa.select(Participant).where(
            Participant.token == token, Participant.campaign_id == campaign.id
        )
    ).first()


def successor(session: Session, participant: Participant) -> Participant | None:
    """The participant that replaced this one (a change of pieces), the latest first."""
    return session.scalars(
        sa.select(Participant)
        .where(Participant.replaces_id == participant.id)
        .order_by(Participant.id.desc())
    ).first()


def by_join_key(session: Session, key: str) -> Participant | None:
    return session.scalars(sa.select(Participant).where(Participant.join_key == key)).first()


def campaign_url(code: str) -> str:
    """The campaign's share link, absolute on ``SHOP_BASE_URL`` (never the request's host)."""
    return external_url("groupbuys.campaign_page", code=code)


def campaign_preview(campaign: Campaign, items: list[CampaignItem]) -> Preview:
    """The link preview of ``/g/<code>``: its title, the note and the first picture."""
    picture = next((item.page.images[0].path for item in items if item.page.images), None)
    description = short_description(campaign.note) or _(
        "A group buy: everyone pays the factory's price for all the pieces together."
    )
    return Preview(
        title=campaign.title,
        description=description,
        url=campaign_url(campaign.code),
        image=media_url(picture),
    )


def script_texts() -> dict[str, str]:
    """The progress sentences for ``static/js/campaign.js`` (``%(name)d`` patterns it
    fills in), in the visitor's language: the template prints the same ones filled."""
    return {
        "left": _("%(days)d days, %(hours)d hours, %(minutes)d minutes left"),
        "next": _("%(n)d more pieces for %(amount)s each"),
        "top": _("The best price is reached."),
        "minimum_left": _("%(n)d more pieces to reach the minimum of %(min)d"),
        "minimum_reached": _("Minimum of %(min)d pieces reached: the group buy goes ahead."),
        "places": _("%(n)d places left"),
        "no_limit": _("No maximum"),
        "participants": _("%(n)d people have joined"),
        "product_pieces": _("%(n)d pieces"),
    }
