"""A school's papers speak the school's language (its country's: CN Chinese, JP Japanese,
else English), whatever the language of whoever prints them: the invoice (page and PDF),
the class packing list and the factory's packing slip. The page around them stays in the
reader's language."""

import re
from datetime import timedelta

import pytest

from shop.db import utcnow
from shop.locales import country_locale
from shop.orders import lifecycle
from tests.accounts.helpers import login, make_user
from tests.factories import make_product
from tests.helpers.pdf import pdf_strings
from tests.school_factories import add_member
from tests.schools.invoice_helpers import all_invoices, invoice_order, invoice_school

NAMES = {"name": "Summer polo", "name_zh": "夏季校服Polo衫", "name_ja": "夏用ポロシャツ"}


@pytest.mark.parametrize(
    ("country", "locale"), [("CN", "zh_CN"), ("JP", "ja"), ("SG", "en"), ("", "en"), ("jp", "ja")]
)
def test_a_schools_language_comes_from_its_country(country, locale):
    assert country_locale(country) == locale


@pytest.fixture
def school_of(app, session):
    """``school_of("JP")``: a school in that country with an invoice (ordered in English)
    and its bursar signed in."""

    def make(country: str, currency: str = "CNY"):
        polo = make_product(
            session, slug="polo", currency=currency, tiers=((1, 8900),), on_hand=20, **NAMES
        )
        school = invoice_school(
            session, slug="north", name="North School", country=country, currency=currency
        )
        bursar = make_user(session, email="bursar@north.example", role="school_admin")
        add_member(session, school, bursar)
        invoice_order(session, school, polo.variants[0], 2, now=utcnow() - timedelta(days=1))
        session.commit()
        return school, all_invoices(session)[0]

    return make


def article(page: str, testid: str) -> str:
    return re.search(rf'<[a-z]+ [^>]*data-testid="{testid}".*', page, re.S).group(0)


@pytest.mark.parametrize(
    ("country", "reader", "locale", "heading", "item", "factory"),
    [
        ("JP", "en", "ja", "請求書", "夏用ポロシャツ", "Sourcefront縫製工場"),
        ("CN", "ja", "zh_CN", "发票", "夏季校服Polo衫", "Sourcefront服装厂"),
        ("SG", "zh_CN", "en", "Invoice", "Summer polo", "Sourcefront Garment Factory"),
    ],
)
def test_the_invoice_page_is_in_the_schools_language(
    client, school_of, country, reader, locale, heading, item, factory
):
    _, invoice = school_of(country)
    assert login(client, email="bursar@north.example").status_code == 302

    page = client.get(f"/schools/north/admin/invoices/{invoice.number}?lang={reader}").text

    document = article(page, "invoice")
    assert f'data-locale="{locale}"' in document
    assert f"<h1>{heading} " in document
    assert re.findall(r'data-testid="invoice-item">([^<]+)<', document) == [item]
    assert f'data-testid="factory-name">{factory}<' in document
    # The page around it is the reader's.
    tools = {"en": "Download PDF", "ja": "PDFをダウンロード", "zh_CN": "下载 PDF"}[reader]
    assert tools in page.split('data-testid="invoice"')[0]


def test_the_invoice_pdf_is_in_the_schools_language(client, school_of):
    _, invoice = school_of("JP")
    assert login(client, email="bursar@north.example").status_code == 302

    pdf = client.get(f"/schools/north/admin/invoices/{invoice.number}.pdf?lang=en").data

    text = " ".join(pdf_strings(pdf))
    assert invoice.number in text
    assert "Due date" not in text and "Invoice number" not in text  # not in English
    assert b"HeiseiKakuGo-W5" in pdf  # Japanese type: the words are Japanese


def test_an_english_schools_pdf_stays_english_for_a_chinese_reader(client, school_of):
    _, invoice = school_of("SG")
    assert login(client, email="bursar@north.example").status_code == 302
    pdf = client.get(f"/schools/north/admin/invoices/{invoice.number}.pdf?lang=zh_CN").data
    text = " ".join(pdf_strings(pdf))
    assert "Due date" in text and "Summer polo" in text


def test_the_packing_list_is_in_the_schools_language(client, school_of):
    school_of("JP")
    assert login(client, email="bursar@north.example").status_code == 302

    page = client.get("/schools/north/admin/classes/3A/packing?lang=zh_CN").text

    document = article(page, "packing-doc")
    assert 'data-locale="ja"' in document
    assert "<h1>梱包リスト：クラス 3A</h1>" in document
    assert "<td>夏用ポロシャツ</td>" in document
    assert "下载 CSV" in page.split('data-testid="packing-doc"')[0]  # the reader's words


def test_the_factorys_packing_slip_is_in_the_schools_language(
    app, client, session, sign_in, school_of
):
    _, invoice = school_of("JP")
    order = invoice.order
    with app.test_request_context():
        shipment = lifecycle.ship(
            session, order, {order.lines[0].id: 2}, carrier="sf_express", tracking_number="SF1"
        )
    session.commit()
    sign_in("warehouse")

    page = client.get(
        f"/admin/orders/{order.number}/shipments/{shipment.id}/packing-slip?lang=zh_CN"
    ).text

    slip = article(page, "packing-slip")
    assert 'data-locale="ja"' in slip and "<h1>納品書</h1>" in slip
    assert "<td>夏用ポロシャツ" in slip
    assert "Sourcefront縫製工場" in slip and "〒528000" in slip
    assert f"订单 {order.number}" in page.split('data-testid="packing-slip"')[0]  # admin's words
