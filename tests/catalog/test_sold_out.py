"""A size/colour is sold out when not one piece can go in the cart: the page asks
``ProductPage.sold_out`` (built on the cart's stock rule) instead of working it out."""

import pytest

from shop.catalog.products import (
    CategoryCrumb,
    ProductFacts,
    ProductPage,
    VariantCell,
    build_matrix,
)


def page_of(*, made_to_order: bool) -> ProductPage:
    return ProductPage(
        product=ProductFacts(
            id=1,
            slug="polo",
            made_to_order=made_to_order,
            lead_time_days=21 if made_to_order else None,
            min_order_quantity=1,
            order_increment=1,
            size_chart=None,
        ),
        name="Polo",
        description="",
        category=CategoryCrumb("polos", "Polos", None, None),
        images=[],
        currency="CNY",
        tiers=[],
        matrix=build_matrix([]),
        selected=None,
    )


def cell(*, available: int, for_sale: bool = True) -> VariantCell:
    return VariantCell(
        id=7, sku="POLO-120-NAVY", size="120", colour="navy", available=available, for_sale=for_sale
    )


@pytest.mark.parametrize(("available", "sold_out"), [(0, True), (1, False), (40, False)])
def test_a_stocked_variant_is_sold_out_only_with_nothing_left(available, sold_out):
    assert page_of(made_to_order=False).sold_out(cell(available=available)) is sold_out


def test_a_made_to_order_variant_is_never_sold_out_for_want_of_stock():
    assert page_of(made_to_order=True).sold_out(cell(available=0)) is False


@pytest.mark.parametrize("made_to_order", [False, True])
def test_a_withdrawn_variant_is_sold_out_whatever_its_stock(made_to_order):
    assert page_of(made_to_order=made_to_order).sold_out(cell(available=40, for_sale=False))
