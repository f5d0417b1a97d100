"""Input anyone can send never gives a 500: ids beyond their column, NUL bytes, invalid
UTF-8 and percent-encoding, JSON of the wrong shape (``shop.inputs``)."""

import io
import json

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.audit.models import AuditEntry
from shop.cart.models import CartLine
from shop.catalog.models import Category, Product
from shop.inputs import MAX_ID, parse_id
from shop.orders.models import Order
from shop.payments.models import Payment
from tests.accounts.helpers import login, make_user
from tests.checkout_helpers import PICKUP, add_to_cart, place_order
from tests.factories import make_category, make_product
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member, make_school

REFUSED = "Your input contains a character we cannot store (a NUL byte)."
BEYOND_INTEGER = 2**31  # one above PostgreSQL INTEGER
BEYOND_BIGINT = 2**63  # one above SQLite's integers


def sign_in(client, session, role: str):
    user = make_user(session, email=f"{role}@example.com", role=role)
    assert login(client, email=f"{role}@example.com").status_code == 302
    return user


# --- ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("0042", 42),
        (str(MAX_ID), MAX_ID),
        (str(BEYOND_INTEGER), None),
        (str(BEYOND_BIGINT), None),
        ("9" * 5000, None),  # int() would refuse this many digits with a ValueError
        ("0", None),
        ("-1", None),
        ("+1", None),
        ("1.0", None),
        ("٣", None),  # an Arabic-Indic digit: isdigit() but not ASCII
        ("", None),
        (None, None),
        (42, None),
        (["1"], None),
    ],
)
def test_parse_id_answers_none_for_anything_no_row_could_have(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/products/{BEYOND_INTEGER}",
        f"/admin/products/{BEYOND_BIGINT}",
        f"/admin/categories/{BEYOND_INTEGER}",
        f"/admin/stock/{BEYOND_INTEGER}",
        f"/admin/variants/{BEYOND_BIGINT}",
        f"/admin/schools/{BEYOND_INTEGER}/items/{BEYOND_INTEGER}",
        f"/account/addresses/{BEYOND_INTEGER}/edit",
        f"/admin/products/{'9' * 5000}",
    ],
)
def test_a_url_id_beyond_an_integer_column_is_not_found(client, session, path):
    sign_in(client, session, "owner")
    response = client.get(path)
    assert response.status_code == 404
    assert "We could not find that page." in response.text


def test_posting_to_a_url_id_beyond_an_integer_column_is_not_found_and_changes_nothing(
    client, session
):
    product = make_product(session, slug="polo")
    session.commit()
    sign_in(client, session, "owner")

    response = client.post(f"/admin/products/{BEYOND_INTEGER}/active", data={"active": "no"})

    assert response.status_code == 404
    session.expire_all()
    assert session.get(Product, product.id).active is True


def test_the_largest_id_an_integer_column_holds_still_routes(client, session):
    session.add(Category(id=MAX_ID, slug="edge", name="Edge"))
    session.commit()
    sign_in(client, session, "owner")

    response = client.get(f"/admin/categories/{MAX_ID}")

    assert response.status_code == 200
    assert 'value="edge"' in response.text


@pytest.mark.parametrize("actor", [str(BEYOND_INTEGER), str(BEYOND_BIGINT), "9" * 5000])
def test_the_audit_log_ignores_an_actor_id_beyond_an_integer_column(client, session, actor):
    owner = sign_in(client, session, "owner")
    session.add(
        AuditEntry(
            actor_user_id=owner.id, action="product.update", target_type="product", target_id="1"
        )
    )
    session.commit()

    response = client.get("/admin/audit", query_string={"actor": actor})

    assert response.status_code == 200
    assert "product.update" in response.text


@pytest.mark.parametrize("variant", [str(BEYOND_INTEGER), str(BEYOND_BIGINT), "9" * 5000])
def test_a_kit_naming_a_size_beyond_the_columns_asks_for_a_size(client, session, variant):
    product = make_product(session, slug="polo", on_hand=5)
    school = make_school(session, slug="north")
    item = add_item(session, school, product)
    session.commit()

    response = client.post(
        "/schools/north/kit",
        data={
            "student_name": "Li Ming",
            "class_name": "3A",
            f"variant-{item.id}": variant,
            f"qty-{item.id}": "1",
        },
    )

    assert response.status_code == 400
    assert f"{product.name}: choose a size." in response.text
    assert session.scalar(sa.select(sa.func.count(CartLine.id))) == 0


# --- NUL bytes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/products?q=polo%00", None),
        ("GET", "/products?q%00=polo", None),
        ("GET", "/schools/north%00", None),
        ("GET", "/orders/SF-%00", None),
        ("GET", "/track?number=SF%00&email=a@example.com", None),
        ("GET", "/no-such-page%00", None),
        ("POST", "/track", {"number": "SF-1\x00", "email": "a@example.com"}),
        ("POST", "/cart/add", {"variant_id": "1", "quantity": "1", "note\x00": "x"}),
        ("POST", "/cart/add", {"variant_id": "1", "file": (io.BytesIO(b"x"), "a\x00.csv")}),
        ("GET", "/products", {"q": "polo\x00"}),  # a form body on a GET is read too
        (
            "POST",
            "/account/register",
            {"email": "b@example.com", "name": "Bo\x00", "password": "x" * 20},
        ),
    ],
)
def test_a_nul_byte_anywhere_is_refused_with_a_message_saying_so(client, method, path, data):
    response = client.open(path, method=method, data=data)
    assert response.status_code == 400
    assert REFUSED in response.text
    assert "Go back, remove it and try again." in response.text


def test_a_nul_in_the_checkout_notes_is_refused_and_the_buyer_can_still_place(
    make_app, stripe_settings, session_factory
):
    app = make_app(**stripe_settings)  # placing creates a PaymentIntent
    client = app.test_client()
    with session_factory(app) as session:
        product = make_product(session, slug="polo", on_hand=5)
        session.commit()
        add_to_cart(client, product.variants[0].id, 1)

        refused = client.post("/checkout", data={**PICKUP, "notes": "Leave at gate 3\x00"})

        assert refused.status_code == 400
        assert REFUSED in refused.text
        assert session.scalar(sa.select(sa.func.count(Order.id))) == 0
        number = place_order(client, {**PICKUP, "notes": "Leave at gate 3"})
        assert session.execute(sa.select(Order.number, Order.notes)).all() == [
            (number, "Leave at gate 3")
        ]


def test_a_nul_in_an_uploaded_roster_is_shown_on_its_row_and_column(client, session):
    school = make_school(session, slug="north", grades=("1",))
    add_item(session, school, make_product(session, slug="polo", sizes=("130",)))
    bursar = make_user(session, email="bursar@example.com", role="school_admin")
    add_member(session, school, bursar)
    session.commit()
    login(client, email="bursar@example.com")
    roster = "student,class,grade,gender,polo\nAnn Lee,1A,1,girls,130\nBo\x00 Wang,1B,1,boys,130\n"

    response = client.post(
        "/schools/north/admin/roster",
        data={"roster": "", "file": (io.BytesIO(roster.encode()), "roster.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert 'data-testid="roster-problem" data-row="3" data-column="student"' in response.text
    assert "(a NUL byte); remove it." in response.text
    assert 'action="/schools/north/admin/roster/confirm"' not in response.text


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/products?q=%FF%FE", 200),
        ("/products?q=%zz%", 200),
        ("/products?category=%C3%28", 200),
        ("/products?q=%ED%A0%80", 200),  # a surrogate, encoded: invalid UTF-8
        ("/schools/%FF", 404),
        ("/orders/%FF%zz", 404),
        ("/products/%C0%AF", 404),
    ],
)
def test_invalid_utf8_and_broken_percent_encoding_are_not_errors(client, path, status):
    assert client.get(path).status_code == status


def test_an_invalid_utf8_form_is_an_unknown_item_not_an_error(client, session):
    response = client.post(
        "/cart/add",
        data=b"variant_id=%FF%FE&quantity=%zz",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 303
    with client.session_transaction() as browser:
        assert [text for _, text in browser["_flashes"]] == ["That item is not for sale."]


def test_a_form_too_large_to_read_is_answered_413_with_a_message(client):
    body = b'--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n' + b"x" * 600_000
    response = client.post(
        "/track", data=body + b"\r\n--x--\r\n", content_type="multipart/form-data; boundary=x"
    )

    assert response.status_code == 413
    assert "What you sent is too large. Go back and send less." in response.text


# --- JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '["pm_card_visa"]',
        '"pm_card_visa"',
        "42",
        "true",
        '{"payment_method": {"id": "pm_card_visa"}}',
        '{"payment_method": ["pm_card_visa"]}',
        '{"payment_method": 4242}',
        '{"payment_method": null}',
        "{not json",
        '{"payment_method": "pm_\\u0000"}',
    ],
)
def test_a_card_payment_body_of_the_wrong_shape_is_declined_without_a_charge(client, session, body):
    buyer = sign_in(client, session, "customer")
    order = make_order(session, user=buyer, payment_status="unpaid")
    session.commit()

    response = client.post(
        f"/checkout/pay/{order.number}/card", data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert json.loads(response.text) == {
        "status": "declined",
        "message": "Enter your card details.",
    }
    assert session.scalar(sa.select(sa.func.count(Payment.id))) == 0


@pytest.mark.parametrize(
    "body", ["[1]", "42", '"x"', '{"email": {"a": 1}, "password": [1, 2]}', '{"email": "a"}']
)
def test_json_posted_to_a_form_is_refused_before_the_form_reads_it(client, session, body):
    make_user(session)

    response = client.post("/account/login", data=body, content_type="application/json")

    assert response.status_code == 415
    assert "This page takes a form, not JSON." in response.text
    assert session.scalar(sa.select(User.last_login_at)) is None


def test_a_category_with_an_id_beyond_an_integer_column_is_no_category(client, session):
    make_category(session, slug="uniforms")
    session.commit()
    sign_in(client, session, "owner")
    response = client.get("/admin/products", query_string={"category": str(BEYOND_INTEGER)})
    assert response.status_code == 200


# --- request size -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/stripe/webhook", "application/json"),
        ("/checkout/pay/SF-AAAAA-AAAAA/card", "application/json"),
        ("/cart/add", "multipart/form-data; boundary=x"),
    ],
)
def test_no_route_reads_a_body_over_the_limit(client, path, content_type):
    """Outside the upload routes, a body over ``MAX_CONTENT_LENGTH`` (1 MiB) is refused
    before anything reads it, even where the form parser's own limit does not apply."""
    body = b"x" * (1024 * 1024 + 1)

    response = client.post(path, data=body, content_type=content_type)

    assert response.status_code == 413
