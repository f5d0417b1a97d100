"""Categories: create, rename, move (never under itself or its own subcategories), delete
only when empty — each with an audit row, and only for roles with ``catalog.manage``."""

import pytest
import sqlalchemy as sa

from shop.catalog.models import Category
from tests.factories import make_category, make_product
from tests.helpers.admin import (
    EVERYONE,
    MAY_MANAGE_CATALOG,
    audits,
    become,
    category_data,
    errors_in,
    fresh,
)


def test_create_top_level_and_child(client, session, sign_in):
    sign_in("manager")
    assert client.post("/admin/categories", data=category_data(name_zh="衬衫")).status_code == 302
    session.expire_all()
    shirts = session.scalars(sa.select(Category).where(Category.slug == "shirts")).one()
    assert (shirts.parent_id, shirts.name_zh) == (None, "衬衫")
    response = client.post(
        "/admin/categories",
        data=category_data(name="Polos", slug="polos", parent_id=str(shirts.id)),
    )
    assert response.status_code == 302
    polos = session.scalars(sa.select(Category).where(Category.slug == "polos")).one()
    assert polos.parent_id == shirts.id
    assert [entry.after["slug"] for entry in audits(session, "category.create")] == [
        "shirts",
        "polos",
    ]
    page = client.get("/admin/categories").text
    assert page.index('data-slug="shirts"') < page.index('data-slug="polos"')


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"slug": "Bad Slug"}, "slug", "lowercase letters"),
        ({"slug": "taken"}, "slug", "already uses this slug"),
        ({"name": ""}, "name", "required"),
        ({"parent_id": "999999"}, "parent_id", "Not a valid choice"),
    ],
)
def test_create_refuses_bad_input(client, session, sign_in, overrides, field, message):
    make_category(session, slug="taken")
    session.commit()
    sign_in("manager")
    response = client.post("/admin/categories", data=category_data(**overrides))
    assert response.status_code == 400
    assert message in errors_in(response.text)
    assert session.scalar(sa.select(sa.func.count(Category.id))) == 1
    assert audits(session, "category.create") == []


def test_rename_and_move(client, session, sign_in):
    shirts = make_category(session, slug="shirts", name="Shirts")
    trousers = make_category(session, slug="trousers", name="Trousers")
    polos = make_category(session, slug="polos", name="Polos", parent=shirts)
    session.commit()
    sign_in("manager")

    response = client.post(
        f"/admin/categories/{polos.id}",
        data=category_data(polos, name="Polo shirts", parent_id=str(trousers.id)),
    )
    assert response.status_code == 302, errors_in(response.text)
    moved = fresh(session, Category, polos.id)
    assert (moved.name, moved.parent_id) == ("Polo shirts", trousers.id)
    [entry] = audits(session, "category.update")
    assert entry.before["parent_id"] == shirts.id and entry.after["parent_id"] == trousers.id
    assert entry.before["name"] == "Polos" and entry.after["name"] == "Polo shirts"


def test_cannot_move_under_itself_or_a_descendant(client, session, sign_in):
    shirts = make_category(session, slug="shirts")
    polos = make_category(session, slug="polos", parent=shirts)
    short = make_category(session, slug="short-sleeve", parent=polos)
    session.commit()
    sign_in("manager")

    for target in (shirts, polos, short):
        response = client.post(
            f"/admin/categories/{shirts.id}", data=category_data(shirts, parent_id=str(target.id))
        )
        assert response.status_code == 400, target.slug
        assert "parent_id" in response.text
        assert errors_in(response.text)
    # Nor are they offered.
    page = client.get(f"/admin/categories/{shirts.id}").text
    for category in (shirts, polos, short):
        assert f'<option value="{category.id}"' not in page
    assert fresh(session, Category, shirts.id).parent_id is None
    assert audits(session, "category.update") == []


def test_delete_only_when_empty(client, session, sign_in):
    shirts = make_category(session, slug="shirts")
    polos = make_category(session, slug="polos", parent=shirts)
    make_product(session, category=polos)
    empty = make_category(session, slug="empty")
    empty_id = empty.id
    session.commit()
    sign_in("manager")

    for category in (shirts, polos):  # a child category; a product
        response = client.post(f"/admin/categories/{category.id}/delete")
        assert response.status_code == 400
        assert 'data-testid="delete-error"' in response.text
        assert "is not empty" in response.text
    response = client.post(f"/admin/categories/{empty_id}/delete")
    assert response.status_code == 302
    session.expire_all()
    assert sorted(session.scalars(sa.select(Category.slug))) == ["polos", "shirts"]
    [entry] = audits(session, "category.delete")
    assert entry.before["slug"] == "empty" and entry.target_id == str(empty_id)


@pytest.mark.parametrize("role", EVERYONE)
def test_category_changes_need_catalog_manage(client, session, sign_in, role):
    shirts = make_category(session, slug="shirts", name="Shirts")
    empty = make_category(session, slug="empty")
    session.commit()
    become(role, client, sign_in, session)
    responses = [
        client.post("/admin/categories", data=category_data(slug="hats", name="Hats")),
        client.post(f"/admin/categories/{shirts.id}", data=category_data(shirts, name="Renamed")),
        client.post(f"/admin/categories/{empty.id}/delete"),
    ]
    if role in MAY_MANAGE_CATALOG:
        assert [r.status_code for r in responses] == [302, 302, 302]
        return
    expected = 302 if role == "anonymous" else 403
    assert [r.status_code for r in responses] == [expected] * 3
    session.expire_all()
    assert sorted(session.scalars(sa.select(Category.slug))) == ["empty", "shirts"]
    assert fresh(session, Category, shirts.id).name == "Shirts"
