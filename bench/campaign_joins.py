"""Participants joining a group buy in the background, for the progress endpoint's row of
``bench/run.sh`` (issue 18: ``/g/<code>/progress.json`` must serve >= 0.5 x the bare
floor *while people join*).

    DATABASE_URL=... .venv/bin/python bench/campaign_joins.py --seed      # the campaign
    DATABASE_URL=... .venv/bin/python bench/campaign_joins.py --rate 10   # join until killed

``--seed`` makes (again) the open campaign ``BENCH`` over the first active made-to-order
product of the seeded catalogue, led by a bench user, with no maximum. Joining runs the
service's own steps — ``service.reserve`` (the conditional ``UPDATE`` of the counters)
and ``service.settle_card`` as if Stripe had authorised the card (no Stripe here) — and
commits each join, so every join bumps ``Campaign.version`` as a real one does: each is
a miss of the endpoint's cache. Prints how many joined when stopped (SIGTERM/SIGINT).
"""

import argparse
import os
import secrets
import signal
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import shop.models  # noqa: E402, F401 - every table, for the foreign keys
from shop.accounts.models import User  # noqa: E402
from shop.catalog.models import Product, Variant  # noqa: E402
from shop.db import make_engine, utcnow  # noqa: E402
from shop.groupbuys import service  # noqa: E402
from shop.groupbuys.models import Campaign, CampaignProduct  # noqa: E402

CODE = "BENCH"
PATH = f"/g/{CODE}/progress.json"


def seed(session: Session) -> None:
    product_id = session.scalar(
        sa.select(Product.id)
        .where(Product.active, Product.made_to_order, Product.school_id.is_(None))
        .order_by(Product.id)
        .limit(1)
    )
    if product_id is None:
        sys.exit("campaign_joins: no active made-to-order product to sell")
    leader = session.scalars(sa.select(User).where(User.email == "leader@bench.test")).first()
    if leader is None:
        leader = User(email="leader@bench.test", name="Bench Leader", password_hash="!")
        session.add(leader)
        session.flush()
    old = session.scalars(sa.select(Campaign).where(Campaign.code == CODE)).first()
    if old is not None:
        sys.exit(f"campaign_joins: {CODE} exists already (seed a fresh database)")
    now = utcnow()
    campaign = Campaign(
        code=CODE,
        leader_id=leader.id,
        title="Bench group buy",
        currency="CNY",
        opens_at=now,
        closes_at=now + timedelta(days=5),
        min_pieces=20,
        max_pieces=None,
        payment_mode="hold",
    )
    campaign.products.append(CampaignProduct(product_id=product_id, position=0))
    session.add(campaign)
    session.commit()
    print(f"campaign {CODE} over product {product_id}")


def join_forever(session: Session, rate: float) -> int:
    campaign = session.scalars(sa.select(Campaign).where(Campaign.code == CODE)).one()
    product_id = campaign.products[0].product_id
    variants = session.scalars(
        sa.select(Variant.id).where(Variant.product_id == product_id, Variant.for_sale)
    ).all()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    joined = 0
    pause = 1 / rate
    while not stop:
        started = time.monotonic()
        number = joined + 1
        joiner = service.Joiner(email=f"p{number}@bench.test", name=f"Parent {number}")
        quantities = {variants[number % len(variants)]: 1 + number % 3}
        participant = service.reserve(
            session, campaign, quantities, joiner, join_key=secrets.token_urlsafe(24)
        )
        service.settle_card(session, campaign, participant, "requires_capture", None)  # type: ignore[arg-type]
        session.commit()
        joined += 1
        time.sleep(max(pause - (time.monotonic() - started), 0))
    return joined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", action="store_true", help="make the campaign, then exit")
    parser.add_argument("--rate", type=float, default=10.0, help="joins per second")
    args = parser.parse_args()
    engine = make_engine(os.environ["DATABASE_URL"])
    with Session(engine, expire_on_commit=False) as session:
        if args.seed:
            seed(session)
        else:
            print(f"campaign_joins: {join_forever(session, args.rate)} joined", flush=True)
    engine.dispose()


if __name__ == "__main__":
    main()
