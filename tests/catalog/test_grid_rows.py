"""The product page's size × colour grid, worked out once per page
(``shop.catalog.size_grid.grid_rows``): each cell's label, stock state and sentence."""

from shop.catalog.products import (
    IN_STOCK,
    MADE_TO_ORDER,
    OUT_OF_STOCK,
    WITHDRAWN,
    CategoryCrumb,
    ProductFacts,
    ProductPage,
    VariantCell,
    build_matrix,
)
from shop.catalog.size_grid import MADE_TO_ORDER_MAX, GridTexts, grid_rows
from tests.factories import make_product

TEXTS = GridTexts(
    quantity="Qty %(size)s/%(colour)s",
    stock={
        WITHDRAWN: "withdrawn",
        MADE_TO_ORDER: "made",
        OUT_OF_STOCK: "out",
        IN_STOCK: "%(n)d left",
    },
    colours={"navy": "Navy blue"},
)


def variant(id_, size, colour, *, available=10, for_sale=True) -> VariantCell:
    return VariantCell(id_, f"SKU-{id_}", size, colour, available, for_sale)


def page_of(variants, *, made_to_order=False, selected=None) -> ProductPage:
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
        matrix=build_matrix(variants),
        selected=selected,
    )


def test_sizes_down_colours_across_and_a_gap_where_a_size_is_not_made():
    variants = [
        variant(1, "120", "navy"),
        variant(2, "120", "white"),
        variant(3, "130", "white"),
    ]

    grid = grid_rows(page_of(variants), TEXTS)

    # a colour without a name of its own is shown by its key
    assert grid.colours == [("navy", "Navy blue"), ("white", "white")]
    assert [row.size for row in grid.rows] == ["120", "130"]
    assert [[cell and cell.sku for cell in row.cells] for row in grid.rows] == [
        ["SKU-1", "SKU-2"],
        [None, "SKU-3"],
    ]
    assert grid.rows[0].cells[0].label == "Qty 120/Navy blue"


def test_each_stocked_cell_says_what_is_left_or_why_it_cannot_be_ordered():
    variants = [
        variant(1, "120", "navy", available=7),
        variant(2, "130", "navy", available=0),
        variant(3, "140", "navy", available=40, for_sale=False),
    ]

    in_stock, out, withdrawn = (row.cells[0] for row in grid_rows(page_of(variants), TEXTS).rows)

    assert (in_stock.state, in_stock.stock, in_stock.sold_out) == (IN_STOCK, "7 left", False)
    assert (in_stock.available, in_stock.max) == ("7", 7)
    assert (out.state, out.stock, out.sold_out) == (OUT_OF_STOCK, "out", True)
    assert (withdrawn.state, withdrawn.stock, withdrawn.sold_out) == (WITHDRAWN, "withdrawn", True)
    assert withdrawn.for_sale is False


def test_made_to_order_cells_show_no_stock_and_take_any_quantity():
    variants = [variant(1, "120", "navy", available=0), variant(2, "130", "navy", for_sale=False)]
    grid = grid_rows(page_of(variants, made_to_order=True), TEXTS)

    made, withdrawn = (row.cells[0] for row in grid.rows)

    assert (made.state, made.stock, made.sold_out) == (MADE_TO_ORDER, "made", False)
    assert made.made_to_order and not withdrawn.made_to_order
    assert (made.available, made.max) == ("", MADE_TO_ORDER_MAX)
    assert (withdrawn.state, withdrawn.sold_out, withdrawn.available) == (WITHDRAWN, True, "")


def test_the_selected_variant_is_marked():
    variants = [variant(1, "120", "navy"), variant(2, "130", "navy")]

    grid = grid_rows(page_of(variants, selected=variants[1]), TEXTS)

    assert [row.cells[0].selected for row in grid.rows] == [False, True]


def test_the_grid_speaks_each_visitors_language_in_turn(client, session):
    """Its sentences are translated once per language and kept: each language its own."""
    make_product(session, slug="polo")
    session.commit()
    languages = {
        "en": ("Quantity of size 130, Navy", "10 in stock"),
        "ja": ("サイズ130・ネイビーの数量", "在庫10枚"),
    }

    for lang in ("en", "ja", "en", "ja"):
        text = client.get(f"/products/polo?lang={lang}").text

        label, stock = languages[lang]
        assert f">{label}</label>" in text
        assert f'<span class="stock">{stock}</span>' in text
