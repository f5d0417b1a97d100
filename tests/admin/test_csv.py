"""CSV export and import: the format, the round trip byte for byte, the dry run's changes
and errors (line, column, reason), all-or-nothing apply of a plan, stock through the
ledger, and the pages with their role table (the background dry run and apply in
batches: ``test_csv_job.py``)."""

import csv
import io

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.audit.models import AuditEntry
from shop.catalog import csv_io
from shop.catalog.models import PriceTier, Product, Variant
from shop.stock import allocation
from shop.stock.models import StockMovement
from tests.accounts.helpers import login, make_user
from tests.factories import make_category, make_product
from tests.helpers.csv_files import rows_of, to_csv, token_on, upload


def catalogue(session):
    uniforms = make_category(session, slug="uniforms")
    polo = make_product(
        session,
        category=uniforms,
        slug="summer-polo",
        name="Summer polo",
        name_zh="夏季校服短袖 polo 衫",
        description='Cotton, "pique"\nsecond line',
        sizes=("130", "140"),
        colours=("navy",),
        tiers=((1, 8900), (50, 7900)),
        on_hand=12,
    )
    polo.price_tiers.append(PriceTier(currency="JPY", min_quantity=1, unit_amount=1800))
    skirt = make_product(
        session,
        category=uniforms,
        slug="pleated-skirt",
        name="Pleated skirt",
        made_to_order=True,
        lead_time_days=14,
        min_order_quantity=10,
        order_increment=5,
        on_hand=5,
    )
    session.commit()
    return polo, skirt


def db_state(app):
    """Everything an import could change."""
    with Session(app.extensions["sa_engine"]) as db:
        return (
            db.execute(sa.select(Product.slug, Product.name, Product.search_text)).all(),
            db.execute(sa.select(Variant.sku, Variant.on_hand, Variant.size)).all(),
            db.execute(sa.select(PriceTier.currency, PriceTier.unit_amount)).all(),
            db.scalar(sa.select(sa.func.count(StockMovement.id))),
            db.scalar(sa.select(sa.func.count(AuditEntry.id))),
        )


# --- the rules ------------------------------------------------------------------------


def test_export_has_one_row_per_variant_with_tiers_and_bom(session):
    catalogue(session)

    rows = rows_of(csv_io.export_csv(session))

    assert [row["product_slug"] for row in rows] == ["pleated-skirt", "summer-polo", "summer-polo"]
    polo = rows[1]
    assert polo["name_zh"] == "夏季校服短袖 polo 衫"
    assert polo["price_CNY"] == "1:89.00|50:79.00"
    assert polo["price_JPY"] == "1:1800"
    assert polo["price_USD"] == ""
    assert polo["on_hand"] == "12"
    assert polo["description"] == 'Cotton, "pique"\nsecond line'
    assert rows[0]["made_to_order"] == "yes"
    assert rows[0]["lead_time_days"] == "14"


def test_round_trip_is_byte_for_byte_and_changes_nothing(app, session):
    catalogue(session)
    first = csv_io.export_csv(session)
    before = db_state(app)

    plan = csv_io.plan_import(session, first)
    assert plan.problems == []
    assert plan.changed_rows == []
    csv_io.apply_import(session, plan, actor_user_id=None)
    session.commit()

    assert csv_io.export_csv(session) == first
    after = db_state(app)
    assert after[:4] == before[:4]  # only the import's own audit row is new


def test_import_creates_and_changes_and_counts_stock_through_the_ledger(app, session):
    polo, _skirt = catalogue(session)
    allocation.allocate(session, polo.variants[0].id, 2, reference="SF-9")
    session.commit()
    rows = rows_of(csv_io.export_csv(session))
    rows[1]["name"] = "Summer polo 2026"
    rows[1]["on_hand"] = "5"
    rows[2]["name"] = "Summer polo 2026"
    rows[1]["price_CNY"] = rows[2]["price_CNY"] = "1:99.00|100:70.00"
    new = dict(rows[1], product_slug="winter-coat", name="Winter coat", sku="WC-1", on_hand="7")
    new["price_CNY"] = "1:300.00"
    data = to_csv([*rows, new])

    plan = csv_io.plan_import(session, data)

    assert plan.problems == []
    changed = {(r.line, r.sku): (r.product_action, r.variant_action) for r in plan.changed_rows}
    assert changed == {
        (3, rows[1]["sku"]): ("update", None),
        (7, "WC-1"): ("create", "create"),  # the polo's two-line description: lines 3-6
    }
    line3 = next(r for r in plan.rows if r.line == 3)
    assert ("name", "Summer polo", "Summer polo 2026") in line3.changes
    assert ("price_CNY", "1:89.00|50:79.00", "1:99.00|100:70.00") in line3.changes
    assert ("on_hand", "12", "5") in line3.changes

    counts = csv_io.apply_import(session, plan, actor_user_id=None)
    session.commit()

    assert counts["products_created"] == 1 and counts["stock_changed"] == 2
    with Session(app.extensions["sa_engine"]) as db:
        product = db.scalars(sa.select(Product).where(Product.slug == "summer-polo")).one()
        assert product.name == "Summer polo 2026"
        assert "summer polo 2026" in product.search_text
        assert [
            (t.min_quantity, t.unit_amount) for t in product.price_tiers if t.currency == "CNY"
        ] == [(1, 9900), (100, 7000)]
        assert product.variants[0].on_hand == 5
        coat = db.scalars(sa.select(Variant).where(Variant.sku == "WC-1")).one()
        assert (coat.on_hand, coat.product.slug) == (7, "winter-coat")
        ledger = db.execute(
            sa.select(StockMovement.variant_id, StockMovement.reason, StockMovement.on_hand_delta)
            .where(StockMovement.reason == "counted")
            .order_by(StockMovement.id)
        ).all()
        assert [tuple(m) for m in ledger] == [
            (product.variants[0].id, "counted", -7),
            (coat.id, "counted", 7),
        ]
        actions = db.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert sorted(actions) == [
            "catalog.csv_import",
            "product.csv_create",
            "product.csv_update",
        ]


def test_errors_on_several_rows_are_all_reported_and_nothing_is_written(app, session):
    catalogue(session)
    before = db_state(app)
    rows = rows_of(csv_io.export_csv(session))
    extra = dict(rows[0], product_slug="Bad Slug", sku="NEW-1", category_slug="nowhere")
    rows[0]["min_order_quantity"] = "0"
    rows[1]["price_CNY"] = rows[2]["price_CNY"] = "1:79.00|50:89.00"
    rows[2]["sku"] = rows[1]["sku"]
    rows[2]["on_hand"] = "lots"
    extra["made_to_order"] = "maybe"
    data = to_csv([*rows, extra])

    plan = csv_io.plan_import(session, data)

    found = {(p.line, p.column) for p in plan.problems}
    assert found == {  # header 1, skirt 2, polo 3-4 and 5-6 (a two-line description), 7
        (2, "min_order_quantity"),
        (3, "price_CNY"),
        (5, "price_CNY"),
        (5, "sku"),
        (5, "on_hand"),
        (7, "product_slug"),
        (7, "made_to_order"),
        (7, "category_slug"),
    }
    with pytest.raises(csv_io.ImportHasProblems):
        csv_io.apply_import(session, plan, actor_user_id=None)
    session.rollback()
    assert db_state(app) == before


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("price_CNY", "1:89.001", "too many decimals"),
        ("price_CNY", "0:10.00", "start at 1"),
        ("price_CNY", "1:10.00|1:9.00", "rise strictly"),
        ("price_JPY", "1:10.5", "too many decimals"),
        ("price_SGD", "one:ten", "like 1:89.00"),
        ("lead_time_days", "", "need a lead time"),
        ("name", "  ", "may not be empty"),
        ("size", "x" * 33, "Longer than 32"),
        ("position", "-1", "whole number"),
        ("low_stock_threshold", "9" * 5000, "whole number"),
        ("price_USD", "1" * 5000 + ":1.00", "like 1:89.00"),
        ("for_sale", "perhaps", "yes or no"),
        ("gender", "female", "girls, boys, unisex"),
        ("age_group", "teens", "or leave it empty"),
        ("on_hand", "0", "Below the 3 allocated"),
    ],
)
def test_each_validation(session, column, value, reason):
    _polo, skirt = catalogue(session)
    allocation.allocate(session, skirt.variants[0].id, 3, reference="SF-1")
    rows = rows_of(csv_io.export_csv(session))[:1]  # the skirt
    rows[0][column] = value

    problems = csv_io.plan_import(session, to_csv(rows)).problems

    assert [(p.line, p.column) for p in problems] == [(2, column)]
    assert reason in problems[0].message


def test_rows_of_one_product_must_agree(session):
    catalogue(session)
    rows = rows_of(csv_io.export_csv(session))
    rows[2]["name"] = "Something else"

    problems = csv_io.plan_import(session, to_csv(rows)).problems

    assert [(p.line, p.column, p.message) for p in problems] == [
        (5, "name", "Differs from line 3 of the same product.")
    ]


def test_sku_of_another_product_is_refused(session):
    polo, _skirt = catalogue(session)
    rows = rows_of(csv_io.export_csv(session))
    rows[0]["sku"] = polo.variants[0].sku

    problems = csv_io.plan_import(session, to_csv([rows[0]])).problems

    assert [(p.line, p.column) for p in problems] == [(2, "sku")]
    assert "summer-polo" in problems[0].message


def test_bad_header_and_bad_encoding(session):
    header_problems = csv_io.plan_import(session, b"sku,colour,extra\r\nA,navy,1\r\n").problems
    assert (1, "extra") in {(p.line, p.column) for p in header_problems}
    assert (1, "product_slug") in {(p.line, p.column) for p in header_problems}
    assert csv_io.plan_import(session, "sku\r\n".encode("utf-16")).problems[0].line == 1
    assert csv_io.plan_import(session, b"").problems[0].line == 1


@pytest.mark.parametrize("column", ["name", "description_ja", "sku", "category_slug", "on_hand"])
def test_a_nul_byte_in_a_cell_is_refused_by_the_dry_run_as_the_apply_would(session, column):
    catalogue(session)
    rows = rows_of(csv_io.export_csv(session))
    rows[1][column] = rows[1][column] + "\x00"

    plan = csv_io.plan_import(session, to_csv(rows))

    assert [(p.line, p.column, p.message) for p in plan.problems] == [
        (3, column, "Contains a character we cannot store (a NUL byte); remove it.")
    ]


def test_line_numbers_count_lines_inside_quoted_cells(session):
    catalogue(session)
    rows = rows_of(csv_io.export_csv(session))  # the polo's description has two lines
    rows[2]["size"] = ""

    problems = csv_io.plan_import(session, to_csv(rows)).problems

    # header 1, skirt 2, polo rows on lines 3–4 and 5–6
    assert [(p.line, p.column) for p in problems] == [(5, "size")]


# --- the pages ------------------------------------------------------------------------


def test_export_download_round_trips_through_the_pages(app, client, session, sign_in):
    catalogue(session)
    sign_in("manager")

    exported = client.get("/admin/csv/export")
    assert exported.status_code == 200
    assert exported.mimetype == "text/csv"
    assert exported.data.startswith("\ufeff".encode())

    dry_run = upload(client, exported.data)
    assert dry_run.status_code == 200
    assert 'data-testid="csv-no-changes"' in dry_run.text
    applied = client.post(
        "/admin/csv/apply", data={"token": token_on(dry_run.text)}, follow_redirects=True
    )
    assert 'data-ok="true"' in applied.text

    assert client.get("/admin/csv/export").data == exported.data


def test_dry_run_shows_changes_then_apply_saves_them_with_progress(app, client, session, sign_in):
    catalogue(session)
    user = sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    rows[0]["name"] = "Pleated skirt (navy)"
    rows[0]["on_hand"] = "9"
    before = db_state(app)

    dry_run = upload(client, to_csv(rows))

    assert dry_run.status_code == 200
    assert 'data-line="2" data-product="update" data-variant=""' in dry_run.text
    assert "Pleated skirt → Pleated skirt (navy)" in dry_run.text
    assert db_state(app)[:4] == before[:4]  # a dry run writes nothing to the catalogue
    assert db_state(app)[4] == before[4] + 2  # the upload and its check, in the audit log

    applied = client.post("/admin/csv/apply", data={"token": token_on(dry_run.text)})

    assert applied.status_code == 302
    progress = client.get(applied.headers["Location"])  # without Redis: already done
    assert progress.status_code == 200
    assert 'data-state="finished" data-done="3" data-total="3"' in progress.text
    assert 'data-products-changed="1"' in progress.text
    assert 'data-stock-changed="1"' in progress.text
    assert 'data-ok="true"' in progress.text
    with Session(app.extensions["sa_engine"]) as db:
        skirt = db.scalars(sa.select(Product).where(Product.slug == "pleated-skirt")).one()
        assert (skirt.name, skirt.variants[0].on_hand) == ("Pleated skirt (navy)", 9)
        movement = db.scalars(sa.select(StockMovement).where(StockMovement.reason == "counted"))
        assert movement.one().staff_user_id == user.id
    # the upload is used up: pressing again shows the same import, and saves nothing
    again = client.post("/admin/csv/apply", data={"token": token_on(dry_run.text)})
    assert again.status_code == 302
    assert again.headers["Location"] == applied.headers["Location"]


def test_upload_with_errors_shows_them_and_offers_no_apply(app, client, session, sign_in):
    catalogue(session)
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    rows[0]["order_increment"] = "0"
    rows[1]["colour"] = ""
    before = db_state(app)

    response = upload(client, to_csv(rows))

    assert response.status_code == 200
    assert 'data-problems="2"' in response.text
    assert 'data-line="2" data-column="order_increment"' in response.text
    assert 'data-line="3" data-column="colour"' in response.text
    assert 'data-testid="csv-apply"' not in response.text
    assert db_state(app)[:4] == before[:4]  # only the upload and its check are recorded


def test_a_nul_byte_in_an_upload_is_shown_on_its_row_and_column(app, client, session, sign_in):
    catalogue(session)
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    rows[0]["name"] = "Pleated\x00 skirt"
    before = db_state(app)

    response = upload(client, to_csv(rows))

    assert response.status_code == 200
    assert 'data-line="2" data-column="name"' in response.text
    assert "(a NUL byte); remove it." in response.text
    assert 'data-testid="csv-apply"' not in response.text
    assert db_state(app)[:4] == before[:4]  # only the upload and its check are recorded


def test_upload_without_a_file_is_refused_on_the_form(client, sign_in):
    sign_in("manager")
    response = client.post("/admin/csv/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'data-testid="field-error"' in response.text
    assert "Choose a CSV file" in response.text


def test_apply_fails_cleanly_when_stock_moved_since_the_dry_run(app, client, session, sign_in):
    _polo, skirt = catalogue(session)
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    rows[0]["on_hand"] = "1"
    dry_run = upload(client, to_csv(rows))
    allocation.allocate(session, skirt.variants[0].id, 3, reference="SF-2")
    session.commit()
    before = db_state(app)

    response = client.post(
        "/admin/csv/apply", data={"token": token_on(dry_run.text)}, follow_redirects=True
    )

    # the job plans each batch again, finds the row no longer applies, and stops there
    assert 'data-state="stopped"' in response.text
    assert 'data-line="2" data-column="on_hand"' in response.text
    assert "Below the 3 allocated" in response.text
    assert db_state(app)[:4] == before[:4]  # only the audit entry saying why is new


def test_another_staff_member_cannot_apply_my_upload(app, client, session, sign_in):
    catalogue(session)
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    rows[0]["name"] = "Changed"
    token = token_on(upload(client, to_csv(rows)).text)
    before = db_state(app)
    client.post("/account/logout")
    sign_in("owner")

    response = client.post("/admin/csv/apply", data={"token": token})

    assert response.status_code == 302
    assert db_state(app) == before


def test_csv_forms_refuse_a_missing_csrf_token(make_app, session_factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    with session_factory(app) as session:
        make_user(session, email="m@factory.example", role="manager")
    client = app.test_client()
    import re

    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/account/login").text
    ).group(1)
    assert login(client, email="m@factory.example", csrf_token=token).status_code == 302

    assert upload(client, b"x").status_code == 400  # the app-wide CSRF check
    assert client.post("/admin/csv/apply", data={"token": "0" * 32}).status_code in (302, 400)


EVERYONE = ("owner", "manager", "warehouse", "service", "workshop", "customer", "anonymous")
MAY_MANAGE_CATALOG = {"owner", "manager"}


@pytest.mark.parametrize("role", EVERYONE)
def test_role_table(app, client, session, sign_in, role):
    catalogue(session)
    if role == "customer":
        make_user(session, email="someone@example.com", role="customer")
        assert login(client, email="someone@example.com").status_code == 302
    elif role != "anonymous":
        sign_in(role)
    allowed = role in MAY_MANAGE_CATALOG
    refused = 302 if role == "anonymous" else 403
    before = db_state(app)

    assert client.get("/admin/csv").status_code == (200 if allowed else refused)
    assert client.get("/admin/csv/export").status_code == (200 if allowed else refused)
    rows = rows_of(csv_io.export_csv(session))
    rows[0]["name"] = "Changed"
    response = upload(client, to_csv(rows), follow=False)
    assert response.status_code == (302 if allowed else refused)  # allowed: to its check
    if allowed:
        assert client.get(response.headers["Location"]).status_code == 200
    response = client.post("/admin/csv/apply", data={"token": "0" * 32})
    assert response.status_code == (302 if allowed else refused)  # allowed: no such upload
    if role == "anonymous":
        assert "/account/login" in response.headers["Location"]
    assert db_state(app)[:4] == before[:4]
    assert db_state(app)[4] == before[4] + (2 if allowed else 0)  # the upload and its check


def test_a_failure_while_applying_rolls_everything_back(app, client, session, sign_in, monkeypatch):
    catalogue(session)
    sign_in("manager")
    rows = rows_of(client.get("/admin/csv/export").data)
    for row in rows:
        row["name"] = "Renamed " + row["product_slug"]
        row["on_hand"] = str(int(row["on_hand"]) + 1)
    dry_run = upload(client, to_csv(rows))
    before = db_state(app)
    calls = []

    def adjust_then_fail(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise allocation.InvalidStockChange("stock moved")
        return allocation.adjust(*args, **kwargs)

    monkeypatch.setattr(csv_io, "adjust", adjust_then_fail)

    response = client.post(
        "/admin/csv/apply", data={"token": token_on(dry_run.text)}, follow_redirects=True
    )

    assert 'data-state="failed"' in response.text  # its one batch rolled back
    assert 'data-ok="false"' in response.text
    assert len(calls) == 2
    assert db_state(app) == before


def test_export_and_dry_run_cost_the_same_queries_for_more_rows(app, session):
    from tests.helpers.queries import recording_queries

    catalogue(session)

    def measure():
        with Session(app.extensions["sa_engine"]) as db:
            with recording_queries(app) as exporting:
                data = csv_io.export_csv(db)
            with recording_queries(app) as planning:
                csv_io.plan_import(db, data)
        return len(exporting), len(planning)

    few = measure()
    for _ in range(5):
        make_product(session, sizes=("110", "120", "130"), colours=("navy", "white"))
    session.commit()

    assert measure() == few


def test_a_catalogue_larger_than_the_app_wide_body_limit_can_still_be_uploaded(
    client, session, sign_in
):
    """The CSV import allows up to 20 MB although every other route stops at 1 MiB."""
    sign_in("owner")
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="catalogue.csv"\r\n'
    body = part + b"Content-Type: text/csv\r\n\r\nname,sku\n" + b"x" * 1_500_000 + b"\r\n--x--\r\n"

    response = client.post(
        "/admin/csv/import",
        data=body,
        content_type="multipart/form-data; boundary=x",
        follow_redirects=True,
    )

    assert response.status_code == 200  # read and checked (not a catalogue), not refused as 413
    assert 'data-column="product_slug"' in response.text  # its header lacks the columns
    assert "Choose a CSV file" not in response.text


def test_gender_and_age_group_round_trip_and_import(app, session):
    polo, _skirt = catalogue(session)
    polo.gender, polo.age_group = "unisex", "primary"
    session.commit()
    rows = rows_of(csv_io.export_csv(session))
    polo_rows = [row for row in rows if row["product_slug"] == "summer-polo"]
    assert {(row["gender"], row["age_group"]) for row in polo_rows} == {("unisex", "primary")}
    skirt_rows = [row for row in rows if row["product_slug"] == "pleated-skirt"]
    assert {(row["gender"], row["age_group"]) for row in skirt_rows} == {("", "")}
    for row in skirt_rows:
        row["gender"], row["age_group"] = "girls", "secondary"

    plan = csv_io.plan_import(session, to_csv(rows))
    assert plan.problems == []
    csv_io.apply_import(session, plan, actor_user_id=None)
    session.commit()

    with Session(app.extensions["sa_engine"]) as db:
        found = db.execute(sa.select(Product.slug, Product.gender, Product.age_group)).all()
    assert sorted(found) == [
        ("pleated-skirt", "girls", "secondary"),
        ("summer-polo", "unisex", "primary"),
    ]


def test_a_file_without_gender_and_age_group_keeps_what_products_have(app, session):
    """A file exported before the two columns existed still imports: the products keep
    their gender and age group, a new product has none, and nothing else is reported."""
    polo, _skirt = catalogue(session)
    polo.gender, polo.age_group = "unisex", "primary"
    session.commit()
    rows = rows_of(csv_io.export_csv(session))
    for row in rows:
        del row["gender"], row["age_group"]
    new = dict(rows[1], product_slug="winter-coat", name="Winter coat", sku="WC-1")
    old_columns = [c for c in csv_io.COLUMNS if c not in ("gender", "age_group")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=old_columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows([*rows, new])

    plan = csv_io.plan_import(session, buffer.getvalue().encode("utf-8"))

    assert plan.problems == []
    assert {(r.sku, r.product_action) for r in plan.changed_rows} == {("WC-1", "create")}
    csv_io.apply_import(session, plan, actor_user_id=None)
    session.commit()
    with Session(app.extensions["sa_engine"]) as db:
        found = db.execute(sa.select(Product.slug, Product.gender, Product.age_group)).all()
    assert sorted(found) == [
        ("pleated-skirt", None, None),
        ("summer-polo", "unisex", "primary"),
        ("winter-coat", None, None),
    ]
