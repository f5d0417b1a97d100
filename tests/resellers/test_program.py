"""The factory's reseller programme: made once with its defaults, read the same way by
every part of the shop; a reseller's own terms override the model and the rate; the cap
rounds down."""

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from shop.resellers import program as programme
from shop.resellers.models import CategoryCommission, ResellerProgram, ResellerTerms
from tests.factories import make_category
from tests.helpers.resellers import make_reseller


def test_the_programme_is_made_once_with_its_defaults(session):
    first = programme.program(session)
    session.commit()
    assert (first.money_model, first.commission_bps, first.price_cap_bps) == (
        "referral",
        1000,
        3000,
    )
    assert (first.return_window_days, first.attribution_days) == (14, 30)
    assert first.payout_minimums["CNY"] == 10000
    assert programme.program(session) is first
    assert session.scalar(sa.select(sa.func.count()).select_from(ResellerProgram)) == 1


def test_five_first_readers_at_once_make_one_row(app, session_factory):
    def read(_):
        with session_factory(app) as session:
            row = programme.program(session)
            session.commit()
            return row.id

    with ThreadPoolExecutor(5) as pool:
        assert set(pool.map(read, range(5))) == {1}
    with session_factory(app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ResellerProgram)) == 1


def test_a_resellers_own_terms_override_the_programme(session):
    reseller = make_reseller(session)
    base = programme.window_terms(session, reseller.id)
    assert (base.money_model, base.commission_bps, base.reseller_commission) == (
        "referral",
        1000,
        False,
    )
    session.add(ResellerTerms(reseller_id=reseller.id, money_model="price", commission_bps=1500))
    session.flush()
    own = programme.window_terms(session, reseller.id)
    assert (own.money_model, own.commission_bps, own.reseller_commission) == ("price", 1500, True)


def test_the_rate_is_the_resellers_then_the_categorys_then_the_default(session):
    reseller = make_reseller(session)
    shirts = make_category(session, slug="shirts")
    session.add(CategoryCommission(category_id=shirts.id, commission_bps=800))
    session.flush()
    rates = programme.category_rates(session, [shirts.id, None])
    assert rates == {shirts.id: 800}
    window = programme.window_terms(session, reseller.id)
    assert programme.commission_rate(window, rates.get(shirts.id)) == 800
    assert programme.commission_rate(window, None) == 1000
    session.add(ResellerTerms(reseller_id=reseller.id, commission_bps=1200))
    session.flush()
    window = programme.window_terms(session, reseller.id)
    assert programme.commission_rate(window, 800) == 1200


def test_the_cap_rounds_down_to_the_minor_unit():
    assert programme.cap_amount(4999, 3000) == 6498
    assert programme.cap_amount(5000, 3000) == 6500
    assert programme.cap_amount(1000, 0) == 1000
