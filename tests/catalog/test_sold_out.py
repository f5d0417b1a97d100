"""A size/colour is sold out when not one piece can go in the cart: the grid asks
``stock_state`` (built on the cart's stock rule) instead of working it out."""

import pytest

from shop.catalog.products import (
    IN_STOCK,
    MADE_TO_ORDER,
    OUT_OF_STOCK,
    SOLD_OUT_STATES,
    WITHDRAWN,
    VariantCell,
    stock_state,
)


def cell(*, available: int, for_sale: bool = True) -> VariantCell:
    return VariantCell(
        id=7, sku="POLO-120-NAVY", size="120", colour="navy", available=available, for_sale=for_sale
    )


@pytest.mark.parametrize(("available", "state"), [(0, OUT_OF_STOCK), (1, IN_STOCK), (40, IN_STOCK)])
def test_a_stocked_variant_is_sold_out_only_with_nothing_left(available, state):
    assert stock_state(cell(available=available), made_to_order=False) == state


def test_a_made_to_order_variant_is_never_sold_out_for_want_of_stock():
    state = stock_state(cell(available=0), made_to_order=True)
    assert state == MADE_TO_ORDER and state not in SOLD_OUT_STATES


@pytest.mark.parametrize("made_to_order", [False, True])
def test_a_withdrawn_variant_is_sold_out_whatever_its_stock(made_to_order):
    state = stock_state(cell(available=40, for_sale=False), made_to_order=made_to_order)
    assert state == WITHDRAWN and state in SOLD_OUT_STATES
