"""Every button of the reseller's own pages sent 2 and 5 times at once (a double tap, an
impatient reload) has one effect: moves move one place, a note or a profile is saved once
(one audit entry), removals and deletions happen once and the copies hear that it is
done already, never a server error."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.catalog.models import Product
from shop.resellers import picks
from shop.resellers.models import CollectionPick, Reseller, ResellerCollection, ResellerPick
from shop.storage import get_storage
from tests.accounts.helpers import login
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.admin import audits
from tests.helpers.images import picture
from tests.helpers.resellers import add_picks, avatar_form, make_reseller

HOME = "/account/window"
KEY = "k" * 32  # the one-time key the page gave the form
COPIES = pytest.mark.parametrize("copies", [2, 5])


@pytest.fixture
def window(client, session):
    """Ann's approved window with three picks (polo, skirt, blazer) and a collection
    "School" holding them in that order; Ann signed in."""
    reseller = make_reseller(session)
    made = [make_product(session, slug=slug) for slug in ("polo", "skirt", "blazer")]
    session.commit()
    add_picks(session, reseller, made)
    reseller = session.get(Reseller, reseller.id)
    school = picks.create_collection(session, reseller, "School", "school")
    for pick in session.scalars(sa.select(ResellerPick).order_by(ResellerPick.position)):
        picks.add_to_collection(session, reseller, school.id, pick.id)
    session.commit()
    assert login(client, email="reseller@example.com").status_code == 302
    return {"reseller": reseller.id, "collection": school.id}


def read(app, query):
    with Session(app.extensions["sa_engine"]) as db:
        return db.execute(query).all()


def order_of(app, model) -> list[str]:
    """The products of the window (``ResellerPick``) or collection (``CollectionPick``)
    in their order."""
    rows = read(
        app,
        sa.select(Product.slug)
        .join(model, model.product_id == Product.id)
        .order_by(model.position, model.id),
    )
    return [slug for (slug,) in rows]


def pick_order(app) -> list[str]:
    return order_of(app, ResellerPick)


def collection_order(app) -> list[str]:
    return order_of(app, CollectionPick)


def row_id(app, model, slug: str) -> int:
    [(found,)] = read(
        app,
        sa.select(model.id)
        .join(Product, Product.id == model.product_id)
        .where(Product.slug == slug),
    )
    return found


def pick_id(app, slug: str) -> int:
    return row_id(app, ResellerPick, slug)


def item_id(app, slug: str) -> int:
    return row_id(app, CollectionPick, slug)


def messages(answers) -> list[str]:
    return [message for answer in answers for message in answer.messages]


def all_redirect(answers) -> None:
    assert [answer.status for answer in answers] == [302] * len(answers)


@COPIES
def test_move_up_pressed_at_once_moves_one_place(app, client, window, copies):
    path = f"{HOME}/picks/{pick_id(app, 'blazer')}/move"
    answers = send_at_once(
        app, client, copies, "POST", path, {"direction": "up", "request_key": KEY}
    )
    all_redirect(answers)
    assert pick_order(app) == ["polo", "blazer", "skirt"]
    # The same page's button again (the back button): nothing moves.
    client.post(path, data={"direction": "up", "request_key": KEY})
    assert pick_order(app) == ["polo", "blazer", "skirt"]


def test_the_page_gives_its_move_buttons_a_key(app, client, window):
    page = client.get(HOME).text
    keys = set(re.findall(r'name="request_key" value="([^"]+)"', page))
    assert len(keys) >= 1 and all(len(key) >= 16 for key in keys)
    collection = client.get(f"{HOME}/collections/{window['collection']}").text
    assert 'name="request_key" value="' in collection


@COPIES
def test_a_note_sent_at_once_is_saved(app, client, window, copies):
    path = f"{HOME}/picks/{pick_id(app, 'polo')}/note"
    answers = send_at_once(app, client, copies, "POST", path, {"note": "Best  seller"})
    all_redirect(answers)
    assert read(app, sa.select(ResellerPick.note).where(ResellerPick.note != "")) == [
        ("Best seller",)
    ]
    assert messages(answers).count("Note saved.") == copies


@COPIES
def test_a_pick_removed_at_once_is_removed_once(app, client, window, copies):
    path = f"{HOME}/picks/{pick_id(app, 'skirt')}/remove"
    answers = send_at_once(app, client, copies, "POST", path, {})
    all_redirect(answers)
    assert pick_order(app) == ["polo", "blazer"]
    assert collection_order(app) == ["polo", "blazer"]
    said = messages(answers)
    assert said.count("Removed from your window.") == 1
    assert said.count("That product is no longer in your window.") == copies - 1


@COPIES
def test_add_to_collection_at_once_adds_once(app, client, session, window, copies):
    reseller = session.get(Reseller, window["reseller"])
    other = picks.create_collection(session, reseller, "Kitchen", "kitchen")
    session.commit()
    path = f"{HOME}/picks/{pick_id(app, 'polo')}/collection"
    answers = send_at_once(app, client, copies, "POST", path, {"collection_id": str(other.id)})
    all_redirect(answers)
    rows = read(app, sa.select(CollectionPick.id).where(CollectionPick.collection_id == other.id))
    assert len(rows) == 1
    assert messages(answers).count("That product is in the collection already.") == copies - 1


@COPIES
def test_a_collection_created_at_once_is_made_once(app, client, window, copies):
    data = {"title": "Back to school", "slug": "", "request_key": KEY}
    answers = send_at_once(app, client, copies, "POST", f"{HOME}/collections", data)
    all_redirect(answers)
    titles = read(app, sa.select(ResellerCollection.title).order_by(ResellerCollection.id))
    assert titles == [("School",), ("Back to school",)]


@COPIES
def test_a_rename_sent_at_once_renames(app, client, window, copies):
    path = f"{HOME}/collections/{window['collection']}/rename"
    answers = send_at_once(app, client, copies, "POST", path, {"title": "Uniforms"})
    all_redirect(answers)
    assert read(app, sa.select(ResellerCollection.title)) == [("Uniforms",)]
    assert messages(answers).count("Collection renamed.") == copies


@COPIES
def test_a_collection_deleted_at_once_is_deleted_once(app, client, window, copies):
    path = f"{HOME}/collections/{window['collection']}/delete"
    answers = send_at_once(app, client, copies, "POST", path, {})
    all_redirect(answers)
    assert read(app, sa.select(ResellerCollection.id)) == []
    assert collection_order(app) == []
    assert pick_order(app) == ["polo", "skirt", "blazer"]  # the picks stay
    said = messages(answers)
    assert said.count("Collection deleted.") == 1
    assert said.count("That collection was deleted.") == copies - 1


@COPIES
def test_a_collection_move_at_once_moves_one_place(app, client, window, copies):
    collection = window["collection"]
    path = f"{HOME}/collections/{collection}/items/{item_id(app, 'polo')}/move"
    data = {"direction": "down", "request_key": KEY}
    answers = send_at_once(app, client, copies, "POST", path, data)
    all_redirect(answers)
    assert collection_order(app) == ["skirt", "polo", "blazer"]
    assert pick_order(app) == ["polo", "skirt", "blazer"]  # the window's order stays


@COPIES
def test_a_collection_item_removed_at_once_is_removed_once(app, client, window, copies):
    collection = window["collection"]
    path = f"{HOME}/collections/{collection}/items/{item_id(app, 'skirt')}/remove"
    answers = send_at_once(app, client, copies, "POST", path, {})
    all_redirect(answers)
    assert collection_order(app) == ["polo", "blazer"]
    said = messages(answers)
    assert said.count("Removed from the collection.") == 1
    assert said.count("That product is no longer in your window.") == copies - 1


PROFILE = {"display_name": "Ann's school picks", "bio": "New bio", "links": ""}


@COPIES
def test_a_profile_saved_at_once_is_saved_once(app, client, session, window, copies):
    data = {**PROFILE, "request_key": KEY}
    answers = send_at_once(app, client, copies, "POST", f"{HOME}/profile", data)
    all_redirect(answers)
    assert read(app, sa.select(Reseller.display_name, Reseller.bio)) == [
        ("Ann's school picks", "New bio")
    ]
    assert len(audits(session, "reseller.profile")) == 1


@COPIES
def test_an_avatar_sent_at_once_is_stored_once(app, client, session, window, copies):
    body, content_type = avatar_form({**PROFILE, "request_key": KEY}, picture())
    answers = send_at_once(
        app, client, copies, "POST", f"{HOME}/profile", body, content_type=content_type
    )
    all_redirect(answers)
    [(path,)] = read(app, sa.select(Reseller.avatar_path))
    assert path and path.startswith("resellers/")
    assert get_storage(app).exists(path)
    assert len(audits(session, "reseller.profile")) == 1
    assert messages(answers).count("Your window's profile is saved.") == copies
