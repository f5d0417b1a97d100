"""The packing slip of a parcel sold through a window: the factory's own, or — when the
reseller chose it (``ResellerTerms.blind_slip``) — a "blind" one in the window's name,
with the reseller's thank-you line and no factory prices or address."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.resellers.models import Reseller, ResellerTerms


@dataclass(frozen=True)
class BlindSlip:
    window_name: str
    message: str


def blind_slip_for(session: Session, reseller_id: int | None) -> BlindSlip | None:
    """The blind slip an order through ``reseller_id``'s window carries, or ``None`` for
    the factory's own slip (no window, or a window that did not choose it)."""
    if reseller_id is None:
        return None
    row = session.execute(
        sa.select(Reseller.display_name, ResellerTerms.slip_message)
        .join(ResellerTerms, ResellerTerms.reseller_id == Reseller.id)
        .where(Reseller.id == reseller_id, ResellerTerms.blind_slip.is_(True))
    ).first()
    return BlindSlip(row.display_name, row.slip_message) if row is not None else None
