"""Resellers' windows for tests, made through the shop's own rules."""

import sqlalchemy as sa

from shop.accounts.models import User
from shop.resellers import picks, service
from shop.resellers.models import Reseller, ResellerVisit
from tests.accounts.helpers import make_user
from tests.factories import make_product


def make_reseller(
    session,
    *,
    email="reseller@example.com",
    handle="ann-picks",
    status="approved",
    display_name="Ann's picks",
    bio="School uniforms I like.",
    links=("https://weibo.com/ann",),
) -> Reseller:
    """A reseller's account and window in ``status`` (committed)."""
    user = session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = make_user(session, email=email, name="Ann")
    reseller = service.apply_for_window(
        session,
        user,
        service.Application(handle, display_name, bio, list(links)),
        terms_version="2026-12",
        auto_approve=False,
    )
    staff = session.scalar(sa.select(User).where(User.email == "approver@factory.example"))
    if staff is None:
        staff = make_user(session, email="approver@factory.example", role="manager")
    path = {"applied": [], "approved": ["approve"], "suspended": ["approve", "suspend"]}
    path["closed"] = ["close"]
    for action in path[status]:
        service.change_status(session, staff, reseller, action, expected=reseller.status)
    session.commit()
    return reseller


def add_picks(session, reseller: Reseller, products, notes=()) -> None:
    """Pick ``products`` in order, with ``notes`` beside the first ones (committed)."""
    notes = list(notes)
    status = reseller.status
    if status != "approved":
        session.execute(
            sa.update(Reseller).where(Reseller.id == reseller.id).values(status="approved")
        )
    for index, product in enumerate(products):
        pick = picks.add_pick(session, reseller, product.slug)
        if index < len(notes) and notes[index]:
            picks.set_pick_note(session, reseller, pick.id, notes[index])
    if status != "approved":
        session.execute(sa.update(Reseller).where(Reseller.id == reseller.id).values(status=status))
    session.commit()
    session.refresh(reseller)


def post_with_avatar(client, path: str, fields: dict, image: bytes, filename="me.png"):
    """A multipart form with an ``avatar`` file, its body built in memory (the test client
    would spool a large one to a temporary file it never closes)."""
    body, content_type = avatar_form(fields, image, filename)
    return client.post(path, data=body, content_type=content_type)


def avatar_form(fields: dict, image: bytes, filename="me.png") -> tuple[bytes, str]:
    """The body and content type of a multipart form with an ``avatar`` file."""
    boundary = "----sourcefront-window-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="avatar"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + image
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def use_money_model(session, reseller: Reseller, model: str) -> None:
    """The window's own money model (``ResellerTerms``), committed."""
    from shop.resellers.models import ResellerTerms

    terms = session.get(ResellerTerms, reseller.id)
    if terms is None:
        session.add(ResellerTerms(reseller_id=reseller.id, money_model=model))
    else:
        terms.money_model = model
    session.commit()


def set_window_price(session, reseller: Reseller, product, currency: str, amount: int) -> None:
    """A reseller price as the window's form saves it (checked against factory and cap)."""
    from shop.resellers import prices

    prices.set_prices(
        session,
        session.get(Reseller, reseller.id),
        product.id,
        {currency: amount},
        actor_user_id=reseller.user_id,
    )
    session.commit()


def window_cookie(client):
    """The visitor's window mark cookie, or ``None``."""
    return client.get_cookie("sf_via")


# The factory's first-tier prices of ``two_price_windows``' polo, per currency.
POLO_PRICES = {"CNY": 8900, "JPY": 1800, "SGD": 1990, "USD": 1250}


def two_price_windows(session) -> dict:
    """Ann's window on the 'price' model with a polo sold in four currencies
    (``POLO_PRICES``; ¥79.00 from 50 in CNY); Bo's window with a skirt of his own."""
    from shop.catalog.models import PriceTier

    ann = make_reseller(session)
    bo = make_reseller(session, email="bo@example.com", handle="bo-shop")
    polo = make_product(session, slug="polo", name="Polo", tiers=((1, 8900), (50, 7900)))
    for currency in ("JPY", "SGD", "USD"):
        polo.price_tiers.append(
            PriceTier(currency=currency, min_quantity=1, unit_amount=POLO_PRICES[currency])
        )
    skirt = make_product(session, slug="skirt")
    session.commit()
    add_picks(session, ann, [polo])
    add_picks(session, bo, [skirt])
    use_money_model(session, ann, "price")
    return {"ann": ann, "bo": bo, "polo": polo.id, "skirt": skirt.id}


def window_with_a_pick(session) -> int:
    """Ann's approved window (``/w/ann-picks``) with one pick, the Polo; its id."""
    ann = make_reseller(session)
    polo = make_product(session, slug="polo", name="Polo")
    session.commit()
    add_picks(session, ann, [polo])
    return ann.id


def stored_visits(session, reseller_id: int) -> int:
    """The window's visits in the database (``reseller_visit``)."""
    session.expire_all()
    total = sa.func.coalesce(sa.func.sum(ResellerVisit.visits), 0)
    return session.scalar(sa.select(total).where(ResellerVisit.reseller_id == reseller_id))
