"""The reseller programme's audit entries read as sentences in the reader's language
(shop.audit.sentences): window prices, payouts, a window's terms and packing slip, the
programme and a category's commission — each written by the shop's own rules."""

import dataclasses
import html
import re

import sqlalchemy as sa

from shop.accounts.models import User
from shop.audit.service import record
from shop.catalog.models import Product
from shop.resellers import service, settings
from shop.resellers.models import Reseller
from tests.factories import make_category
from tests.helpers.resellers import set_window_price, two_price_windows


def sentences(page: str) -> list[str]:
    found = re.findall(r'data-testid="audit-sentence">(.*?)</span>', page, re.S)
    return [html.unescape(sentence) for sentence in found]


def audit_page(client, lang: str) -> list[str]:
    return sentences(client.get(f"/admin/audit?lang={lang}").text)


def test_window_prices_and_payouts_read_as_sentences(client, session, sign_in):
    owner = sign_in("owner")
    world = two_price_windows(session)
    ann = session.get(Reseller, world["ann"].id)
    polo = session.get(Product, world["polo"])
    set_window_price(session, ann, polo, "CNY", 9500)
    set_window_price(session, ann, polo, "CNY", 9900)
    # As shop.resellers.ledger.record_payout writes it.
    record(
        session,
        actor_user_id=owner.id,
        action="reseller.payout",
        target_type="reseller",
        target_id=ann.id,
        after={"payout": 1, "currency": "CNY", "amount": 12345, "lines": 3, "reference": "B-77"},
    )
    session.commit()

    assert audit_page(client, "en")[:3] == [
        "Owner paid CN¥123.45 to the window ann-picks (reference B-77)",
        "Ann changed the prices of Polo in the window ann-picks: CN¥95.00 → CN¥99.00",
        "Ann changed the prices of Polo in the window ann-picks: — → CN¥95.00",
    ]
    zh = audit_page(client, "zh_CN")
    assert zh[0] == "Owner 向小店 ann-picks 付款 ¥123.45（流水号 B-77）"
    assert zh[1] == "Ann 修改了小店 ann-picks 中 Polo 的价格：¥95.00 → ¥99.00"
    ja = audit_page(client, "ja")
    assert ja[0].startswith("Owner がショップ ann-picks に")


def test_terms_and_packing_slips_read_as_sentences(client, session, sign_in):
    owner = sign_in("owner")
    world = two_price_windows(session)
    ann = session.get(Reseller, world["ann"].id)
    settings.set_reseller_terms(session, owner, ann, money_model="referral", commission_bps=1500)
    ann_user = session.get(User, ann.user_id)
    settings.set_packing_slip(session, ann_user, ann, blind=True, message="Thank you!")
    settings.set_packing_slip(session, ann_user, ann, blind=True, message="Thanks, friend!")
    settings.set_packing_slip(session, ann_user, ann, blind=False, message="Thanks, friend!")
    session.commit()

    assert audit_page(client, "en")[:4] == [
        "Ann chose the factory's packing slips for the window ann-picks",
        "Ann changed the thank-you line of the window ann-picks's packing slips",
        "Ann chose blind packing slips for the window ann-picks",
        "Owner changed the terms of the window ann-picks: money model, commission",
    ]
    assert audit_page(client, "ja")[3] == (
        "Owner がショップ ann-picks の条件を変更しました:収益モデル、手数料"
    )


def test_the_programme_and_category_rates_read_as_sentences(client, session, sign_in):
    owner = sign_in("owner")
    shirts = make_category(session, slug="shirts", name="Shirts", name_zh="衬衫")
    session.commit()
    row = settings.program(session)
    values = settings.ProgramValues(
        **{
            field.name: getattr(row, field.name)
            for field in dataclasses.fields(settings.ProgramValues)
        }
    )
    changed = dataclasses.replace(
        values,
        price_cap_bps=values.price_cap_bps + 500,
        return_window_days=values.return_window_days + 1,
    )
    assert settings.update_program(session, owner, changed)
    settings.set_category_rate(session, owner, shirts.id, 1250)
    settings.set_category_rate(session, owner, shirts.id, None)
    session.commit()

    assert audit_page(client, "en")[:3] == [
        "Owner changed the commission on Shirts from 12.5% to the default",
        "Owner changed the commission on Shirts from the default to 12.5%",
        "Owner changed the reseller programme: price cap, return window",
    ]
    zh = audit_page(client, "zh_CN")
    assert zh[0] == "Owner 将 衬衫 的佣金从 12.5% 改为 默认值"
    assert zh[2] == "Owner 修改了分销计划：价格上限、退货期"


def test_an_entry_of_an_unknown_shape_shows_its_fields(client, session, sign_in):
    owner = sign_in("owner")
    world = two_price_windows(session)
    for action, after in (
        ("reseller.payout", {"amount": "lots"}),
        ("reseller.prices", {"product_id": 10**9, "prices": {}}),
        ("reseller.terms", {"unknown": 1}),
    ):
        record(
            session,
            actor_user_id=owner.id,
            action=action,
            target_type="reseller",
            target_id=world["ann"].id,
            before={"prices": {}},
            after=after,
        )
    session.commit()
    page = client.get("/admin/audit?lang=en")
    assert page.status_code == 200
    said = sentences(page.text)  # the windows' applications and approvals only
    assert len(said) == 4 and all(" the window " in sentence for sentence in said), said
    assert not [s for s in said if "paid" in s or "prices" in s or "terms" in s]
    assert page.text.count('data-testid="audit-before"') >= 3
    assert session.scalar(sa.select(sa.func.count()).select_from(Reseller)) == 2


def test_a_new_window_picture_reads_as_a_sentence(app, client, session, sign_in):
    sign_in("owner")
    world = two_price_windows(session)
    ann = session.get(Reseller, world["ann"].id)
    ann_user = session.get(User, ann.user_id)
    with app.app_context():
        service.set_avatar(session, ann_user, ann, "resellers/new.png")
        service.set_avatar(session, ann_user, ann, "resellers/new.png")  # the same: no entry
        session.commit()
    assert audit_page(client, "en")[0] == "Ann changed the picture of the window ann-picks"
    assert audit_page(client, "en").count("Ann changed the picture of the window ann-picks") == 1
    assert audit_page(client, "zh_CN")[0] == "Ann 更换了小店 ann-picks 的头像"
