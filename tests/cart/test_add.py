"""Adding to the cart: the quantity rules as plain values, the few statements an add runs,
and adds sent at the same moment (each one counts; none passes 9,999)."""

import pytest
import sqlalchemy as sa

from shop.cart import service
from shop.cart.models import CartLine
from shop.cart.rules import InvalidQuantity
from tests.accounts.helpers import make_user
from tests.at_once import send_at_once
from tests.factories import make_product
from tests.helpers.queries import recording_queries
from tests.helpers.round_trips import WARM_UP, round_trip_counter
from tests.school_factories import make_school

ADDED_ONE = "Added 1 piece to your cart."
TOO_MANY = "At most 9,999 pieces of one item; your cart is unchanged."


@pytest.fixture
def overall(session):
    """Made to order: no stock limit, so only the 9,999 cap bounds a line."""
    product = make_product(
        session,
        slug="overall",
        sizes=("M",),
        made_to_order=True,
        lead_time_days=20,
        on_hand=0,
    )
    session.commit()
    return product.variants[0].id


def line_quantities(session) -> list[int]:
    session.expire_all()
    return [line.quantity for line in session.scalars(sa.select(CartLine))]


def add(client, variant_id: int, quantity: int):
    return client.post("/cart/add", data={"variant_id": variant_id, "quantity": quantity})


def fill(client, variant_id: int, quantity: int) -> None:
    """Put ``quantity`` pieces in the cart and see the cart (which shows the message)."""
    assert add(client, variant_id, quantity).status_code == 303
    assert client.get("/cart").status_code == 200


# --- the rule, as plain values -----------------------------------------------------------


def test_a_line_may_hold_up_to_9999_pieces():
    service.check_quantity(9_999, sku="OV-M", available=None)
    with pytest.raises(service.TooMany):
        service.check_quantity(10_000, sku="OV-M", available=None)


def test_stock_left_after_other_lines_bounds_a_stocked_line():
    service.check_quantity(3, sku="PO-130", available=5, in_other_lines=2)
    with pytest.raises(service.OutOfStock) as refused:
        service.check_quantity(4, sku="PO-130", available=5, in_other_lines=2)
    assert (refused.value.sku, refused.value.available) == ("PO-130", 3)


def test_other_lines_holding_more_than_the_stock_leave_nothing():
    with pytest.raises(service.OutOfStock) as refused:
        service.check_quantity(1, sku="PO-130", available=2, in_other_lines=5)
    assert refused.value.available == 0


# --- the service -------------------------------------------------------------------------


def test_childrens_lines_are_kept_apart_and_share_the_stock(session):
    variant_id = make_product(session, slug="polo", on_hand=5).variants[0].id
    session.commit()
    cart_id, _token = service.create_cart(session, user_id=None)
    kit = {"student_name": "Mei", "class_name": "3B"}

    assert service.add_to_cart(session, cart_id, {variant_id: 2}) == 2
    assert service.add_to_cart(session, cart_id, {variant_id: 2}, **kit) == 2
    with pytest.raises(service.OutOfStock) as refused:
        service.add_to_cart(session, cart_id, {variant_id: 2}, **kit)

    assert refused.value.available == 3  # what her line may hold: 5 less the buyer's own 2
    lines = session.execute(
        sa.select(CartLine.student_name, CartLine.quantity).order_by(CartLine.id)
    ).all()
    assert [tuple(line) for line in lines] == [("", 2), ("Mei", 2)]
    assert service.count_pieces(session, cart_id) == 4


def test_a_cart_loaded_before_an_add_shows_the_added_line(session, overall):
    cart_id, token = service.create_cart(session, user_id=None)
    cart = service.get_cart(session, user_id=None, token=token)
    assert cart.lines == []

    service.add_to_cart(session, cart_id, {overall: 2})

    assert [(line.variant_id, line.quantity) for line in cart.lines] == [(overall, 2)]


def test_a_school_only_product_is_not_added_outside_its_school(session):
    school = make_school(session)
    session.flush()
    variant_id = make_product(session, slug="crest-polo", school_id=school.id).variants[0].id
    session.commit()
    cart_id, _token = service.create_cart(session, user_id=None)

    with pytest.raises(service.UnknownVariant):
        service.add_to_cart(session, cart_id, {variant_id: 1})

    assert service.count_pieces(session, cart_id) == 0


def test_the_upsert_itself_refuses_to_pass_9999(session, overall, monkeypatch):
    """Adds at the same moment may all read the line before any of them writes it: then
    only the upsert's own condition stands between the line and 10,000."""
    cart_id, _token = service.create_cart(session, user_id=None)
    service.add_to_cart(session, cart_id, {overall: 9_999})
    monkeypatch.setattr(service, "check_quantity", lambda *args, **kwargs: None)

    with pytest.raises(service.TooMany):
        service.add_to_cart(session, cart_id, {overall: 1})

    assert service.count_pieces(session, cart_id) == 9_999


def test_a_grid_past_9999_on_one_line_is_refused_whole(session, overall, monkeypatch):
    other = make_product(session, slug="apron", made_to_order=True, lead_time_days=20)
    cart_id, _token = service.create_cart(session, user_id=None)
    service.add_to_cart(session, cart_id, {overall: 9_999})
    session.commit()
    monkeypatch.setattr(service, "check_quantity", lambda *args, **kwargs: None)

    with pytest.raises(service.TooMany):
        service.add_to_cart(session, cart_id, {other.variants[0].id: 5, overall: 1})
    session.rollback()  # as the views do

    assert line_quantities(session) == [9_999]


def test_an_add_runs_one_statement_and_never_loads_the_cart(app, client, session, overall):
    with recording_queries(app) as statements:
        assert add(client, overall, 1).status_code == 303
    # The first add: the variant (no cart found by the token), the cart, the upsert.
    assert len(statements) == 3

    with recording_queries(app) as statements:
        assert add(client, overall, 1).status_code == 303

    # The upsert, finding the cart by its token and checking the variant as it inserts.
    assert len(statements) == 1
    assert "cart.token" in statements[0]
    assert "ON CONFLICT" in statements[0]
    assert line_quantities(session) == [2]
    with client.session_transaction() as browser:
        assert browser["cart_count"] == 2


def test_the_first_add_makes_the_cart_and_a_later_one_finds_it(session, overall):
    first = service.add_to_visitors_cart(session, user_id=None, token=None, additions={overall: 2})
    again = service.add_to_visitors_cart(
        session, user_id=None, token=first.new_guest_token, additions={overall: 3}
    )

    assert first.new_guest_token is not None
    assert (first.added, first.cart_pieces) == (2, 2)
    assert (again.cart_id, again.added, again.cart_pieces) == (first.cart_id, 3, 5)
    assert again.new_guest_token is None
    assert line_quantities(session) == [5]


def test_a_guest_token_without_a_cart_gets_a_new_cart(session, overall):
    added = service.add_to_visitors_cart(
        session, user_id=None, token="no-such-cart", additions={overall: 1}
    )

    assert added.new_guest_token not in (None, "no-such-cart")
    assert service.get_cart_id(session, user_id=None, token=added.new_guest_token) == (
        added.cart_id
    )


def test_a_signed_in_buyers_add_goes_to_their_own_cart(session, overall):
    buyer, stranger = make_user(session, email="buyer@example.com"), make_user(session)
    cart_id, _token = service.create_cart(session, user_id=buyer.id)
    service.add_to_cart(session, cart_id, {overall: 4})
    service.create_cart(session, user_id=stranger.id)

    added = service.add_to_visitors_cart(
        session, user_id=buyer.id, token=None, additions={overall: 1}
    )

    assert (added.cart_id, added.cart_pieces, added.new_guest_token) == (cart_id, 5, None)


def test_a_refused_add_makes_no_cart(session, overall):
    with pytest.raises(service.UnknownVariant):
        service.add_to_visitors_cart(
            session, user_id=None, token=None, additions={overall: 1, overall + 999: 1}
        )

    assert session.scalar(sa.select(sa.func.count()).select_from(CartLine)) == 0
    assert session.scalar(sa.text("SELECT count(*) FROM cart")) == 0


def test_an_empty_addition_is_refused(session):
    with pytest.raises(InvalidQuantity):
        service.add_to_visitors_cart(session, user_id=None, token=None, additions={})


def test_a_line_cannot_pass_9999_pieces(client, session, overall):
    add(client, overall, 9_990)

    assert add(client, overall, 10).status_code == 303
    assert line_quantities(session) == [9_990]
    with client.session_transaction() as browser:
        assert [text for _, text in browser.pop("_flashes")][-1] == TOO_MANY

    add(client, overall, 9)
    assert line_quantities(session) == [9_999]


# --- at the same moment ------------------------------------------------------------------


@pytest.mark.parametrize("copies", [2, 5])
def test_identical_adds_at_once_each_count(app, client, session, overall, copies):
    fill(client, overall, 1)

    answers = send_at_once(
        app, client, copies, "POST", "/cart/add", {"variant_id": overall, "quantity": 1}
    )

    assert [answer.status for answer in answers] == [303] * copies
    assert all(answer.messages == (ADDED_ONE,) for answer in answers)
    assert line_quantities(session) == [1 + copies]


def test_adds_at_once_never_take_a_line_past_9999(app, client, session, overall):
    fill(client, overall, 9_998)

    answers = send_at_once(
        app, client, 2, "POST", "/cart/add", {"variant_id": overall, "quantity": 1}
    )

    assert sorted(answer.messages for answer in answers) == [(ADDED_ONE,), (TOO_MANY,)]
    assert line_quantities(session) == [9_999]


# --- the usual add, in one statement -----------------------------------------------------


@pytest.fixture
def guest_cart(session, overall) -> str:
    """A guest's cart holding 3 of the overall, committed; → its token."""
    added = service.add_to_visitors_cart(session, user_id=None, token=None, additions={overall: 3})
    session.commit()
    return added.new_guest_token


def committed_quantities(app) -> list[int]:
    """The lines as another connection sees them: what was committed."""
    with app.extensions["sa_engine"].connect() as other:
        return list(other.scalars(sa.select(CartLine.quantity).order_by(CartLine.id)))


def test_the_usual_add_is_one_statement_that_commits_itself(app, session, overall, guest_cart):
    with recording_queries(app) as statements:
        added = service.add_to_visitors_cart(
            session, user_id=None, token=guest_cart, additions={overall: 2}
        )

    assert len(statements) == 1
    assert (added.added, added.cart_pieces, added.new_guest_token) == (2, 5, None)
    assert not session.in_transaction()
    assert committed_quantities(app) == [5]


def test_inside_a_transaction_the_usual_add_is_part_of_it(app, session, overall, guest_cart):
    session.execute(sa.select(1))  # a transaction under way

    service.add_to_visitors_cart(session, user_id=None, token=guest_cart, additions={overall: 2})
    assert committed_quantities(app) == [3]
    session.rollback()

    assert line_quantities(session) == [3]


def test_on_postgresql_the_usual_add_is_one_round_trip_and_gives_its_connection_back_as_lent(
    app, session, overall, guest_cart, database_url, monkeypatch
):
    counter = round_trip_counter(app, database_url, monkeypatch)
    session.close()  # its connection back in the pool, which the counter empties
    for _ in range(WARM_UP):  # psycopg prepares the statement on its fifth run
        service.add_to_visitors_cart(
            session, user_id=None, token=guest_cart, additions={overall: 1}
        )
    counter.take()

    service.add_to_visitors_cart(session, user_id=None, token=guest_cart, additions={overall: 1})

    counted = counter.take()
    assert (counted["round_trips"], counted["statements"]) == (1, 1)
    assert counted["wire"]["begin"] == counted["wire"]["commit"] == 0
    assert committed_quantities(app) == [3 + WARM_UP + 1]
    with app.extensions["sa_engine"].connect() as lent:  # the one the adds had (LIFO)
        assert lent.connection.driver_connection.autocommit is False
        assert not lent.in_transaction()


def synchronous_commit(connection) -> str:
    return connection.scalar(sa.text("SHOW synchronous_commit"))


def test_the_usual_add_alone_commits_without_waiting_for_the_disk(app, overall, guest_cart):
    """On PostgreSQL its own transaction turns ``synchronous_commit`` off until its commit,
    and the connection goes back to the pool as it was."""
    engine = app.extensions["sa_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no synchronous_commit")
    statement = service._add_one_to_visitors_line("postgresql", by_user=False, alone=True)
    with engine.connect() as connection:
        assert synchronous_commit(connection) == "on"
        rows = connection.execute(
            statement.statement, {"variant_id": overall, "quantity": 2, "token": guest_cart}
        ).all()
        assert [tuple(row)[1:] for row in rows] == [(5, 0)]
        assert synchronous_commit(connection) == "off"
        connection.commit()
        assert synchronous_commit(connection) == "on"
    assert committed_quantities(app) == [5]


def test_inside_a_transaction_the_usual_add_leaves_its_commit_waiting_for_the_disk(
    app, session, overall, guest_cart
):
    """The caller's transaction may hold writes that must not be lost: its commit waits."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no synchronous_commit")
    session.execute(sa.select(1))  # a transaction under way

    service.add_to_visitors_cart(session, user_id=None, token=guest_cart, additions={overall: 2})

    assert synchronous_commit(session) == "on"
    session.commit()
    assert committed_quantities(app) == [5]


def test_the_usual_add_counts_the_pieces_of_every_line(session, overall, guest_cart):
    polo = make_product(session, slug="polo", on_hand=5).variants[0].id
    session.commit()
    cart_id = service.get_cart_id(session, user_id=None, token=guest_cart)
    service.add_to_cart(session, cart_id, {polo: 2}, student_name="Mei", class_name="3B")
    session.commit()

    added = service.add_to_visitors_cart(
        session, user_id=None, token=guest_cart, additions={overall: 1}
    )

    assert (added.cart_id, added.cart_pieces) == (cart_id, 6)


REFUSALS = {
    "inactive": service.UnknownVariant,
    "withdrawn": service.UnknownVariant,
    "school-only": service.UnknownVariant,
    "no-such-variant": service.UnknownVariant,
    "short-of-stock": service.OutOfStock,
    "past-9999": service.TooMany,
}


@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_an_add_the_one_statement_refuses_changes_nothing_and_is_refused_as_before(
    app, session, overall, guest_cart, refusal
):
    """The statement checks the rules as it inserts; when it inserts nothing, the general
    way reads the variant and names the refusal."""
    product = make_product(session, slug="polo", on_hand=5)
    variant = product.variants[0]
    cart_id = service.get_cart_id(session, user_id=None, token=guest_cart)
    session.flush()
    # A child's kit holds 2 of the polo: the stock left for the buyer's own line is 3.
    service.add_to_cart(session, cart_id, {variant.id: 2}, student_name="Mei", class_name="3B")
    session.commit()
    variant_id, quantity = variant.id, 1
    if refusal == "inactive":
        product.active = False
    elif refusal == "withdrawn":
        variant.for_sale = False
    elif refusal == "school-only":
        school = make_school(session)
        session.flush()
        product.school_id = school.id
    elif refusal == "no-such-variant":
        variant_id = variant.id + 999
    elif refusal == "short-of-stock":
        quantity = 4
    else:
        service.add_to_cart(session, cart_id, {overall: 9_996})
        variant_id = overall
    session.commit()
    before = committed_quantities(app)
    additions = {variant_id: quantity}

    assert (
        service._add_one_alone(session, user_id=None, token=guest_cart, additions=additions) is None
    )
    assert committed_quantities(app) == before
    with pytest.raises(REFUSALS[refusal]) as refused:
        service.add_to_visitors_cart(session, user_id=None, token=guest_cart, additions=additions)
    session.rollback()  # as the view does

    assert committed_quantities(app) == before
    if refusal == "short-of-stock":
        assert refused.value.available == 3


def test_a_stocked_variant_takes_the_usual_add_up_to_what_is_left(app, session, guest_cart):
    polo = make_product(session, slug="polo", on_hand=5).variants[0].id
    session.commit()

    for _ in range(5):
        service.add_to_visitors_cart(session, user_id=None, token=guest_cart, additions={polo: 1})
    with pytest.raises(service.OutOfStock):
        service.add_to_visitors_cart(session, user_id=None, token=guest_cart, additions={polo: 1})
    session.rollback()

    assert committed_quantities(app) == [3, 5]
