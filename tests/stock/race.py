"""One buyer in a race: its own engine and session, a wait for the common start, then a
real commit. Importable by worker processes."""

import time

from sqlalchemy.orm import Session

import shop.models  # noqa: F401 - every table, as the app has them
from shop.db import make_engine
from shop.stock.allocation import NotEnoughStock, allocate


def buy_one(url: str, variant_id: int, buyer: int, start_at: float) -> str:
    engine = make_engine(url)
    try:
        time.sleep(max(start_at - time.time(), 0))
        with Session(engine) as session:
            try:
                allocate(session, variant_id, 1, reference=f"buyer-{buyer}")
                session.commit()
                return "ok"
            except NotEnoughStock as error:
                session.rollback()
                return f"only {error.available} left"
    finally:
        engine.dispose()
