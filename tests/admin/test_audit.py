"""The audit log (``/admin/audit``, owner only): newest first, paginated, filtered by
actor, action and the factory's calendar day, with before and after shown."""

import re
from datetime import UTC, datetime

from shop.audit.service import record
from tests.accounts.helpers import make_user


def shown(page: str) -> list[str]:
    return re.findall(r'data-testid="audit-entry" data-id="(\d+)"', page)


def entry(session, actor, action, when, before=None, after=None):
    row = record(
        session,
        actor_user_id=actor.id if actor else None,
        action=action,
        target_type="product",
        target_id=7,
        before=before,
        after=after,
    )
    row.created_at = when
    session.flush()
    return str(row.id)


def test_newest_first_with_before_and_after(client, session, sign_in):
    owner = sign_in("owner")
    old = entry(session, owner, "product.update", datetime(2026, 11, 1, 3, tzinfo=UTC))
    new = entry(
        session,
        owner,
        "product.update",
        datetime(2026, 11, 2, 3, tzinfo=UTC),
        before={"name": "Polo <b>", "active": True},
        after={"name": "Polo shirt", "active": False},
    )
    session.commit()

    page = client.get("/admin/audit").text

    assert shown(page) == [new, old]
    first = page[page.index(f'data-id="{new}"') : page.index(f'data-id="{old}"')]
    assert f'data-actor="{owner.id}"' in first and "owner@factory.example" in first
    before = re.search(r'data-testid="audit-before">(.*?)</td>', first, re.S).group(1)
    after = re.search(r'data-testid="audit-after">(.*?)</td>', first, re.S).group(1)
    assert '<li data-field="name">' in before and "Polo &lt;b&gt;" in before
    assert "<b>" not in first  # what someone typed is never markup
    assert '<li data-field="active"><span class="admin-muted">active:</span> false' in after


def test_filters_by_actor_action_and_day_in_the_factorys_zone(client, session, sign_in):
    owner = sign_in("owner")
    manager = make_user(session, email="m@factory.example", role="manager")
    # 16:30 on Nov 1 in UTC is already 00:30 on Nov 2 in Shanghai
    a = entry(session, manager, "product.update", datetime(2026, 11, 1, 16, 30, tzinfo=UTC))
    b = entry(session, manager, "stock.adjust", datetime(2026, 11, 2, 3, tzinfo=UTC))
    c = entry(session, owner, "product.update", datetime(2026, 11, 3, 3, tzinfo=UTC))
    d = entry(session, None, "product.update", datetime(2026, 10, 30, 3, tzinfo=UTC))
    session.commit()

    def ids(query):
        return shown(client.get("/admin/audit" + query).text)

    assert ids("") == [c, b, a, d]
    assert ids(f"?actor={manager.id}") == [b, a]
    assert ids("?action=product.update") == [c, a, d]
    assert ids("?from=2026-11-02&to=2026-11-02") == [b, a]
    assert ids(f"?actor={manager.id}&action=product.update&from=2026-11-02") == [a]
    # nonsense is ignored, never an error
    assert ids("?actor=abc&action=nope&from=2026-13-40&page=-3") == [c, b, a, d]
    assert ids("?actor=99999999999999999999") == [c, b, a, d]


def test_paginated_fifty_a_page_keeping_the_filters(client, session, sign_in):
    owner = sign_in("owner")
    ids = [
        entry(session, owner, "stock.adjust", datetime(2026, 11, 1, 0, n, tzinfo=UTC))
        for n in range(55)
    ]
    entry(session, owner, "product.update", datetime(2026, 11, 1, 2, tzinfo=UTC))
    session.commit()

    first = client.get("/admin/audit?action=stock.adjust").text
    second = client.get("/admin/audit?action=stock.adjust&page=2").text

    assert shown(first) == list(reversed(ids))[:50]
    assert shown(second) == list(reversed(ids))[50:]
    assert 'data-total="55"' in first
    assert 'href="/admin/audit?action=stock.adjust&amp;page=2"' in first


def test_staff_actions_appear_in_the_log(client, session, sign_in):
    member = make_user(session, email="mei@factory.example", role="service")
    sign_in("owner")
    client.post(f"/admin/staff/{member.id}/role", data={f"u{member.id}-role": "workshop"})

    page = client.get("/admin/audit?action=staff.role").text

    assert len(shown(page)) == 1
    assert '<li data-field="role"><span class="admin-muted">role:</span> workshop</li>' in page
