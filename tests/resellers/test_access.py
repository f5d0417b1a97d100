"""Who may open each new page: anonymous visitors, a customer, another reseller, staff
without ``resellers.manage`` and staff with it, and the reseller themselves."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.resellers.models import CollectionPick, Reseller, ResellerCollection, ResellerPick
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.resellers import add_picks, make_reseller

ROLES = ("anonymous", "customer", "other_reseller", "warehouse", "manager", "owner", "reseller")


@pytest.fixture
def world(session):
    """Ann's approved window with a pick and a collection; Bo's window beside it."""
    ann = make_reseller(session)
    make_reseller(session, email="bo@example.com", handle="bo-shop")
    polo = make_product(session, slug="polo")
    session.commit()
    add_picks(session, ann, [polo], notes=["Ann's note"])
    from shop.resellers import picks

    collection = picks.create_collection(session, session.get(Reseller, ann.id), "School", "")
    pick = session.scalar(sa.select(ResellerPick).where(ResellerPick.reseller_id == ann.id))
    picks.add_to_collection(session, session.get(Reseller, ann.id), collection.id, pick.id)
    session.commit()
    item = session.scalar(sa.select(CollectionPick))
    return {"ann": ann, "pick": pick.id, "collection": collection.id, "item": item.id}


def become(role, client, session, sign_in):
    if role == "anonymous":
        return
    if role in ("warehouse", "manager", "owner"):
        sign_in(role)
        return
    email = {
        "customer": "someone@example.com",
        "other_reseller": "bo@example.com",
        "reseller": "reseller@example.com",
    }[role]
    if role == "customer":
        make_user(session, email=email)
    assert login(client, email=email).status_code == 302


def pages(world) -> dict[str, tuple[str, str]]:
    c, p, i = world["collection"], world["pick"], world["item"]
    return {
        "home": ("GET", "/account/window"),
        "search": ("GET", "/account/window/add?q=polo"),
        "collection": ("GET", f"/account/window/collections/{c}"),
        "note": ("POST", f"/account/window/picks/{p}/note"),
        "move": ("POST", f"/account/window/picks/{p}/move"),
        "remove": ("POST", f"/account/window/picks/{p}/remove"),
        "to_collection": ("POST", f"/account/window/picks/{p}/collection"),
        "rename": ("POST", f"/account/window/collections/{c}/rename"),
        "item_move": ("POST", f"/account/window/collections/{c}/items/{i}/move"),
        "item_remove": ("POST", f"/account/window/collections/{c}/items/{i}/remove"),
        "delete": ("POST", f"/account/window/collections/{c}/delete"),
        "admin_list": ("GET", "/admin/resellers"),
        "admin_detail": ("GET", f"/admin/resellers/{world['ann'].id}"),
        "admin_status": ("POST", f"/admin/resellers/{world['ann'].id}/status"),
        "window": ("GET", "/w/ann-picks"),
        "window_collection": ("GET", "/w/ann-picks/c/school"),
    }


FORMS = {
    "note": {"note": "Changed by someone"},
    "move": {"direction": "down"},
    "to_collection": {"collection_id": "0"},
    "rename": {"title": "Taken over"},
    "item_move": {"direction": "down"},
    "admin_status": {"action": "suspend", "expected": "approved"},
}
OWNER_PAGES = {
    "home", "search", "collection", "note", "move", "remove", "to_collection", "rename",
    "item_move", "item_remove", "delete",
}  # fmt: skip
ADMIN_PAGES = {"admin_list", "admin_detail", "admin_status"}


def expected(role: str, page: str, method: str) -> int | str:
    """The status, or "login" for the sign-in redirect, or "refused" for a flash and
    redirect that changes nothing (a POST on someone else's pick or collection)."""
    if page in ("window", "window_collection"):
        return 200
    if role == "anonymous":
        return "login"
    if page in ADMIN_PAGES:
        if role in ("manager", "owner"):
            return 302 if method == "POST" else 200
        return 403
    if role in ("warehouse", "manager", "owner"):
        return 403  # staff accounts have no window
    if role == "customer":
        return 200 if page == "home" else 404
    if role == "other_reseller":
        if page == "collection":
            return 404
        return "refused" if method == "POST" else 200
    return 302 if method == "POST" else 200


def snapshot(app, ann_id) -> tuple:
    """Everything about Ann's window an intruder could change."""
    with Session(app.extensions["sa_engine"]) as db:
        reseller = db.get(Reseller, ann_id)
        picks = db.execute(
            sa.select(ResellerPick.id, ResellerPick.position, ResellerPick.note)
            .where(ResellerPick.reseller_id == ann_id)
            .order_by(ResellerPick.id)
        ).all()
        collections = db.execute(
            sa.select(ResellerCollection.id, ResellerCollection.title).order_by(
                ResellerCollection.id
            )
        ).all()
        items = db.execute(sa.select(CollectionPick.id, CollectionPick.position)).all()
    return reseller.status, tuple(picks), tuple(collections), tuple(items)


@pytest.mark.parametrize("role", ROLES)
def test_every_new_page_for_every_role(app, client, session, sign_in, world, role):
    become(role, client, session, sign_in)
    for page, (method, path) in pages(world).items():
        if role == "reseller" or page == "admin_status" and role in ("manager", "owner"):
            continue  # their effects are the other tests'; GETs below
        before = snapshot(app, world["ann"].id)
        response = client.open(path, method=method, data=FORMS.get(page, {}))
        want = expected(role, page, method)
        if want == "login":
            assert response.status_code == 302, (role, page)
            assert response.headers["Location"].startswith("/account/login"), (role, page)
        elif want == "refused":
            assert response.status_code == 302, (role, page)
        else:
            assert response.status_code == want, (role, page, response.status_code)
        if method == "POST":
            assert snapshot(app, world["ann"].id) == before, (role, page)


def test_the_reseller_opens_their_own_pages(client, session, sign_in, world):
    become("reseller", client, session, sign_in)
    for page, (method, path) in pages(world).items():
        if method == "GET":
            status = 403 if page.startswith("admin") else 200
            assert client.get(path).status_code == status, page
