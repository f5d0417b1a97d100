"""A product page's link preview and its schema.org ``Product`` data, from the page's own
``ProductPage`` (no query): the name, the first paragraph, the first picture, and the
price of one piece at the first tier in the visitor's currency."""

from shop.catalog.products import MADE_TO_ORDER, SOLD_OUT_STATES, ProductPage, stock_state
from shop.previews import Preview, media_url, price_text, short_description

SCHEMA = "https://schema.org/"


def _first_price(page: ProductPage) -> str | None:
    return price_text(page.tiers[0].unit_amount, page.currency) if page.tiers else None


def product_preview(page: ProductPage, url: str) -> Preview:
    """The tags of the product's page at ``url`` (absolute)."""
    price = _first_price(page)
    return Preview(
        title=page.name,
        description=short_description(page.description),
        url=url,
        image=media_url(page.images[0].path) if page.images else None,
        kind="product",
        price_amount=price,
        price_currency=page.currency if price is not None else None,
    )


def availability(page: ProductPage) -> str:
    """``MadeToOrder``, ``InStock`` while any size and colour can be bought, else
    ``OutOfStock`` (schema.org's ``ItemAvailability``)."""
    made = page.product.made_to_order
    states = {stock_state(cell, made_to_order=made) for cell in page.matrix.variants.values()}
    if not states - SOLD_OUT_STATES:
        return SCHEMA + "OutOfStock"
    return SCHEMA + ("MadeToOrder" if MADE_TO_ORDER in states else "InStock")


def product_data(page: ProductPage, url: str) -> dict:
    """schema.org ``Product`` as JSON-LD (the template escapes it with ``tojson``)."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": page.name,
        "productID": page.product.slug,
        "url": url,
    }
    if page.selected is not None:
        data["sku"] = page.selected.sku
    description = short_description(page.description)
    if description:
        data["description"] = description
    images = [media_url(image.path) for image in page.images]
    if images:
        data["image"] = images
    price = _first_price(page)
    if price is not None:
        data["offers"] = {
            "@type": "Offer",
            "url": url,
            "price": price,
            "priceCurrency": page.currency,
            "availability": availability(page),
            "eligibleQuantity": {
                "@type": "QuantitativeValue",
                "minValue": page.product.min_order_quantity,
            },
        }
    return data
