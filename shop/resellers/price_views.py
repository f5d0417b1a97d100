"""The reseller's prices (``/account/window/prices``): for a window on the 'price' money
model, each pick's price in every currency it sells in, between the factory's price and
the cap (``shop.resellers.prices``). One form per pick, with a one-time key: one press,
one save. A refused price names the currency and the limit it broke."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from shop import request_keys
from shop.accounts.access import require_login
from shop.admin.catalog_forms import parse_price
from shop.db import commits, get_session
from shop.exceptions import ShopError
from shop.money import SUPPORTED_CURRENCIES, to_decimal
from shop.pagination import parse_page
from shop.resellers import prices
from shop.resellers.forms import PriceForm
from shop.resellers.models import Reseller
from shop.resellers.views import _describe, _own_window, bp
from shop.templating import money_filter

FIELD_PREFIX = "price-"
MAX_FIELDS = 10  # more currencies than the shop sells in: a forged form


class PriceInputError(ShopError):
    """What was typed cannot be read as prices; ``message`` says why, in words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _prices_page(db: Session, reseller: Reseller):
    page, rows = prices.list_priced_picks(db, reseller, parse_page(request.args.get("page")))
    typed = {
        (row.product_id, each.currency): str(to_decimal(each.reseller_amount, each.currency))
        for row in rows
        for each in row.currencies
        if each.reseller_amount is not None
    }
    return render_template(
        "resellers/prices.html",
        reseller=reseller,
        uses_prices=prices.uses_prices(db, reseller),
        approved=reseller.status == "approved",
        rows=rows,
        typed=typed,
        page=page,
        request_key=request_keys.new_request_key(),
        field_prefix=FIELD_PREFIX,
    )


@bp.get("/account/window/prices")
@require_login
def prices_page():
    db = get_session()
    return _prices_page(db, _own_window(db))


def _posted_amounts(form) -> dict[str, int | None]:
    """``{currency: amount}`` from the ``price-<currency>`` fields (blank: the factory's
    price). Raises ``PriceInputError`` or ``prices.UnknownCurrency``."""
    posted = [
        (name, value) for name, value in form.items(multi=True) if name.startswith(FIELD_PREFIX)
    ]
    if not posted or len(posted) > MAX_FIELDS:
        raise PriceInputError(_("Enter a price for at least one currency."))
    amounts: dict[str, int | None] = {}
    for name, value in posted:
        currency = name.removeprefix(FIELD_PREFIX)
        if currency not in SUPPORTED_CURRENCIES or currency in amounts:
            raise prices.UnknownCurrency()
        text = (value or "").strip()
        try:
            amounts[currency] = parse_price(text, currency) if text else None
        except ValueError as refused:
            raise PriceInputError(f"{currency}: {refused}") from None
    return amounts


def _refusal(error: ShopError) -> str:
    if isinstance(error, prices.PricesRefused):
        return " ".join(_problem(problem) for problem in error.problems)
    if isinstance(error, PriceInputError):
        return error.message
    messages = {
        prices.NotPriceModel: _(
            "Your window earns a commission on the factory’s prices; it sets no prices of its own."
        ),
        prices.UnknownCurrency: _("That product does not sell in that currency."),
    }
    return messages.get(type(error)) or _describe(error)


def _problem(problem: prices.PriceProblem) -> str:
    limit = money_filter(problem.limit, problem.currency)
    if problem.kind == "below":
        return _(
            "%(currency)s: the price cannot be below the factory’s price, %(limit)s.",
            currency=problem.currency,
            limit=limit,
        )
    return _(
        "%(currency)s: the price cannot be above the cap, %(limit)s.",
        currency=problem.currency,
        limit=limit,
    )


@bp.post("/account/window/prices/<int:product_id>")
@commits
@require_login
def prices_submit(product_id: int):
    db = get_session()
    reseller = _own_window(db)
    back = url_for("resellers.prices_page", page=request.args.get("page") or None)
    form = PriceForm()
    if not form.validate_on_submit():
        flash(_("Check the form and try again."), "error")
        return redirect(back, code=303)
    try:
        amounts = _posted_amounts(request.form)
        if request_keys.claim(db, f"prices:{reseller.id}", form.request_key.data):
            prices.set_prices(db, reseller, product_id, amounts, actor_user_id=current_user.id)
    except ShopError as error:
        db.rollback()
        flash(_refusal(error), "error")
        return redirect(back, code=303)
    except sa.exc.IntegrityError:  # the same form at the same moment: the other saved it
        db.rollback()
    flash(_("Your prices are saved."), "success")
    return redirect(back + f"#prices-{product_id}", code=303)
