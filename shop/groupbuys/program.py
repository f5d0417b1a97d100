"""The factory's group-buy terms (the one ``GroupBuyProgram`` row) as the rest of the shop
reads and staff change them: whether campaigns wait for approval before they open, and
what a leader earns (nothing, a commission through the reseller ledger, or a credit per
piece in each currency).

``program(session)`` always answers: the row (``id`` 1) is made on first use with the
defaults, by an insert that does nothing when another request made it first. A session
that only reads (a GET's: ``shop.db``) gets the defaults unsaved instead, as
``shop.resellers.program`` does for the reseller programme.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.audit.service import record_changes, snapshot
from shop.db import READER, utcnow
from shop.exceptions import ShopError
from shop.groupbuys.models import LEADER_REWARDS, GroupBuyProgram
from shop.money import MAX_AMOUNT, SUPPORTED_CURRENCIES

PROGRAM_ID = 1
DEFAULTS = {"require_approval": False, "leader_reward": "none"}
FIELDS = ("require_approval", "leader_reward", "credit_per_piece")
_UNSAVED = "group_buy_program_defaults"  # session.info of a reading session


def program(session: Session) -> GroupBuyProgram:
    """The programme's one row, made with the defaults when there is none yet (on a
    session that only reads: the defaults, unsaved)."""
    row = read_program(session)
    if row in session or session.connection().get_execution_options().get(READER):
        return row
    session.info.pop(_UNSAVED, None)
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    session.execute(
        insert(GroupBuyProgram)
        .values(id=PROGRAM_ID, credit_per_piece={}, **DEFAULTS, updated_at=sa.func.now())
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.get_one(GroupBuyProgram, PROGRAM_ID)


def read_program(session: Session) -> GroupBuyProgram:
    """The programme as it stands, without writing: the row, or an unsaved one with the
    defaults (kept in ``session.info``: asked again in the same request, no query)."""
    unsaved = session.info.get(_UNSAVED)
    if unsaved is not None:
        return unsaved
    row = session.get(GroupBuyProgram, PROGRAM_ID)
    if row is not None:
        return row
    unsaved = GroupBuyProgram(id=PROGRAM_ID, credit_per_piece={}, **DEFAULTS)
    session.info[_UNSAVED] = unsaved
    return unsaved


class InvalidProgram(ShopError):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is out of range")
        self.field = field


@dataclass(frozen=True)
class ProgramValues:
    require_approval: bool
    leader_reward: str
    credit_per_piece: dict[str, int]  # minor units; only currencies with a credit


def update_program(session: Session, actor: User, values: ProgramValues) -> list[str]:
    """Save the terms; the names of the fields that changed (audited as
    ``groupbuy_program.update``; nothing when nothing changed). Raises ``InvalidProgram``."""
    if values.leader_reward not in LEADER_REWARDS:
        raise InvalidProgram("leader_reward")
    credits = values.credit_per_piece
    if not set(credits) <= set(SUPPORTED_CURRENCIES) or not all(
        isinstance(amount, int) and 0 <= amount <= MAX_AMOUNT for amount in credits.values()
    ):
        raise InvalidProgram("credit_per_piece")
    row = program(session)
    before = snapshot(row, FIELDS[:2]) | {"credit_per_piece": dict(row.credit_per_piece or {})}
    row.require_approval = values.require_approval
    row.leader_reward = values.leader_reward
    row.credit_per_piece = dict(credits)
    after = snapshot(row, FIELDS[:2]) | {"credit_per_piece": dict(credits)}
    changed = [name for name in FIELDS if before[name] != after[name]]
    if changed:
        row.updated_at = utcnow()
        row.updated_by_id = actor.id
        session.flush()
        record_changes(
            session,
            actor_user_id=actor.id,
            action="groupbuy_program.update",
            target_type="groupbuy_program",
            target_id=row.id,
            before=before,
            after=after,
        )
    return changed
