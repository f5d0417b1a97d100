"""Receipts for paid orders: the printable page and the PDF, the factory's details, the
tax included in the total (when configured), the payment and refunds."""

import re
from datetime import UTC, datetime

import pytest

from shop.orders.lifecycle import apply_refunded_total
from shop.orders.receipt import CHINESE, JAPANESE, LATIN, LATIN_BOLD, font_for, included_tax
from tests.factories import make_product
from tests.helpers.pdf import pdf_strings
from tests.orders.customer_helpers import (
    buy,
    change_order,
    mark_paid_now,
    order_now,
    pay_by_card,
    stripe_app,
)

FACTORY = {
    "FACTORY_NAME": "Foshan Uniform Works",
    "FACTORY_ADDRESS": "9 Loom Street\nFoshan 528000",
    "FACTORY_TAX_ID": "91440600MA4UXXXX1X",
}


@pytest.fixture
def app(make_app, stripe_settings, serve, localstripe):
    return stripe_app(make_app, stripe_settings, serve, localstripe, **FACTORY)


@pytest.fixture
def polo(session):
    product = make_product(session, slug="polo", name="Summer polo", on_hand=20)
    session.commit()
    return product


# --- who gets one ------------------------------------------------------------------------


def test_an_unpaid_order_has_no_receipt(app, client, polo):
    number = buy(client, polo.variants[0].id)
    assert client.get(f"/orders/{number}/receipt").status_code == 404
    assert client.get(f"/orders/{number}/receipt.pdf").status_code == 404
    assert 'data-testid="receipt-link"' not in client.get(f"/orders/{number}").text


def test_a_stranger_gets_no_receipt(app, client, polo):
    number = buy(client, polo.variants[0].id)
    mark_paid_now(app, number)
    stranger = app.test_client()
    assert stranger.get(f"/orders/{number}/receipt").status_code == 404
    assert stranger.get(f"/orders/{number}/receipt.pdf").status_code == 404


# --- the printable page ------------------------------------------------------------------


def test_a_card_paid_order_has_a_printable_receipt(app, client, polo):
    number = buy(client, polo.variants[0].id, 2)  # 2 × 89.00, picked up
    pay_by_card(app, client, number)
    order_page = client.get(f"/orders/{number}").text
    assert f'href="/orders/{number}/receipt"' in order_page
    response = client.get(f"/orders/{number}/receipt")
    assert response.status_code == 200
    page = response.text
    stylesheet_link = re.search(
        r'<link rel="stylesheet" href="(/static/css/print\.[0-9a-f]{10}\.css)" media="print">', page
    )
    assert stylesheet_link, "no print stylesheet under its content-hashed name"
    assert 'data-testid="factory-name">Foshan Uniform Works<' in page
    assert "9 Loom Street\nFoshan 528000" in page
    assert "Tax ID: 91440600MA4UXXXX1X" in page
    assert f'data-testid="order-number">{number}<' in page
    assert 'data-testid="receipt-line" data-sku="T-' in page
    assert 'data-testid="receipt-total" data-amount="17800" data-currency="CNY"' in page
    assert re.search(r'data-testid="receipt-payment">.*Card payment.*CN¥178\.00', page)
    assert 'data-testid="receipt-tax"' not in page  # no tax rate configured
    assert 'data-testid="receipt-refunded"' not in page
    with client.get(stylesheet_link.group(1)) as stylesheet:
        assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"


def test_the_receipt_shows_the_tax_included_when_a_rate_is_set(
    make_app, stripe_settings, client, session, polo
):
    app = make_app(**stripe_settings, **FACTORY, TAX_RATE_PERCENT="13")
    guest = app.test_client()
    number = buy(guest, polo.variants[0].id)  # 89.00 including 13 % tax
    mark_paid_now(app, number)
    page = guest.get(f"/orders/{number}/receipt").text
    # 8900 × 13 / 113 = 1023.89 → 1024 (¥10.24)
    assert 'data-testid="receipt-tax" data-amount="1024" data-rate="13"' in page
    assert "Includes tax at 13%" in page and "CN¥10.24" in page
    pdf = guest.get(f"/orders/{number}/receipt.pdf").data
    assert "Includes tax at 13%" in pdf_strings(pdf)
    assert "CN¥10.24" in pdf_strings(pdf)


def test_refunds_show_on_the_receipt(app, client, polo):
    number = buy(client, polo.variants[0].id, 2)
    mark_paid_now(app, number)
    change_order(app, number, lambda session, order: apply_refunded_total(session, order, 2500))
    assert order_now(app, number).payment_status == "partially_refunded"
    page = client.get(f"/orders/{number}/receipt").text
    assert 'data-testid="receipt-refunded" data-amount="2500"' in page
    assert 'data-testid="receipt-net" data-amount="15300"' in page
    assert "Payment received" in page  # paid, but not by card through this shop
    assert "Paid after refunds" in pdf_strings(client.get(f"/orders/{number}/receipt.pdf").data)


# --- the PDF -----------------------------------------------------------------------------


def test_the_receipt_pdf_downloads_with_the_order_number_inside(app, client, polo):
    number = buy(client, polo.variants[0].id, 2)
    pay_by_card(app, client, number)
    response = client.get(f"/orders/{number}/receipt.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="receipt-{number}.pdf"'
    )
    pdf = response.data
    assert pdf.startswith(b"%PDF-")
    assert f"/Title (Receipt {number})".encode() in pdf
    text = pdf_strings(pdf)
    for expected in (
        number,
        "Receipt",
        "Foshan Uniform Works",
        "9 Loom Street",
        "Tax ID: 91440600MA4UXXXX1X",
        "Summer polo",
        "Card payment",
        "CN¥178.00",
        "Li Wei",
    ):
        assert expected in text, expected
    assert "Includes tax at 13%" not in text


def test_chinese_and_japanese_text_use_the_builtin_cjk_fonts(app, client, session):
    product = make_product(session, slug="polo-cn", name="夏季校服 Polo", on_hand=5)
    session.commit()
    number = buy(client, product.variants[0].id)
    mark_paid_now(app, number, when=datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    english = client.get(f"/orders/{number}/receipt.pdf").data
    assert b"/BaseFont /STSong-Light" in english  # the product name
    assert b"HeiseiKakuGo" not in english
    japanese = client.get(f"/orders/{number}/receipt.pdf?lang=ja").data
    assert b"/BaseFont /HeiseiKakuGo-W5" in japanese  # dates and words in Japanese
    for pdf in (english, japanese):
        assert pdf.startswith(b"%PDF-") and number in pdf_strings(pdf)
    chinese = client.get(f"/orders/{number}/receipt.pdf?lang=zh_CN").data
    assert b"/BaseFont /STSong-Light" in chinese and number in pdf_strings(chinese)


def test_a_refunded_order_still_has_its_receipt(app, client, polo):
    number = buy(client, polo.variants[0].id)
    mark_paid_now(app, number)
    change_order(app, number, lambda session, order: apply_refunded_total(session, order, 8900))
    assert order_now(app, number).payment_status == "refunded"
    assert client.get(f"/orders/{number}/receipt").status_code == 200
    assert client.get(f"/orders/{number}/receipt.pdf").data.startswith(b"%PDF-")


# --- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "rate", "tax"),
    [
        (11300, 13, 1300),  # exactly 13 % of 10000
        (8900, 13, 1024),  # 1023.89
        (5000, 10, 455),  # ¥5,000 at 10 %: 454.55 → 455 yen
        (10900, 9, 900),  # Singapore GST
        (100, "8.5", 8),  # 7.83
        (4, 60, 2),  # exactly 1.5: half rounds up
        (12, 60, 5),  # exactly 4.5
        (0, 13, 0),
        (1000, 0, 0),
        (10**15 + 13, 13, 115044247787612),  # exact at any size (no floats)
    ],
)
def test_included_tax_is_exact_integer_arithmetic(total, rate, tax):
    assert included_tax(total, rate) == tax


def test_each_piece_of_pdf_text_gets_a_font_that_has_its_characters():
    assert font_for("SF-7K3M9-QX2PD", "zh_CN") == LATIN
    assert font_for("CN¥89.00", "ja", bold=True) == LATIN_BOLD
    assert font_for("夏季校服", "en") == CHINESE
    assert font_for("夏季校服", "ja") == JAPANESE
    assert font_for("ポロシャツ", "en") == JAPANESE
    assert font_for("￥5,000", "ja") == JAPANESE


def test_a_tax_rate_that_is_not_a_percentage_stops_the_start(make_app):
    from shop.config import ConfigError

    for bad in ("13%", "-1", "100", "abc", "nan"):
        with pytest.raises(ConfigError, match="TAX_RATE_PERCENT"):
            make_app(TAX_RATE_PERCENT=bad)
