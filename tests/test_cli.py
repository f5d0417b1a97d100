"""The commands the README promises: seed-demo (idempotent, --if-empty) and db."""

import re

import sqlalchemy as sa

from shop.catalog.models import Product, Variant


def counts(session):
    return (
        session.scalar(sa.select(sa.func.count(Product.id))),
        session.scalar(sa.select(sa.func.count(Variant.id))),
    )


def test_seed_demo_loads_a_browsable_shop_and_is_idempotent(make_app, session_factory):
    app = make_app(DEMO_IMAGE_SIZE=120)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    with session_factory(app) as session:
        seeded = counts(session)
    assert seeded[0] >= 40

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "created 0 products" in second.output
    with session_factory(app) as session:
        assert counts(session) == seeded

    client = app.test_client()
    home = client.get("/")
    featured = re.findall(r'data-testid="product-card" data-slug="([^"]+)"', home.text)
    assert len(featured) == 8
    product = client.get(f"/products/{featured[0]}")
    assert product.status_code == 200
    image = re.search(r'src="(/media/products/[^"]+)"', product.text).group(1)
    with client.get(image) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
    listing = client.get("/products?q=校服")
    assert listing.status_code == 200
    assert 'data-total="0"' not in listing.text


def test_seed_demo_adds_orders_in_every_status_once(make_app, session_factory):
    import sqlalchemy as sa

    from shop.orders import transitions
    from shop.orders.models import Order

    app = make_app(DEMO_IMAGE_SIZE=120)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with session_factory(app) as session:
        orders = session.scalars(sa.select(Order)).all()
        assert {o.payment_status for o in orders} >= {"unpaid", "paid", "refunded"}
        assert {o.payment_status for o in orders} >= {"partially_refunded"}
        assert {o.fulfilment_status for o in orders} == set(transitions.FULFILMENT_STATUSES)
        assert {o.state for o in orders} == {"open", "cancelled"}
        assert all(order.events and order.lines for order in orders)
        count = len(orders)
    assert "already there" in runner.invoke(args=["seed-demo"]).output
    with session_factory(app) as session:
        assert session.scalar(sa.select(sa.func.count(Order.id))) == count


def test_seed_demo_if_empty_leaves_an_existing_catalogue_alone(make_app, session_factory):
    from tests.factories import make_product

    app = make_app()
    with session_factory(app) as session:
        make_product(session, slug="our-own")
        session.commit()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "already has products" in result.output
    with session_factory(app) as session:
        assert counts(session) == (1, 1)


def test_db_current_reports_head(app):
    result = app.test_cli_runner().invoke(args=["db", "current"])
    assert result.exit_code == 0
