"""The reseller's own page: profile, picks (add by the catalogue's search, order, note,
remove) and collections. Only an approved window changes its picks; a refused action
changes nothing."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.resellers.models import CollectionPick, Reseller, ResellerCollection, ResellerPick
from shop.resellers.rules import MAX_COLLECTIONS
from tests.accounts.helpers import login
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.images import picture
from tests.helpers.resellers import add_picks, make_reseller, post_with_avatar

HOME = "/account/window"


@pytest.fixture
def products(session):
    made = [
        make_product(session, slug="polo", name="Polo shirt", name_zh="校服Polo衫"),
        make_product(session, slug="skirt", name="Pleated skirt"),
        make_product(session, slug="blazer", name="Wool blazer"),
    ]
    session.commit()
    return made


@pytest.fixture
def reseller(client, session):
    made = make_reseller(session)
    assert login(client, email="reseller@example.com").status_code == 302
    return made


def picked(app, reseller) -> list[tuple[str, str]]:
    with Session(app.extensions["sa_engine"]) as db:
        rows = db.execute(
            sa.select(ResellerPick.product_id, ResellerPick.note)
            .where(ResellerPick.reseller_id == reseller.id)
            .order_by(ResellerPick.position, ResellerPick.id)
        ).all()
        from shop.catalog.models import Product

        slugs = dict(db.execute(sa.select(Product.id, Product.slug)).all())
    return [(slugs[product_id], note) for product_id, note in rows]


def pick_ids(app, reseller) -> dict[str, int]:
    with Session(app.extensions["sa_engine"]) as db:
        from shop.catalog.models import Product

        rows = db.execute(
            sa.select(Product.slug, ResellerPick.id)
            .join(ResellerPick, ResellerPick.product_id == Product.id)
            .where(ResellerPick.reseller_id == reseller.id)
        ).all()
    return dict(rows)


def flashes(page: str) -> str:
    return " ".join(re.findall(r'data-testid="flash"[^>]*>(.*?)</', page, re.S))


def test_search_uses_the_catalogue_and_adds_picks(app, client, reseller, products):
    page = client.get(f"{HOME}/add?q=polo").text
    assert re.findall(r'data-testid="search-result" data-slug="([^"]+)"', page) == ["polo"]
    response = client.post(f"{HOME}/picks", data={"slug": "polo", "q": "polo"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/window/add?q=polo"
    client.post(f"{HOME}/picks", data={"slug": "skirt"})
    assert picked(app, reseller) == [("polo", ""), ("skirt", "")]


def test_adding_twice_or_an_unknown_or_inactive_product_changes_nothing(
    app, client, session, reseller, products
):
    make_product(session, slug="retired", active=False)
    session.commit()
    client.post(f"{HOME}/picks", data={"slug": "polo"})
    for slug, reason in [
        ("polo", "That product is in your window already."),
        ("retired", "That product is not on sale in the catalogue."),
        ("no-such-thing", "That product is not on sale in the catalogue."),
        ("x" * 5000, "That product is not on sale in the catalogue."),
    ]:
        response = client.post(f"{HOME}/picks", data={"slug": slug})
        assert response.status_code == 302
        assert reason in flashes(client.get(HOME).text)
    assert picked(app, reseller) == [("polo", "")]


def test_reorder_note_and_remove(app, client, session, reseller, products):
    add_picks(session, reseller, products)
    ids = pick_ids(app, reseller)
    client.post(f"{HOME}/picks/{ids['blazer']}/move", data={"direction": "up"})
    assert [slug for slug, _ in picked(app, reseller)] == ["polo", "blazer", "skirt"]
    client.post(f"{HOME}/picks/{ids['polo']}/move", data={"direction": "up"})  # at the top
    client.post(f"{HOME}/picks/{ids['polo']}/move", data={"direction": "down"})
    assert [slug for slug, _ in picked(app, reseller)] == ["blazer", "polo", "skirt"]
    client.post(f"{HOME}/picks/{ids['skirt']}/note", data={"note": "  Wears\nwell  "})
    assert ("skirt", "Wears well") in picked(app, reseller)
    response = client.post(f"{HOME}/picks/{ids['skirt']}/note", data={"note": "x" * 121})
    assert response.status_code == 302
    assert ("skirt", "Wears well") in picked(app, reseller)  # refused: too long
    client.post(f"{HOME}/picks/{ids['polo']}/remove")
    assert picked(app, reseller) == [("blazer", ""), ("skirt", "Wears well")]
    again = client.post(f"{HOME}/picks/{ids['polo']}/remove")
    assert again.status_code == 302
    assert "no longer in your window" in flashes(client.get(HOME).text)


def test_a_window_not_approved_cannot_change_its_picks(app, client, session, products):
    reseller = make_reseller(session, status="applied")
    login(client, email="reseller@example.com")
    page = client.get(HOME).text
    assert 'data-status="applied"' in page
    client.post(f"{HOME}/picks", data={"slug": "polo"})
    assert picked(app, reseller) == []
    assert "once the factory has approved it" in flashes(client.get(HOME).text)


def test_a_suspended_window_keeps_its_picks_and_cannot_change_them(app, client, session, products):
    reseller = make_reseller(session, status="suspended")
    add_picks(session, reseller, products[:1])
    login(client, email="reseller@example.com")
    [pick_id] = pick_ids(app, reseller).values()
    client.post(f"{HOME}/picks/{pick_id}/remove")
    client.post(f"{HOME}/profile", data={"display_name": "New name"})
    assert picked(app, reseller) == [("polo", "")]
    with Session(app.extensions["sa_engine"]) as db:
        assert db.get(Reseller, reseller.id).display_name == "Ann's picks"


def test_the_profile_is_edited_and_the_avatar_replaced(app, client, reseller):
    response = client.post(
        f"{HOME}/profile",
        data={"display_name": "Ann", "bio": "New bio", "links": "https://douyin.com/ann"},
    )
    assert response.status_code == 302
    with Session(app.extensions["sa_engine"]) as db:
        saved = db.get(Reseller, reseller.id)
        assert (saved.display_name, saved.bio) == ("Ann", "New bio")
        assert saved.social_links == ["https://douyin.com/ann"]
    fields = {"display_name": "Ann", "bio": "", "links": ""}
    assert post_with_avatar(client, f"{HOME}/profile", fields, picture()).status_code == 302
    bad = post_with_avatar(client, f"{HOME}/profile", fields, b"not an image")
    assert bad.status_code == 400 and "not a JPEG, PNG or WebP" in bad.text
    with Session(app.extensions["sa_engine"]) as db:
        path = db.get(Reseller, reseller.id).avatar_path
        assert path.startswith("resellers/")
        changes = db.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.action == "reseller.avatar", AuditEntry.target_id == str(reseller.id)
            )
        ).all()
        assert [entry.after for entry in changes] == [{"avatar_path": path}]
    refused = client.post(f"{HOME}/profile", data={"display_name": "", "links": "ftp://x"})
    assert refused.status_code == 400


def collections_of(app, reseller) -> list[tuple[str, str]]:
    with Session(app.extensions["sa_engine"]) as db:
        rows = db.execute(
            sa.select(ResellerCollection.slug, ResellerCollection.title)
            .where(ResellerCollection.reseller_id == reseller.id)
            .order_by(ResellerCollection.position)
        ).all()
    return [tuple(row) for row in rows]


def collection_id(app, reseller, slug: str) -> int:
    with Session(app.extensions["sa_engine"]) as db:
        return db.scalar(
            sa.select(ResellerCollection.id).where(
                ResellerCollection.reseller_id == reseller.id, ResellerCollection.slug == slug
            )
        )


def test_collections_are_made_renamed_filled_and_deleted(app, client, session, reseller, products):
    add_picks(session, reseller, products)
    client.post(f"{HOME}/collections", data={"title": "Back to school!"})
    client.post(f"{HOME}/collections", data={"title": "开学季"})
    client.post(f"{HOME}/collections", data={"title": "Kitchens", "slug": "For-Kitchens"})
    refused = client.post(f"{HOME}/collections", data={"title": "Again", "slug": "for-kitchens"})
    assert refused.status_code == 302
    assert collections_of(app, reseller) == [
        ("back-to-school", "Back to school!"),
        ("collection", "开学季"),
        ("for-kitchens", "Kitchens"),
    ]
    school = collection_id(app, reseller, "back-to-school")
    ids = pick_ids(app, reseller)
    for slug in ("skirt", "polo", "polo"):
        client.post(f"{HOME}/picks/{ids[slug]}/collection", data={"collection_id": str(school)})
    page = client.get(f"{HOME}/collections/{school}").text
    assert re.findall(r'data-testid="collection-item" data-slug="([^"]+)"', page) == [
        "skirt",
        "polo",
    ]
    client.post(f"{HOME}/collections/{school}/rename", data={"title": "School"})
    assert collections_of(app, reseller)[0] == ("back-to-school", "School")
    # A pick removed from the window leaves its collections too.
    client.post(f"{HOME}/picks/{ids['skirt']}/remove")
    with Session(app.extensions["sa_engine"]) as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(CollectionPick)) == 1
    client.post(f"{HOME}/collections/{school}/delete")
    assert [slug for slug, _ in collections_of(app, reseller)] == ["collection", "for-kitchens"]
    assert [slug for slug, _ in picked(app, reseller)] == ["polo", "blazer"]


def test_collection_items_are_reordered_and_removed(app, client, session, reseller, products):
    add_picks(session, reseller, products)
    client.post(f"{HOME}/collections", data={"title": "School"})
    school = collection_id(app, reseller, "school")
    ids = pick_ids(app, reseller)
    for slug in ("polo", "skirt"):
        client.post(f"{HOME}/picks/{ids[slug]}/collection", data={"collection_id": str(school)})
    with Session(app.extensions["sa_engine"]) as db:
        items = dict(
            db.execute(
                sa.select(CollectionPick.product_id, CollectionPick.id).where(
                    CollectionPick.collection_id == school
                )
            ).all()
        )
    skirt_item = items[products[1].id]
    client.post(f"{HOME}/collections/{school}/items/{skirt_item}/move", data={"direction": "up"})
    page = client.get(f"{HOME}/collections/{school}").text
    assert re.findall(r'data-testid="collection-item" data-slug="([^"]+)"', page) == [
        "skirt",
        "polo",
    ]
    client.post(f"{HOME}/collections/{school}/items/{skirt_item}/remove")
    page = client.get(f"{HOME}/collections/{school}").text
    assert re.findall(r'data-testid="collection-item" data-slug="([^"]+)"', page) == ["polo"]
    assert len(picked(app, reseller)) == 3  # still in the window


def test_a_window_has_at_most_so_many_collections(app, client, reseller):
    for number in range(MAX_COLLECTIONS + 1):
        client.post(f"{HOME}/collections", data={"title": f"C{number}"})
    assert len(collections_of(app, reseller)) == MAX_COLLECTIONS
    assert "as many as it can" in flashes(client.get(HOME).text)


def test_the_same_new_collection_sent_twice_is_made_once(app, client, reseller):
    page = client.get(HOME).text
    key = re.search(r'name="request_key"[^>]*value="([^"]+)"', page).group(1)
    data = {"title": "School", "request_key": key}
    assert client.post(f"{HOME}/collections", data=data).status_code == 302
    assert client.post(f"{HOME}/collections", data=data).status_code == 302
    assert collections_of(app, reseller) == [("school", "School")]


def test_the_own_list_is_paged_and_marks_products_off_sale(app, client, session, reseller):
    made = [make_product(session, slug=f"item-{n:02d}") for n in range(50)]
    session.commit()
    add_picks(session, reseller, made)
    made[0].active = False
    session.commit()
    first = client.get(HOME).text
    assert len(re.findall(r'data-testid="own-pick"', first)) == 48
    assert "Not on sale: buyers do not see it" in first
    second = client.get(f"{HOME}?page=2").text
    assert re.findall(r'data-testid="own-pick" data-slug="([^"]+)"', second) == [
        "item-48",
        "item-49",
    ]


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_pick_sent_at_once_is_added_once(app, client, reseller, products, copies):
    answers = send_at_once(app, client, copies, "POST", f"{HOME}/picks", {"slug": "skirt"})
    assert [answer.status for answer in answers] == [302] * copies
    assert picked(app, reseller) == [("skirt", "")]
    messages = [message for answer in answers for message in answer.messages]
    assert messages.count("That product is in your window already.") == copies - 1
