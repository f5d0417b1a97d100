"""The filter menus' sizes and colours (``variant_facet``, migration 0026): what adds them
and what takes them away.

Triggers on ``variant`` add a value in the transaction that writes the first variant to
have it (an insert, or a change of size or colour), with ``ON CONFLICT DO NOTHING``: a
value already there is not touched, so variant writers never lock one another's rows
here. Nothing but ``prune_facets`` deletes. So:

- The menus never miss a value a variant has. A variant committed with a value commits
  that value's row with it (the trigger ran in its transaction, or found the row there).
  The row goes only in ``prune_facets``, which deletes a value only when no committed
  variant has it *and* no variant write is under way: on PostgreSQL it first takes
  ``LOCK TABLE variant IN SHARE MODE``, which waits for every transaction that has written
  variants to end and holds new writers off until the prune commits; its ``DELETE`` then
  reads the variants with a snapshot taken after the lock (READ COMMITTED: one per
  statement), so it sees every variant committed before it. A writer held off inserts
  after the prune committed, when the row is gone, and its trigger adds it back. SQLite
  has one writer at a time anyway: the ``DELETE`` runs holding the write lock, on the
  newest data.
- The menus can show a value for a while after its last variant went (deleted, or its
  size changed): until the next prune. That is harmless: filtering by it finds nothing,
  as a filter by a size the shop has but not in stock would. The prune's delete is a
  catalogue change (``shop.pagecache.changes``), so cached pages drop the value then too.

The prune looks for such values first, without a lock: most runs find none and lock
nothing.

The one wait left is the unique key's own: two transactions adding the same value that
is new (not committed yet) at once; the second waits until the first ends, then does
nothing (or adds it, if the first rolled back). On PostgreSQL an insert statement adds
its values in key order, so two statements cannot deadlock over them; two transactions
each adding the same two new values in separate statements in opposite orders could
(PostgreSQL cancels one): the same never-seen sizes arriving in two imports at once."""

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import Variant, VariantFacet
from shop.db import rows_changed

logger = logging.getLogger(__name__)

# How long the prune waits for the variant writers under way (PostgreSQL).
LOCK_TIMEOUT = "2s"
LOCK_NOT_AVAILABLE = "55P03"  # the SQLSTATE of a lock that timed out
# The variant column each kind of facet comes from.
FACET_COLUMNS = {"size": Variant.size, "colour": Variant.colour}


def _lock_variants(session: Session) -> bool:
    """``LOCK TABLE variant IN SHARE MODE`` within ``LOCK_TIMEOUT``; ``False``: not taken
    (the savepoint rolled back, the transaction goes on)."""
    try:
        with session.begin_nested():
            previous = session.scalar(sa.text("SELECT current_setting('lock_timeout')"))
            session.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
            session.execute(sa.text("LOCK TABLE variant IN SHARE MODE"))
            session.execute(
                sa.text("SELECT set_config('lock_timeout', :previous, true)"),
                {"previous": previous},
            )
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        logger.info("prune-facets: variant writers held the table; the next run tries again")
        return False
    return True


def _unused() -> sa.ColumnElement[bool]:
    """A ``variant_facet`` row's value is no variant's (one index lookup per row:
    ``ix_variant_size_product``, ``ix_variant_colour_product``)."""
    return sa.or_(
        *(
            sa.and_(
                VariantFacet.kind == kind,
                ~sa.exists().where(column == VariantFacet.value),
            )
            for kind, column in FACET_COLUMNS.items()
        )
    )


def unused_facets(session: Session) -> list[tuple[str, str]]:
    """The (kind, value) rows no variant has, by key."""
    query = (
        sa.select(VariantFacet.kind, VariantFacet.value)
        .where(_unused())
        .order_by(VariantFacet.kind, VariantFacet.value)
    )
    return [(row.kind, row.value) for row in session.execute(query)]


def prune_facets(session: Session) -> int:
    """Delete the sizes and colours no variant has any more (the module's docstring says
    why this never races a variant write); the number deleted. The caller commits; on
    PostgreSQL variant writers wait until it does, so commit at once.

    On PostgreSQL a long transaction writing variants (a big CSV import) would keep the
    prune waiting for its lock, and every writer of variants queued behind the prune
    (a checkout's stock): after ``LOCK_TIMEOUT`` the prune gives up instead (0, nothing
    held), and the next run tries again."""
    if not unused_facets(session):
        return 0
    if session.get_bind().dialect.name == "postgresql" and not _lock_variants(session):
        return 0
    return rows_changed(
        session,
        sa.delete(VariantFacet).where(_unused()).execution_options(synchronize_session=False),
    )
