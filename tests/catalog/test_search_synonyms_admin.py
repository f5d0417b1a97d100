"""The search synonyms page of the admin (``/admin/search-synonyms``): who may use it,
adding, editing and deleting groups (each audited, each exactly once however often the
same form arrives at once), the refusals, and cached search pages that never go stale."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.catalog.search_models import Synonym, SynonymGroup
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_category, make_product
from tests.helpers.pagecache import raw_write

PAGE = "/admin/search-synonyms"
EVERYONE = ("owner", "manager", "warehouse", "service", "workshop", "customer", "anonymous")
MAY_EDIT = {"owner", "manager"}


@pytest.fixture(autouse=True)
def no_groups(session):
    """No group but the test's own (the migrations add a starter group)."""
    session.execute(sa.delete(SynonymGroup))
    session.commit()


def groups(app) -> list[list[str]]:
    with Session(app.extensions["sa_engine"]) as db:
        rows = db.execute(
            sa.select(Synonym.group_id, Synonym.word).order_by(Synonym.group_id, Synonym.position)
        ).all()
    found: dict[int, list[str]] = {}
    for group_id, word in rows:
        found.setdefault(group_id, []).append(word)
    return list(found.values())


def audit_actions(app) -> list[str]:
    with Session(app.extensions["sa_engine"]) as db:
        return list(
            db.scalars(
                sa.select(AuditEntry.action)
                .where(AuditEntry.action.like("search_synonyms.%"))
                .order_by(AuditEntry.id)
            )
        )


def form_with_key(client, path: str) -> dict:
    """A form as the page gives it: with its one-time key."""
    page = client.get(path).text
    keys = re.findall(r'name="request_key"[^>]*value="([^"]+)"', page)
    return {"request_key": keys[0]}


def delete_form(client, group_id: int) -> dict:
    page = client.get(f"{PAGE}/{group_id}").text
    keys = re.findall(r'name="request_key"[^>]*value="([^"]+)"', page)
    return {"request_key": keys[-1]}


def group_ids(app) -> list[int]:
    with Session(app.extensions["sa_engine"]) as db:
        return list(db.scalars(sa.select(SynonymGroup.id).order_by(SynonymGroup.id)))


def become(role, client, session, sign_in):
    if role == "anonymous":
        return
    if role == "customer":
        make_user(session, email="someone@example.com", role="customer")
        assert login(client, email="someone@example.com").status_code == 302
        return
    sign_in(role)


@pytest.mark.parametrize("role", EVERYONE)
def test_role_table(app, client, session, sign_in, role):
    become(role, client, session, sign_in)
    allowed = role in MAY_EDIT
    refused = 302 if role == "anonymous" else 403

    assert client.get(PAGE).status_code == (200 if allowed else refused)
    response = client.post(PAGE, data={"words": "制服, 学生服"})
    assert response.status_code == (302 if allowed else refused)
    assert groups(app) == ([["制服", "学生服"]] if allowed else [])
    nav = client.get("/admin/").text if allowed else ""
    assert (PAGE in nav) == allowed


def test_create_edit_and_delete_are_audited(app, client, sign_in):
    sign_in("manager")
    data = {**form_with_key(client, PAGE), "words": "制服、学生服，校服\nUniform, uniform"}
    response = client.post(PAGE, data=data)
    assert response.status_code == 302
    assert groups(app) == [["制服", "学生服", "校服", "uniform"]]
    [group_id] = group_ids(app)
    page = client.get(PAGE).text
    assert "制服、学生服、校服、uniform" in page

    edit = client.get(f"{PAGE}/{group_id}").text
    assert "制服, 学生服, 校服, uniform" in edit
    data = {**form_with_key(client, f"{PAGE}/{group_id}"), "words": "uniform, 制服, 制服屋"}
    assert client.post(f"{PAGE}/{group_id}", data=data).status_code == 302
    assert groups(app) == [["uniform", "制服", "制服屋"]]

    response = client.post(f"{PAGE}/{group_id}/delete", data=delete_form(client, group_id))
    assert response.status_code == 302
    assert groups(app) == []
    assert audit_actions(app) == [
        "search_synonyms.create",
        "search_synonyms.update",
        "search_synonyms.delete",
    ]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("制服", "two or more words"),
        ("", "This field is required"),
        ("school uniform, 制服", "without spaces"),
        (", ".join(f"w{n}" for n in range(9)), "at most 8 words"),
        ("x" * 61 + ", y", "at most 60 characters"),
    ],
)
def test_bad_groups_are_refused_and_nothing_changes(app, client, sign_in, words, message):
    sign_in("manager")
    response = client.post(PAGE, data={"words": words})
    assert response.status_code == 400
    assert message in response.text
    assert groups(app) == []
    assert audit_actions(app) == []


def test_a_word_in_another_group_is_refused(app, client, sign_in):
    sign_in("manager")
    assert client.post(PAGE, data={"words": "制服, 学生服"}).status_code == 302
    assert client.post(PAGE, data={"words": "apron, 围裙"}).status_code == 302
    response = client.post(PAGE, data={"words": "学生服, 校服"})
    assert response.status_code == 400
    assert "学生服" in response.text
    first, second = group_ids(app)
    response = client.post(f"{PAGE}/{second}", data={"words": "apron, 制服"})
    assert response.status_code == 400
    assert groups(app) == [["制服", "学生服"], ["apron", "围裙"]]
    assert audit_actions(app) == ["search_synonyms.create", "search_synonyms.create"]


def test_unknown_group_is_404(client, sign_in):
    sign_in("manager")
    assert client.get(f"{PAGE}/999999").status_code == 404
    assert client.post(f"{PAGE}/999999", data={"words": "a, b"}).status_code == 404


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_new_group_sent_at_once_is_made_once(app, client, sign_in, copies):
    sign_in("manager")
    data = {**form_with_key(client, PAGE), "words": "制服, 学生服, uniform"}
    answers = send_at_once(app, client, copies, "POST", PAGE, data)
    assert [answer.status for answer in answers] == [302] * copies
    assert groups(app) == [["制服", "学生服", "uniform"]]
    assert audit_actions(app) == ["search_synonyms.create"]


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_edit_sent_at_once_is_made_once(app, client, sign_in, copies):
    sign_in("manager")
    assert client.post(PAGE, data={"words": "制服, 学生服"}).status_code == 302
    [group_id] = group_ids(app)
    path = f"{PAGE}/{group_id}"
    data = {**form_with_key(client, path), "words": "制服, 学生服, 校服"}
    answers = send_at_once(app, client, copies, "POST", path, data)
    assert [answer.status for answer in answers] == [302] * copies
    assert groups(app) == [["制服", "学生服", "校服"]]
    assert audit_actions(app) == ["search_synonyms.create", "search_synonyms.update"]


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_delete_sent_at_once_deletes_once(app, client, sign_in, copies):
    sign_in("manager")
    assert client.post(PAGE, data={"words": "制服, 学生服"}).status_code == 302
    [group_id] = group_ids(app)
    data = delete_form(client, group_id)
    answers = send_at_once(app, client, copies, "POST", f"{PAGE}/{group_id}/delete", data)
    assert [answer.status for answer in answers] == [302] * copies
    assert groups(app) == []
    assert audit_actions(app) == ["search_synonyms.create", "search_synonyms.delete"]


def test_without_csrf_token_is_refused(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        make_user(session, email="m@factory.example", role="manager")
        session.commit()
    client = app.test_client()
    login_page = client.get("/account/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    assert login(client, email="m@factory.example", csrf_token=token).status_code == 302

    response = client.post(PAGE, data={"words": "制服, 学生服"})

    assert response.status_code == 400
    assert groups(app) == []


def test_a_cached_search_page_shows_a_new_group_at_once(app, client, session, sign_in):
    """The search page is cached (a write that bumps nothing does not show on it); the
    admin's change bumps the catalogue's version, so the next search sees the group."""
    school = make_category(session, slug="school", name="School uniform", name_ja="学生服")
    make_product(session, slug="polo", name="Summer polo", category=school)
    session.commit()
    visitor = app.test_client()

    def search() -> list[str]:
        page = visitor.get("/products", query_string={"q": "制服"}).text
        return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', page)

    assert search() == []
    raw_write(
        app,
        "INSERT INTO search_synonym_group (id, created_at, updated_at) "
        "VALUES (90, '2026-01-01', '2026-01-01')",
    )
    raw_write(
        app,
        "INSERT INTO search_synonym (word, group_id, position) "
        "VALUES ('制服', 90, 0), ('学生服', 90, 1)",
    )
    assert search() == []  # from the cache: that write bumped nothing
    raw_write(app, "DELETE FROM search_synonym_group WHERE id = 90")
    raw_write(app, "DELETE FROM search_synonym WHERE group_id = 90")

    sign_in("manager")
    assert client.post(PAGE, data={"words": "制服, 学生服"}).status_code == 302
    assert search() == ["polo"]
