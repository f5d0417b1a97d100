"""The filter menus' sizes and colours (``variant_facet``, migration 0026): kept by
triggers on ``variant`` whoever writes it, never missing a value a variant has (not even
while a prune runs beside a writer), read as the recursive walk of the variant indexes
read them before."""

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.facets import prune_facets, unused_facets
from shop.catalog.listing import FACET_LIMIT, FACETS_STATEMENT, list_facets
from shop.catalog.models import Variant
from shop.demo.catalogue import seed_demo_catalogue
from shop.storage import FileStorage
from tests.factories import make_product
from tests.helpers.at_once import run_at_once
from tests.helpers.variants import insert_variant

# What FACETS_STATEMENT was before the table: a skip through the variant indexes.
WALK = sa.text("""
WITH RECURSIVE
sizes(value, depth) AS (
    SELECT min(size), 1 FROM variant
    UNION ALL
    SELECT (SELECT min(later.size) FROM variant AS later WHERE later.size > sizes.value),
           depth + 1
    FROM sizes WHERE sizes.value IS NOT NULL AND depth < :limit
),
colours(value, depth) AS (
    SELECT min(colour), 1 FROM variant
    UNION ALL
    SELECT (SELECT min(later.colour) FROM variant AS later WHERE later.colour > colours.value),
           depth + 1
    FROM colours WHERE colours.value IS NOT NULL AND depth < :limit
)
SELECT 'size' AS kind, value FROM sizes WHERE value IS NOT NULL
UNION ALL
SELECT 'colour', value FROM colours WHERE value IS NOT NULL
""")


def facet_rows(engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT kind, value FROM variant_facet")).all())


def engine_of(app) -> sa.Engine:
    return app.extensions["sa_engine"]


def test_inserts_and_changes_of_size_or_colour_add_their_values(app, session):
    engine = engine_of(app)
    product = make_product(session, sizes=("120", "130"), colours=("navy",))
    session.commit()
    assert facet_rows(engine) == {("size", "120"), ("size", "130"), ("colour", "navy")}

    with engine.connect() as connection:  # plain SQL, as a script would
        insert_variant(connection, product.id, "RAW-XL-RED", "XL", "red")
        connection.execute(sa.text("UPDATE variant SET colour = 'white' WHERE sku = 'RAW-XL-RED'"))
        connection.commit()
    product.variants[0].size = "140"  # the ORM, as the admin would
    session.commit()
    # A stock write (a Core UPDATE of other columns) adds nothing and changes nothing.
    session.execute(sa.update(Variant).values(on_hand=Variant.on_hand + 1))
    session.commit()

    assert facet_rows(engine) == {
        ("size", "120"),  # no variant has it now: the prune's to remove
        ("size", "130"),
        ("size", "140"),
        ("size", "XL"),
        ("colour", "navy"),
        ("colour", "red"),  # likewise
        ("colour", "white"),
    }
    assert list_facets(session).sizes == ("120", "130", "140", "XL")


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_new_size_written_at_once_gives_one_row(app, session, copies):
    """Separate connections (threads), each inserting a variant of one new size and
    holding its transaction open a moment, so the others meet its uncommitted row."""
    engine = engine_of(app)
    product = make_product(session, sizes=("120",))
    session.commit()

    def write(number: int) -> None:
        with engine.connect() as connection:
            insert_variant(connection, product.id, f"AT-ONCE-{number}", "999", f"c{number}")
            time.sleep(0.2)
            connection.commit()

    assert run_at_once(copies, write) == []
    rows = facet_rows(engine)
    assert [row for row in rows if row[1] == "999"] == [("size", "999")]
    assert {value for kind, value in rows if kind == "colour"} == {
        "navy",
        *(f"c{number}" for number in range(copies)),
    }


def test_the_prune_removes_only_values_no_variant_has(app, session):
    engine = engine_of(app)
    polo = make_product(session, sizes=("120", "130"), colours=("navy", "white"))
    make_product(session, sizes=("130",), colours=("red",))
    session.commit()
    assert prune_facets(session) == 0
    session.commit()

    for variant in polo.variants:
        if (variant.size, variant.colour) != ("130", "navy"):
            session.delete(variant)
    session.commit()
    assert unused_facets(session) == [("colour", "white"), ("size", "120")]
    assert prune_facets(session) == 2
    session.commit()

    assert facet_rows(engine) == {("size", "130"), ("colour", "navy"), ("colour", "red")}
    assert prune_facets(session) == 0


def test_a_prune_beside_a_writer_of_the_pruned_value_leaves_it_there(app, session):
    """Both orders: the writer's transaction under way when the prune starts (the prune
    waits for it, then sees its variant), and the prune's under way when the writer
    inserts (the writer waits, then adds the value back)."""
    engine = engine_of(app)
    product = make_product(session, sizes=("120", "130"))
    session.commit()
    session.delete(next(v for v in product.variants if v.size == "130"))
    session.commit()
    assert unused_facets(session) == [("size", "130")]
    session.commit()

    # 1. A variant of size 130 is being written (the trigger found the row there) ...
    with engine.connect() as writer:
        insert_variant(writer, product.id, "RACE-130-A", "130")
        pruned: list[int] = []
        prune = threading.Thread(target=lambda: pruned.append(commit_prune(engine)))
        prune.start()
        prune.join(timeout=0.5)
        assert prune.is_alive(), "the prune must wait for the variant writer"
        writer.commit()
    prune.join(timeout=30)
    assert pruned == [0]
    assert ("size", "130") in facet_rows(engine)

    # 2. ... and the prune, holding its lock, deletes a value a writer then inserts.
    with engine.connect() as writer:
        writer.execute(sa.text("DELETE FROM variant WHERE sku = 'RACE-130-A'"))
        writer.commit()
    assert prune_facets(session) == 1  # not committed yet
    done = threading.Event()

    def write() -> None:
        with engine.connect() as connection:
            insert_variant(connection, product.id, "RACE-130-B", "130")
            connection.commit()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(timeout=0.5), "the writer must wait for the prune"
    session.commit()
    thread.join(timeout=30)
    assert done.is_set()
    assert ("size", "130") in facet_rows(engine)


def commit_prune(engine) -> int:
    with Session(engine) as session:
        pruned = prune_facets(session)
        session.commit()
    return pruned


def test_the_menus_read_what_the_walk_of_the_variants_read(app, session, tmp_path):
    """The demo catalogue, then more sizes than the menus show (the same lowest 60)."""
    seed_demo_catalogue(session, FileStorage(tmp_path / "uploads"), image_size=8)
    session.commit()

    def both() -> tuple[list, list]:
        connection = session.connection()
        walked = connection.execute(WALK, {"limit": FACET_LIMIT}).all()
        read = connection.execute(FACETS_STATEMENT, {"limit": FACET_LIMIT}).all()
        session.commit()
        return [tuple(row) for row in walked], [tuple(row) for row in read]

    walked, read = both()
    assert read == walked and len(read) > 10
    facets = list_facets(session)
    assert set(facets.sizes) == {value for kind, value in walked if kind == "size"}
    assert set(facets.colours) == {value for kind, value in walked if kind == "colour"}

    make_product(session, sizes=tuple(f"{number:03d}" for number in range(70)), colours=("zz",))
    session.commit()
    walked, read = both()
    assert read == walked
    assert [value for kind, value in read if kind == "size"][-1] == "059"
    assert len(list_facets(session).sizes) == FACET_LIMIT


def test_the_prune_command_and_the_scheduled_job(app, session):
    from shop.jobs.scheduler import TIMETABLE

    product = make_product(session, sizes=("120", "130"))
    session.commit()
    session.delete(product.variants[1])
    session.commit()

    result = app.test_cli_runner().invoke(args=["prune-facets"])

    assert result.exit_code == 0, result.output
    assert "Removed 1 size(s) and colour(s)" in result.output
    assert facet_rows(engine_of(app)) == {("size", "120"), ("colour", "navy")}
    task = next(task for task in TIMETABLE if task.name == "prune-facets")
    assert app.config[task.setting] == 3600


def test_a_prune_gives_up_rather_than_hold_writers_off_long(app, session, monkeypatch):
    """A long transaction writing variants (a big import): the prune waits ``LOCK_TIMEOUT``
    at most, then leaves everything as it was for the next run (PostgreSQL; SQLite's
    writers wait for each other anyway)."""
    from shop.catalog import facets

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's table lock")
    monkeypatch.setattr(facets, "LOCK_TIMEOUT", "200ms")
    engine = engine_of(app)
    product = make_product(session, sizes=("120", "130"))
    session.commit()
    session.delete(product.variants[1])
    session.commit()
    with engine.connect() as writer:
        insert_variant(writer, product.id, "LONG-IMPORT-1", "140")
        assert prune_facets(session) == 0
        assert session.scalar(sa.text("SELECT current_setting('lock_timeout')")) == "0"
        session.commit()
        writer.commit()
    assert ("size", "130") in facet_rows(engine)
    assert prune_facets(session) == 1
    session.commit()
    assert facet_rows(engine) == {("size", "120"), ("size", "140"), ("colour", "navy")}
