"""The factory's programme settings and one window's overrides, for staff with
``resellers.manage``: saved in minor units and basis points, validated (a form error,
never a 500), audited, exactly once; and who may open them."""

import pytest
import sqlalchemy as sa

from shop.resellers import settings
from shop.resellers.models import CategoryCommission, ResellerProgram, ResellerTerms
from shop.resellers.program import PROGRAM_ID, window_terms
from tests.accounts.helpers import login, make_user
from tests.at_once import send_at_once
from tests.factories import make_category
from tests.helpers.admin import audits, errors_in, fresh
from tests.helpers.resellers import make_reseller

PAGE = "/admin/resellers/program"
KEY = "program-key-0123456789abcdef"
GOOD = {
    "money_model": "price",
    "commission_percent": "12.5",
    "price_cap_percent": "45",
    "return_window_days": "21",
    "attribution_days": "7",
    "payout_CNY": "150.00",
    "payout_JPY": "3000",
    "payout_SGD": "25.5",
    "payout_USD": "20",
    "earn_on_school_orders": "y",
    "request_key": KEY,
}


def test_staff_save_the_programme(client, session, sign_in):
    manager = sign_in("manager")
    page = client.get(PAGE).text
    assert 'data-testid="program-form"' in page and 'value="10"' in page  # the default 10 %
    assert client.post(PAGE, data=GOOD).status_code == 302
    row = fresh(session, ResellerProgram, PROGRAM_ID)
    assert (row.money_model, row.commission_bps, row.price_cap_bps) == ("price", 1250, 4500)
    assert (row.return_window_days, row.attribution_days) == (21, 7)
    assert row.payout_minimums == {"CNY": 15000, "JPY": 3000, "SGD": 2550, "USD": 2000}
    assert (row.earn_on_school_orders, row.earn_on_invoice_orders) == (True, False)
    assert row.updated_by_id == manager.id
    [entry] = audits(session, "reseller_program.update")
    assert entry.actor_user_id == manager.id
    assert entry.after["commission_bps"] == 1250 and entry.before["commission_bps"] == 1000
    assert entry.after["payout_minimums"]["CNY"] == 15000
    again = client.get(PAGE).text
    assert 'value="12.5"' in again and 'value="150.00"' in again


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("commission_percent", "100.01"),
        ("commission_percent", "-1"),
        ("commission_percent", "abc"),
        ("commission_percent", "12.345"),
        ("commission_percent", "NaN"),
        ("price_cap_percent", "300.5"),
        ("return_window_days", "0"),
        ("return_window_days", "366"),
        ("attribution_days", "9" * 40),
        ("attribution_days", "seven"),
        ("payout_JPY", "10.5"),
        ("payout_CNY", "0"),
        ("payout_USD", "1e30"),
        ("payout_SGD", ""),
        ("money_model", "pyramid"),
        ("commission_percent", "1\x00"),
        ("payout_CNY", "9" * 5000),
    ],
)
def test_a_bad_value_is_a_form_error_and_changes_nothing(client, session, sign_in, field, value):
    sign_in("manager")
    response = client.post(PAGE, data={**GOOD, field: value})
    assert response.status_code == 400
    if "\x00" not in value:  # the shop refuses NUL before any view reads the form
        assert errors_in(response.text) or "Not a valid choice" in response.text
    assert fresh(session, ResellerProgram, PROGRAM_ID) is None
    assert audits(session, "reseller_program.update") == []


def test_the_edges_are_allowed(client, session, sign_in):
    sign_in("owner")
    data = {
        **GOOD,
        "commission_percent": "100",
        "price_cap_percent": "300",
        "return_window_days": "1",
        "attribution_days": "365",
    }
    assert client.post(PAGE, data=data).status_code == 302
    row = fresh(session, ResellerProgram, PROGRAM_ID)
    assert (row.commission_bps, row.price_cap_bps) == (10000, 30000)
    assert (row.return_window_days, row.attribution_days) == (1, 365)


def test_the_rule_refuses_what_the_form_would(session):
    actor = make_user(session, email="m@factory.example", role="manager")
    values = settings.ProgramValues(
        money_model="referral",
        commission_bps=10001,
        price_cap_bps=0,
        return_window_days=14,
        attribution_days=30,
        payout_minimums={"CNY": 1, "JPY": 1, "SGD": 1, "USD": 1},
        earn_on_school_orders=False,
        earn_on_invoice_orders=False,
    )
    with pytest.raises(settings.InvalidSetting) as refused:
        settings.update_program(session, actor, values)
    assert refused.value.field == "commission_bps"
    with pytest.raises(settings.InvalidSetting):
        settings.update_program(
            session,
            actor,
            settings.ProgramValues(
                **{**values.__dict__, "commission_bps": 0, "payout_minimums": {"CNY": 1}}
            ),
        )
    session.rollback()


@pytest.mark.parametrize(
    ("text", "bps"), [("0", 0), ("12.5", 1250), ("7.25 %", 725), ("100", 10000), ("0.01", 1)]
)
def test_parse_percent(text, bps):
    assert settings.parse_percent(text, 10000) == bps
    assert settings.parse_percent(settings.percent_text(bps), 10000) == bps


@pytest.mark.parametrize("text", ["", "x", "100.01", "-0.5", "0.001", "inf", "1" * 20])
def test_parse_percent_refuses(text):
    with pytest.raises(ValueError):
        settings.parse_percent(text, 10000)


@pytest.mark.parametrize("copies", [2, 5])
def test_the_same_form_at_once_saves_once(app, client, session, sign_in, copies):
    sign_in("manager")
    answers = send_at_once(app, client, copies, "POST", PAGE, GOOD)
    assert [answer.status for answer in answers] == [302] * copies
    assert fresh(session, ResellerProgram, PROGRAM_ID).commission_bps == 1250
    assert len(audits(session, "reseller_program.update")) == 1


def test_the_same_form_sent_again_later_does_nothing(client, session, sign_in):
    sign_in("manager")
    assert client.post(PAGE, data=GOOD).status_code == 302
    assert client.post(PAGE, data={**GOOD, "commission_percent": "50"}).status_code == 302
    assert fresh(session, ResellerProgram, PROGRAM_ID).commission_bps == 1250
    assert len(audits(session, "reseller_program.update")) == 1


# --- a category's commission --------------------------------------------------------------


def rate_of(session, category) -> int | None:
    row = fresh(session, CategoryCommission, category.id)
    return row.commission_bps if row else None


def test_a_category_rate_is_set_and_cleared(client, session, sign_in):
    shirts = make_category(session, name="Shirts")
    session.commit()
    sign_in("manager")
    url = f"{PAGE}/categories/{shirts.id}"
    assert 'data-testid="category-rate"' in client.get(PAGE).text
    data = {"rate": "15", "action": "set", "request_key": KEY}
    assert client.post(url, data=data).status_code == 302
    assert rate_of(session, shirts) == 1500
    data = {"rate": "15", "action": "clear", "request_key": "clear-key-0123456789abcd"}
    assert client.post(url, data=data).status_code == 302
    assert rate_of(session, shirts) is None
    entries = audits(session, "reseller_program.category")
    assert [(e.before, e.after) for e in entries] == [
        ({"commission_bps": None}, {"commission_bps": 1500}),
        ({"commission_bps": 1500}, {"commission_bps": None}),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"rate": "101", "action": "set", "request_key": KEY},
        {"rate": "ten", "action": "set", "request_key": KEY},
        {"rate": "10", "action": "explode", "request_key": KEY},
        {"rate": "10", "action": "set"},
        {"rate": "\x00" * 3, "action": "set", "request_key": KEY},
    ],
)
def test_a_bad_category_rate_changes_nothing(client, session, sign_in, data):
    shirts = make_category(session)
    session.commit()
    sign_in("manager")
    assert client.post(f"{PAGE}/categories/{shirts.id}", data=data).status_code in (302, 400)
    assert rate_of(session, shirts) is None
    assert audits(session, "reseller_program.category") == []


def test_an_unknown_category_is_refused(client, session, sign_in):
    sign_in("manager")
    data = {"rate": "10", "action": "set", "request_key": KEY}
    for category_id in ("999999", "99999999999999999999999"):
        response = client.post(f"{PAGE}/categories/{category_id}", data=data)
        assert response.status_code in (302, 404)
    assert session.scalar(sa.select(sa.func.count()).select_from(CategoryCommission)) == 0


@pytest.mark.parametrize("copies", [2, 5])
def test_a_category_rate_at_once_saves_once(app, client, session, sign_in, copies):
    shirts = make_category(session)
    session.commit()
    sign_in("manager")
    data = {"rate": "15", "action": "set", "request_key": KEY}
    answers = send_at_once(app, client, copies, "POST", f"{PAGE}/categories/{shirts.id}", data)
    assert [answer.status for answer in answers] == [302] * copies
    assert rate_of(session, shirts) == 1500
    assert len(audits(session, "reseller_program.category")) == 1


# --- one window's overrides ---------------------------------------------------------------


def test_a_window_gets_its_own_terms(client, session, sign_in):
    ann = make_reseller(session)
    sign_in("manager")
    detail = client.get(f"/admin/resellers/{ann.id}").text
    assert 'data-testid="terms-form"' in detail and 'data-money-model="referral"' in detail
    data = {"money_model": "price", "commission_percent": "20", "request_key": KEY}
    assert client.post(f"/admin/resellers/{ann.id}/terms", data=data).status_code == 302
    session.expire_all()
    terms = window_terms(session, ann.id)
    assert (terms.money_model, terms.commission_bps, terms.reseller_commission) == (
        "price",
        2000,
        True,
    )
    [entry] = audits(session, "reseller.terms")
    assert entry.after == {"money_model": "price", "commission_bps": 2000}
    back = {"money_model": "", "commission_percent": "", "request_key": "back-key-0123456789abcdef"}
    assert client.post(f"/admin/resellers/{ann.id}/terms", data=back).status_code == 302
    row = fresh(session, ResellerTerms, ann.id)
    assert (row.money_model, row.commission_bps) == (None, None)


@pytest.mark.parametrize(
    "data",
    [
        {"money_model": "pyramid", "commission_percent": "", "request_key": KEY},
        {"money_model": "", "commission_percent": "150", "request_key": KEY},
        {"money_model": "", "commission_percent": "1\x00", "request_key": KEY},
        {"money_model": "price", "commission_percent": "5"},
    ],
)
def test_bad_window_terms_change_nothing(client, session, sign_in, data):
    ann = make_reseller(session)
    sign_in("manager")
    assert client.post(f"/admin/resellers/{ann.id}/terms", data=data).status_code in (302, 400)
    assert fresh(session, ResellerTerms, ann.id) is None


def test_terms_for_an_unknown_window_are_a_404(client, sign_in):
    sign_in("manager")
    data = {"money_model": "price", "commission_percent": "5", "request_key": KEY}
    assert client.post("/admin/resellers/999999/terms", data=data).status_code == 404


@pytest.mark.parametrize("copies", [2, 5])
def test_window_terms_at_once_save_once(app, client, session, sign_in, copies):
    ann = make_reseller(session)
    sign_in("manager")
    data = {"money_model": "price", "commission_percent": "20", "request_key": KEY}
    answers = send_at_once(app, client, copies, "POST", f"/admin/resellers/{ann.id}/terms", data)
    assert [answer.status for answer in answers] == [302] * copies
    assert fresh(session, ResellerTerms, ann.id).commission_bps == 2000
    assert len(audits(session, "reseller.terms")) == 1


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("customer", 403),
        ("reseller", 403),
        ("warehouse", 403),
        ("service", 403),
        ("manager", 200),
        ("owner", 200),
    ],
)
def test_who_may_open_and_change_the_programme(client, session, sign_in, role, status):
    ann = make_reseller(session)
    shirts = make_category(session)
    session.commit()
    if role == "customer":
        make_user(session, email="someone@example.com")
        assert login(client, email="someone@example.com").status_code == 302
    elif role == "reseller":
        assert login(client, email="reseller@example.com").status_code == 302
    elif role != "anonymous":
        sign_in(role)
    assert client.get(PAGE).status_code == status
    posts = [
        (PAGE, GOOD),
        (f"{PAGE}/categories/{shirts.id}", {"rate": "15", "action": "set", "request_key": KEY}),
        (f"/admin/resellers/{ann.id}/terms", {"money_model": "price", "request_key": KEY}),
    ]
    for url, data in posts:
        answer = client.post(url, data=data).status_code
        assert answer == (302 if status == 200 else status)
    changed = status == 200
    assert (fresh(session, ResellerProgram, PROGRAM_ID) is not None) is changed
    assert (rate_of(session, shirts) is not None) is changed
    assert (fresh(session, ResellerTerms, ann.id) is not None) is changed
