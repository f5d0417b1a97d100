"""A campaign's progress: what ``/g/<code>`` shows and ``/g/<code>/progress.json`` sends
every few seconds to every open page — pieces so far, the price each product reached,
how many more pieces reach its next tier, the minimum, the places left, the time.

Many visitors poll one campaign while its participants join, so the JSON is cached in the
page cache's store (Redis when ``REDIS_URL`` is set, this process's memory otherwise)
under ``(campaign id, Campaign.version, build)``: every join and leave bumps the version
(``shop.groupbuys.service._count``), so a poll after a join reads the new numbers at once;
a request costs one indexed read of the version. A cached answer lives at most
``REFRESH_SECONDS`` (the page's polling interval), so what changes without a version bump
— the close moving the state — is never older than one refresh.

No Flask here: the caller passes the store.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.pricing import TierLike
from shop.db import as_utc
from shop.groupbuys import rules, service
from shop.groupbuys.models import Campaign, Participant

REFRESH_SECONDS = 5  # static/js/campaign.js polls this often; the cache keeps no longer
KEY_PREFIX = "groupbuy-progress"


@dataclass(frozen=True)
class ProductProgress:
    product_id: int
    pieces: int
    unit_amount: int | None  # the price one piece has reached; None: no price in currency
    next_pieces_needed: int | None
    next_unit_amount: int | None

    def as_json(self, currency: str) -> dict:
        step = None
        if self.next_pieces_needed is not None:
            step = {"pieces_needed": self.next_pieces_needed, "unit_amount": self.next_unit_amount}
        return {
            "id": self.product_id,
            "pieces": self.pieces,
            "unit_amount": self.unit_amount,
            "currency": currency,
            "next_tier": step,
        }


@dataclass(frozen=True)
class Progress:
    state: str
    pieces: int
    min_pieces: int
    max_pieces: int | None
    places_left: int | None
    participants: int
    closes_at: datetime
    currency: str
    products: list[ProductProgress]
    version: int

    @property
    def minimum_reached(self) -> bool:
        return rules.goes_ahead(self.pieces, self.min_pieces)

    @property
    def pieces_to_minimum(self) -> int:
        return max(self.min_pieces - self.pieces, 0)

    @property
    def closes_at_iso(self) -> str:
        return as_utc(self.closes_at).isoformat()

    def for_product(self, product_id: int) -> ProductProgress | None:
        return next((item for item in self.products if item.product_id == product_id), None)

    def as_json(self) -> dict:
        return {
            "state": self.state,
            "pieces": self.pieces,
            "min_pieces": self.min_pieces,
            "max_pieces": self.max_pieces,
            "places_left": self.places_left,
            "participants": self.participants,
            "closes_at": self.closes_at_iso,
            "products": [item.as_json(self.currency) for item in self.products],
            "version": self.version,
        }


def product_progress(product_id: int, tiers: Sequence[TierLike], pieces: int) -> ProductProgress:
    """One product's price at ``pieces`` and the next cheaper tier (counted from the
    pieces there are, so at 0 a tier from 5 needs 5)."""
    step = rules.next_step(tiers, pieces)
    return ProductProgress(
        product_id=product_id,
        pieces=pieces,
        unit_amount=rules.unit_at(tiers, pieces),
        next_pieces_needed=step.tier.min_quantity - pieces if step else None,
        next_unit_amount=step.tier.unit_amount if step else None,
    )


def read_progress(session: Session, campaign: Campaign) -> Progress:
    """The campaign's numbers read now (its counters change under the ORM's copy)."""
    row = session.execute(
        sa.select(
            Campaign.state,
            Campaign.pieces,
            Campaign.reserved_pieces,
            Campaign.max_pieces,
            Campaign.min_pieces,
            Campaign.closes_at,
            Campaign.version,
        ).where(Campaign.id == campaign.id)
    ).one()
    joined = session.scalar(
        sa.select(sa.func.count())
        .select_from(Participant)
        .where(
            Participant.campaign_id == campaign.id,
            Participant.state.in_(rules.JOINED_STATES),
        )
    )
    ladders = service.ladders(session, campaign)
    counted = service.counted_pieces(session, campaign)
    return Progress(
        state=row.state,
        pieces=row.pieces,
        min_pieces=row.min_pieces,
        max_pieces=row.max_pieces,
        places_left=rules.pieces_left(row.max_pieces, row.reserved_pieces),
        participants=joined or 0,
        closes_at=row.closes_at,
        currency=campaign.currency,
        products=[
            product_progress(
                item.product_id, ladders.get(item.product_id, []), counted.get(item.product_id, 0)
            )
            for item in campaign.products
        ],
        version=row.version,
    )


def cache_key(campaign_id: int, version: int, build: str) -> str:
    return f"{KEY_PREFIX}:{build}:{campaign_id}:{version}"


def progress_json(session: Session, code: str, store, build: str) -> str | None:
    """The progress of campaign ``code`` as JSON text, from ``store`` when it holds this
    version's; ``None`` when there is no such campaign. ``store`` has ``get_page`` and
    ``put_page`` (``shop.pagecache.stores``)."""
    cleaned = (code or "").strip().upper()
    if not cleaned or len(cleaned) > 16 or not cleaned.isascii() or not cleaned.isalnum():
        return None
    found = session.execute(
        sa.select(Campaign.id, Campaign.version).where(Campaign.code == cleaned)
    ).first()
    if found is None:
        return None
    key = cache_key(found.id, found.version, build)
    text = store.get_page(key)
    if text is not None:
        return text
    campaign = session.get_one(Campaign, found.id)
    progress = read_progress(session, campaign)
    text = json.dumps(progress.as_json(), separators=(",", ":"))
    # Stored under the version it was read at: a join that landed meanwhile made a newer one.
    store.put_page(cache_key(found.id, progress.version, build), text, REFRESH_SECONDS)
    return text
