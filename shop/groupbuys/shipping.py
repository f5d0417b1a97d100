"""A pick-up campaign's goods go in one shipment to the leader's pick-up point: one carrier
and tracking number for every participant's order, each order shipped through
``shop.orders.lifecycle.ship`` (its own lock, timeline and email), so the participants see
the parcel's tracking on their own order pages and the packing list says whose bag is
whose.

Exactly once per order whoever presses the button how often: each order is locked and
ships only what it has not shipped yet; a second press finds nothing left.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.exceptions import ShopError
from shop.groupbuys.models import Campaign
from shop.orders import lifecycle
from shop.orders.models import Order
from shop.orders.transitions import IllegalTransition


class NotShippable(ShopError):
    message = "Only a closed group buy to a pick-up point ships as one parcel."


@dataclass
class CampaignShipment:
    shipped: list[str] = field(default_factory=list)  # order numbers
    skipped: list[str] = field(default_factory=list)  # already shipped, cancelled, unpaid


def shippable_orders(session: Session, campaign: Campaign) -> list[Order]:
    """The campaign's orders still waiting to leave, by bag (the order they were made in)."""
    return list(
        session.scalars(
            sa.select(Order)
            .where(
                Order.campaign_id == campaign.id,
                Order.state == "open",
                Order.fulfilment_status.not_in(lifecycle.SHIPPED_STATUSES),
            )
            .order_by(Order.id)
        )
    )


def ship_campaign(
    session: Session,
    campaign: Campaign,
    *,
    carrier: str,
    tracking_number: str,
    custom_carrier: str = "",
    actor_user_id: int | None = None,
) -> CampaignShipment:
    """Ship every waiting order of a closed pick-up campaign with one tracking number.
    Raises ``NotShippable``, or ``lifecycle.InvalidShipment`` for a bad carrier/tracking
    (before anything is shipped)."""
    if campaign.state != "closed" or campaign.delivery != "pickup":
        raise NotShippable()
    outcome = CampaignShipment()
    for order in shippable_orders(session, campaign):
        lifecycle.lock(session, order)  # and read afresh: another press may have shipped it
        remaining = {k: v for k, v in lifecycle.unshipped_quantities(order).items() if v > 0}
        if order.state != "open" or not remaining:
            outcome.skipped.append(order.number)
            continue
        savepoint = session.begin_nested()
        try:
            lifecycle.ship(
                session,
                order,
                remaining,
                carrier=carrier,
                tracking_number=tracking_number,
                custom_carrier=custom_carrier,
                actor_user_id=actor_user_id,
            )
        except lifecycle.InvalidShipment:
            savepoint.rollback()
            raise  # the carrier or tracking number: the same for every order
        except (lifecycle.CannotFulfil, IllegalTransition):
            savepoint.rollback()  # not paid, or cannot be shipped now: left for the desk
            outcome.skipped.append(order.number)
            continue
        savepoint.commit()
        outcome.shipped.append(order.number)
    return outcome
