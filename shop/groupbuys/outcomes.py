"""What the close tells each participant: the price reached and their order, that the
group buy did not go ahead, or that their card could not be charged and where to pay.

Each email is queued in the transaction that changed the participant's state (that
change happens once, so the email goes out once), in the participant's language.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.groupbuys.models import Campaign, Participant
from shop.links import external_url
from shop.mail import send_after_commit
from shop.orders.models import Order
from shop.orders.notifications import order_link


def pay_link(campaign: Campaign, participant: Participant) -> str:
    return external_url("groupbuy_pay.pay_page", code=campaign.code, token=participant.token)


def captured(
    session: Session, campaign: Campaign, participant: Participant, order: Order, *, saved: int
) -> None:
    send_after_commit(
        session,
        participant.email,
        _l("Group buy %(code)s: the price is set", code=campaign.code),
        "campaign_captured",
        locale=participant.locale,
        campaign=campaign,
        participant=participant,
        order=order,
        saved=saved,
        link=order_link(order),
    )


def campaign_failed(
    session: Session, campaign: Campaign, participant: Participant, *, refunded: bool
) -> None:
    send_after_commit(
        session,
        participant.email,
        _l("Group buy %(code)s did not go ahead", code=campaign.code),
        "campaign_failed",
        locale=participant.locale,
        campaign=campaign,
        participant=participant,
        refunded=refunded,
    )


def payment_due(
    session: Session, campaign: Campaign, participant: Participant, amount: int
) -> None:
    send_after_commit(
        session,
        participant.email,
        _l("Group buy %(code)s: please pay within 48 hours", code=campaign.code),
        "campaign_payment_due",
        locale=participant.locale,
        campaign=campaign,
        participant=participant,
        amount=amount,
        link=pay_link(campaign, participant),
    )
