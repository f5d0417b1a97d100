"""``price_cart`` without HTTP: the tier comes from the product's total across sizes and
colours, totals add up per currency, and problems stop checkout."""

from shop.cart.models import Cart, CartLine
from shop.cart.pricing import price_cart
from shop.catalog.models import PriceTier
from tests.factories import make_product


def cart_with(session, quantities) -> Cart:
    cart = Cart(token=f"t-{id(quantities)}")
    cart.lines = [CartLine(variant_id=v.id, quantity=q) for v, q in quantities]
    session.add(cart)
    session.flush()
    return cart


def test_tier_is_chosen_by_the_total_across_sizes_and_colours(session):
    product = make_product(
        session,
        sizes=("120", "130"),
        colours=("navy", "white"),
        tiers=((1, 8900), (10, 7900), (50, 6900)),
        on_hand=100,
    )
    # 3 + 4 + 3 = 10 pieces: every line at the 10-piece price, though none has 10.
    cart = cart_with(session, list(zip(product.variants[:3], (3, 4, 3), strict=True)))
    pricing = price_cart(session, cart, "CNY", "en")
    [group] = pricing.groups
    assert (group.quantity, group.tier.unit_amount) == (10, 7900)
    assert [line.line_amount for line in group.lines] == [23700, 31600, 23700]
    assert (pricing.total_amount, pricing.item_count) == (79000, 10)
    assert (group.next_tier.tier.min_quantity, group.next_tier.pieces_needed) == (50, 40)
    assert pricing.can_checkout


def test_totals_add_products_and_follow_the_currency(session):
    polo = make_product(session, tiers=((1, 8900),))
    skirt = make_product(session, tiers=((1, 12000),))
    for product, amount in ((polo, 1800), (skirt, 2400)):
        session.add(
            PriceTier(product_id=product.id, currency="JPY", min_quantity=1, unit_amount=amount)
        )
    session.flush()
    cart = cart_with(session, [(polo.variants[0], 2), (skirt.variants[0], 1)])
    assert price_cart(session, cart, "CNY", "en").total_amount == 2 * 8900 + 12000
    assert price_cart(session, cart, "JPY", "en").total_amount == 2 * 1800 + 2400  # yen
    no_usd = price_cart(session, cart, "USD", "en")
    assert not no_usd.can_checkout
    assert all(group.problems[0].code == "no_price" for group in no_usd.groups)


def test_minimums_increments_and_stock_stop_checkout(session):
    boxed = make_product(session, min_order_quantity=10, order_increment=5, on_hand=100)
    cart = cart_with(session, [(boxed.variants[0], 12)])
    [group] = price_cart(session, cart, "CNY", "en").groups
    assert [p.code for p in group.problems] == ["not_increment"]
    cart.lines[0].quantity = 5
    [group] = price_cart(session, cart, "CNY", "en").groups
    assert [p.code for p in group.problems] == ["below_moq"]
    assert group.problems[0].values == {"moq": 10, "more": 5}
    scarce = make_product(session, on_hand=2)
    short = cart_with(session, [(scarce.variants[0], 3)])
    pricing = price_cart(session, short, "CNY", "en")
    assert pricing.groups[0].lines[0].problems[0].values == {"available": 2}
    assert not pricing.can_checkout
