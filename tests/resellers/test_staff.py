"""Staff with ``resellers.manage``: the list of applications and windows (status filter,
search, pages) and the status buttons — a compare-and-set from the status the page
showed, in the audit log; two staff at once change it once."""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.resellers import service
from shop.resellers.models import Reseller
from shop.resellers.rules import InvalidTransition
from tests.at_once import send_at_once
from tests.helpers.admin import audits
from tests.helpers.resellers import make_reseller

LIST = "/admin/resellers"


def handles(page: str) -> list[str]:
    return re.findall(r'data-testid="reseller-row" data-handle="([^"]+)"', page)


def status_of(app, reseller_id: int) -> Reseller:
    with Session(app.extensions["sa_engine"], expire_on_commit=False) as db:
        return db.get(Reseller, reseller_id)


@pytest.fixture
def windows(session):
    return {
        status: make_reseller(
            session,
            email=f"{status}@example.com",
            handle=f"{status}-window",
            display_name=f"{status.title()} 小店",
            status=status,
        )
        for status in ("applied", "approved", "suspended", "closed")
    }


def test_the_list_filters_by_status_and_searches(client, sign_in, windows):
    sign_in("manager")
    page = client.get(LIST).text
    assert sorted(handles(page)) == sorted(w.handle for w in windows.values())
    assert handles(client.get(f"{LIST}?status=applied").text) == ["applied-window"]
    assert handles(client.get(f"{LIST}?q=SUSPENDED").text) == ["suspended-window"]
    assert handles(client.get(f"{LIST}?q=小店&status=closed").text) == ["closed-window"]
    assert handles(client.get(f"{LIST}?q=nothing-like-it").text) == []
    assert client.get(f"{LIST}?status=%FF&q=%00&page=-1").status_code in (200, 400)


def test_the_list_is_paged(client, session, sign_in):
    for number in range(52):
        make_reseller(session, email=f"r{number}@example.com", handle=f"window-{number:02d}")
    sign_in("owner")
    first = client.get(LIST).text
    assert len(handles(first)) == 50
    assert len(handles(client.get(f"{LIST}?page=2").text)) == 2


def act(client, reseller, action, expected=None):
    return client.post(
        f"{LIST}/{reseller.id}/status",
        data={"action": action, "expected": expected or reseller.status},
    )


def test_staff_approve_suspend_reinstate_and_close(app, client, sign_in, windows):
    manager = sign_in("manager")
    window = windows["applied"]
    page = client.get(f"{LIST}/{window.id}").text
    assert re.findall(r'data-action="(\w+)"', page) == ["approve", "close"]
    for action, expected, result in [
        ("approve", "applied", "approved"),
        ("suspend", "approved", "suspended"),
        ("reinstate", "suspended", "approved"),
        ("close", "approved", "closed"),
    ]:
        assert act(client, window, action, expected).status_code == 302
        saved = status_of(app, window.id)
        assert saved.status == result
        assert saved.status_changed_by_id == manager.id
    with Session(app.extensions["sa_engine"]) as db:
        actions = db.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.target_type == "reseller", AuditEntry.target_id == str(window.id))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == [
        "reseller.apply",
        "reseller.approve",
        "reseller.suspend",
        "reseller.reinstate",
        "reseller.close",
    ]
    history = client.get(f"{LIST}/{window.id}").text
    assert "Manager closed the window applied-window" in history


def test_an_invalid_action_changes_nothing(app, client, sign_in, windows):
    sign_in("manager")
    window = windows["applied"]
    with Session(app.extensions["sa_engine"]) as db:
        before = len(audits(db, "reseller.suspend"))
    response = act(client, window, "suspend")
    assert response.status_code == 302
    assert status_of(app, window.id).status == "applied"
    page = client.get(f"{LIST}/{window.id}").text
    assert "That change is not possible" in page
    with Session(app.extensions["sa_engine"]) as db:
        assert len(audits(db, "reseller.suspend")) == before
    assert act(client, window, "explode").status_code == 302
    assert status_of(app, window.id).status == "applied"


def test_a_page_seen_before_someone_else_acted_changes_nothing(app, client, sign_in, windows):
    sign_in("manager")
    window = windows["approved"]
    assert act(client, window, "suspend", "approved").status_code == 302
    # The same page, still showing "approved", in another tab: close.
    assert act(client, window, "close", "approved").status_code == 302
    assert status_of(app, window.id).status == "suspended"
    assert (
        "Someone else changed this window first: it is Suspended now."
        in client.get(f"{LIST}/{window.id}").text
    )


@pytest.mark.parametrize("copies", [2, 5])
def test_staff_acting_at_once_change_the_status_once(app, client, sign_in, windows, copies):
    sign_in("manager")
    window = windows["applied"]
    data = {"action": "approve", "expected": "applied"}
    answers = send_at_once(app, client, copies, "POST", f"{LIST}/{window.id}/status", data)
    assert [answer.status for answer in answers] == [302] * copies
    messages = [message for answer in answers for message in answer.messages]
    assert sum("is Approved now" in message and "first" not in message for message in messages) == 1
    assert sum("Someone else changed this window first" in m for m in messages) == copies - 1
    assert status_of(app, window.id).status == "approved"
    with Session(app.extensions["sa_engine"]) as db:
        assert len(audits(db, "reseller.approve")) == 3  # the fixture's two, and this one


def test_change_status_is_a_compare_and_set(session, windows):
    staff = session.get(Reseller, windows["applied"].id)
    from shop.accounts.models import User

    actor = session.scalar(sa.select(User).where(User.email == "approver@factory.example"))
    assert service.change_status(session, actor, staff, "approve", expected="applied") == "approved"
    with pytest.raises(service.StatusChanged) as refused:
        service.change_status(session, actor, staff, "close", expected="applied")
    assert refused.value.status == "approved"
    with pytest.raises(InvalidTransition):
        service.change_status(session, actor, staff, "approve", expected="approved")
    session.rollback()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh_CN", ["分销商", "已申请", "批准", "全部分销商"]),
        ("ja", ["販売パートナー", "申請中", "承認する", "すべての販売パートナー"]),
    ],
)
def test_the_admin_pages_speak_the_staffs_language(client, sign_in, windows, lang, words):
    sign_in("manager")
    page = (
        client.get(f"{LIST}?lang={lang}").text
        + client.get(f"{LIST}/{windows['applied'].id}?lang={lang}").text
    )
    for word in words:
        assert word in page, word
