"""The audit log reads as sentences in the reader's language ("王芳 changed the price of
Polo shirt from ¥49 to ¥45"), naming products, schools and roles in that language; a kind
without a sentence is shown as before."""

import re

from shop.accounts import staff
from shop.audit.service import record
from shop.catalog import management
from tests.accounts.helpers import make_user
from tests.factories import make_product


def sentences(page: str) -> list[str]:
    return re.findall(r'data-testid="audit-sentence">(.*?)</span>', page, re.S)


def test_a_price_change_reads_as_a_sentence_in_each_language(client, session, sign_in):
    owner = sign_in("owner")
    wang = make_user(session, email="wang@factory.example", role="manager", name="王芳")
    polo = make_product(
        session, slug="polo", name="Polo shirt", name_zh="校服Polo衫", tiers=((1, 4900), (30, 4500))
    )
    management.replace_tiers(session, wang, polo, {"CNY": [(1, 4500), (30, 4200)]})
    management.replace_tiers(session, wang, polo, {"CNY": [(1, 4500), (50, 4000)]})
    session.commit()

    en = client.get("/admin/audit?lang=en").text
    assert sentences(en) == [
        "王芳 changed the volume prices of Polo shirt",
        "王芳 changed the price of Polo shirt from CN¥49.00 to CN¥45.00",
    ]
    zh = client.get("/admin/audit?lang=zh_CN").text
    assert sentences(zh)[1] == "王芳 将 校服Polo衫 的价格从 ¥49.00 改为 ¥45.00"
    # The fields stay beside the sentence, for whoever wants every tier.
    assert zh.count('data-testid="audit-before"') == 2
    assert owner.id  # signed in as the owner, who reads the log


def test_prices_changed_in_several_currencies(client, session, sign_in):
    sign_in("owner")
    polo = make_product(session, slug="polo", name="Polo shirt")
    record(
        session,
        actor_user_id=None,
        action="product.tiers",
        target_type="product",
        target_id=polo.id,
        before={"CNY": [[1, 4900]], "USD": [[1, 700]]},
        after={"CNY": [[1, 4500]], "USD": [[1, 650]]},
    )
    session.commit()
    page = client.get("/admin/audit?lang=en").text
    assert sentences(page) == [
        "system changed the prices of Polo shirt: CN¥49.00 → CN¥45.00, US$7.00 → US$6.50"
    ]


def test_roles_and_product_edits_in_japanese(client, session, sign_in):
    owner = sign_in("owner")
    member = make_user(session, email="mei@factory.example", role="warehouse", name="")
    staff.change_role(session, owner, member, "workshop")
    polo = make_product(session, slug="polo", name="Polo shirt", name_ja="ポロシャツ")
    management.update_product(
        session,
        owner,
        polo,
        {
            **{f: getattr(polo, f) for f in management.PRODUCT_FIELDS},
            "description_ja": "綿100%",
            "active": False,
        },
    )
    session.commit()

    page = client.get("/admin/audit?lang=ja").text
    assert sentences(page) == [
        "Owner さんが ポロシャツ を編集しました:日本語の説明、販売状態",
        "Owner さんが mei@factory.example さんの役割を「倉庫」から「生産現場」に変更しました",
    ]


def test_kinds_without_a_sentence_and_vanished_targets_show_as_before(client, session, sign_in):
    owner = sign_in("owner")
    for action, target_id in (("something.new", 1), ("product.activate", 10**9)):
        record(
            session,
            actor_user_id=owner.id,
            action=action,
            target_type="product",
            target_id=target_id,
            after={"active": True},
        )
    session.commit()

    page = client.get("/admin/audit?lang=zh_CN").text

    assert sentences(page) == []
    assert re.search(r"<td[^>]*>something\.new</td>", page)
    assert re.search(r"<td[^>]*>product\.activate</td>", page)
