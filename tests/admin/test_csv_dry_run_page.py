"""The catalogue CSV's dry run, read by a person: a product's prices are read once, from
its first row (a price changed there is one error, not one per other variant row), and
the page of a 10,000-row file is a summary and a page of problems or changes, not 3 MB."""

import pytest

from shop.catalog import csv_io
from shop.catalog.models import PriceTier
from tests.accounts.helpers import login, make_user
from tests.factories import make_category, make_product
from tests.helpers.csv_files import big_csv, rows_of, to_csv, upload

PAGE_LIMIT_BYTES = 200_000  # the 10,000-row dry run used to be 3 MB


@pytest.fixture
def app(make_app):
    return make_app(CSV_IMPORT_BATCH_ROWS=250)


def signed_in(app):
    client = app.test_client()
    assert login(client, email="manager@factory.example").status_code == 302
    return client


@pytest.fixture
def manager(app, session):
    make_category(session, slug="uniforms")
    user = make_user(session, email="manager@factory.example", role="manager")
    session.commit()
    return user


def fourteen_sizes(session):
    product = make_product(
        session,
        slug="polo",
        sizes=tuple(str(110 + 5 * n) for n in range(14)),
        tiers=((1, 8900), (50, 7900)),
    )
    product.price_tiers.append(PriceTier(currency="JPY", min_quantity=1, unit_amount=1800))
    session.commit()
    return product


def test_a_price_changed_on_the_first_row_is_one_error_on_that_row(session):
    fourteen_sizes(session)
    rows = rows_of(csv_io.export_csv(session))
    assert len(rows) == 14
    rows[0]["price_CNY"] = "1:95.00|50:79.00"

    problems = csv_io.plan_import(session, to_csv(rows)).problems

    assert [(p.line, p.column) for p in problems] == [(2, "price_CNY")]
    assert "Line 3 of the same product has other prices." in problems[0].message


def test_a_price_changed_on_a_later_row_is_named_on_the_first_row(session):
    fourteen_sizes(session)
    rows = rows_of(csv_io.export_csv(session))
    rows[6]["price_CNY"] = "1:95.00"
    rows[9]["price_JPY"] = ""

    problems = csv_io.plan_import(session, to_csv(rows)).problems

    assert [(p.line, p.column) for p in problems] == [(2, "price_CNY"), (2, "price_JPY")]
    assert "Line 8 of the same product" in problems[0].message
    assert "Line 11 of the same product" in problems[1].message


def test_prices_agreeing_on_every_row_change_the_product_once(session):
    fourteen_sizes(session)
    rows = rows_of(csv_io.export_csv(session))
    for row in rows:
        row["price_CNY"] = "1:95.00|50:79.00"

    plan = csv_io.plan_import(session, to_csv(rows))

    assert plan.problems == []
    assert [r.line for r in plan.rows if r.product_action == "update"] == [2]


def test_the_dry_run_across_batches_gives_one_error_per_product(app, manager):
    """The background check reads the file in batches; a product whose rows span two
    batches still gets one price error, on its first row."""
    app.config["CSV_IMPORT_BATCH_ROWS"] = 7
    client = signed_in(app)
    rows = rows_of(big_csv(3))  # 3 products × 10 rows
    rows[10]["price_CNY"] = "1:95.00"  # polo-0001's first row (line 12)
    page = upload(client, to_csv(rows)).text
    assert 'data-problems="1"' in page
    assert page.count('data-testid="csv-error"') == 1
    assert 'data-testid="csv-error" data-line="12" data-column="price_CNY"' in page


@pytest.mark.slow
def test_the_dry_run_of_10000_rows_is_a_summary_and_pages(app, manager):
    client = signed_in(app)
    rows = rows_of(big_csv(1000))  # 10,000 new rows
    for row in rows[::10]:  # every product's first row: another price
        row["price_CNY"] = "1:1.00"
    for row in rows:
        row["description"] = "A long description of the polo. " * 20

    with_errors = upload(client, to_csv(rows))

    assert with_errors.status_code == 200
    page = with_errors.text
    size = len(with_errors.data)
    print(f"dry run of 10,000 rows with errors: {size:,} bytes")
    assert size < PAGE_LIMIT_BYTES
    assert 'data-rows="10000" data-problems="1000"' in page  # one per product, not 9,000
    assert page.count('data-testid="csv-error"') == 100
    assert 'data-testid="csv-page" data-page="1" data-pages="10"' in page
    assert 'rel="next"' in page and "?page=2" in page

    for row in rows[::10]:
        row["price_CNY"] = rows[1]["price_CNY"]
    clean = upload(client, to_csv(rows))
    size = len(clean.data)
    print(f"dry run of 10,000 rows to create: {size:,} bytes")
    assert size < PAGE_LIMIT_BYTES
    assert 'data-rows="10000" data-problems="0"' in clean.text
    assert clean.text.count('data-testid="csv-change"') == 100
    assert 'data-testid="csv-apply"' in clean.text
