"""Delivery methods and the courier rate table.

A courier's price depends on the destination and how many pieces travel (a parcel of 300
uniforms is cartons, not an envelope). The table is data: per zone, quantity bands with an
amount in each currency's minor unit. Pick-up at the factory and delivery to
school on the school's delivery round are free.
"""

from dataclasses import dataclass

from shop.exceptions import ShopError

METHODS = ("courier", "pickup", "school")

# zone → [(up to this many pieces, {currency: amount in minor units}), ...]; None = no limit
COURIER_RATES: dict[str, list[tuple[int | None, dict[str, int]]]] = {
    "CN": [
        (20, {"CNY": 1500, "JPY": 300, "SGD": 300, "USD": 200}),
        (100, {"CNY": 4500, "JPY": 900, "SGD": 900, "USD": 650}),
        (None, {"CNY": 12000, "JPY": 2400, "SGD": 2300, "USD": 1700}),
    ],
    "JP": [
        (20, {"CNY": 9000, "JPY": 1800, "SGD": 1700, "USD": 1250}),
        (100, {"CNY": 24000, "JPY": 4800, "SGD": 4500, "USD": 3300}),
        (None, {"CNY": 60000, "JPY": 12000, "SGD": 11000, "USD": 8300}),
    ],
    "SG": [
        (20, {"CNY": 8000, "JPY": 1600, "SGD": 1500, "USD": 1100}),
        (100, {"CNY": 21000, "JPY": 4200, "SGD": 4000, "USD": 2900}),
        (None, {"CNY": 52000, "JPY": 10400, "SGD": 9800, "USD": 7200}),
    ],
    "other": [
        (20, {"CNY": 16000, "JPY": 3200, "SGD": 3000, "USD": 2200}),
        (100, {"CNY": 42000, "JPY": 8400, "SGD": 7900, "USD": 5800}),
        (None, {"CNY": 98000, "JPY": 19600, "SGD": 18500, "USD": 13500}),
    ],
}


class UnknownDeliveryMethod(ShopError):
    message = "Choose courier delivery or pick-up at the factory."


@dataclass(frozen=True)
class DeliveryQuote:
    method: str
    amount: int
    currency: str


def zone(country: str) -> str:
    return country if country in COURIER_RATES else "other"


def courier_rate(country: str, pieces: int, currency: str) -> int:
    for up_to, amounts in COURIER_RATES[zone(country)]:
        if up_to is None or pieces <= up_to:
            return amounts[currency]
    raise AssertionError("the last band has no limit")


def quote(method: str, *, country: str, pieces: int, currency: str) -> DeliveryQuote:
    if method in ("pickup", "school"):  # the school's delivery round is free
        return DeliveryQuote(method, 0, currency)
    if method == "courier":
        return DeliveryQuote(method, courier_rate(country, pieces, currency), currency)
    raise UnknownDeliveryMethod(method)
