"""The cart page and its forms: add (one variant or a size × colour grid), update, remove."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from shop.accounts.session import signed_in_user
from shop.cart import service
from shop.cart.layout import arrange
from shop.cart.pricing import price_cart
from shop.cart.rules import InvalidQuantity, parse_quantity
from shop.db import commits, get_session
from shop.i18n import current_currency
from shop.inputs import parse_id
from shop.resellers.marking import pricing_window
from shop.urls import safe_next_path

bp = Blueprint("cart", __name__, url_prefix="/cart")

GRID_PREFIX = "qty-"
# What a cart form can be refused for; each has a message in ``error_message``.
CART_ERRORS = (InvalidQuantity, service.UnknownVariant, service.OutOfStock, service.TooMany)


def _user_id() -> int | None:
    user = signed_in_user()
    return user.id if user is not None else None


def current_cart():
    """The visitor's cart with its lines, or ``None``."""
    return service.get_cart(get_session(), user_id=_user_id(), token=session.get("cart"))


def current_cart_id() -> int | None:
    """The visitor's cart's id, without loading it; None when they have none."""
    return service.get_cart_id(get_session(), user_id=_user_id(), token=session.get("cart"))


def cart_id_to_fill() -> int:
    """The visitor's cart's id, made now if they have none (the first add)."""
    cart_id = current_cart_id()
    if cart_id is None:
        user_id = _user_id()
        cart_id, token = service.create_cart(get_session(), user_id=user_id)
        if user_id is None:
            session["cart"] = token
    return cart_id


def remember_count(pieces: int) -> None:
    """The header's cart count, kept in the session so pages need not read the cart."""
    session["cart_count"] = pieces


def error_message(error: Exception) -> str:
    if isinstance(error, service.OutOfStock):
        return _(
            "Only %(n)d of %(sku)s left; your cart is unchanged.", n=error.available, sku=error.sku
        )
    if isinstance(error, service.TooMany):
        return _("At most 9,999 pieces of one item; your cart is unchanged.")
    if isinstance(error, InvalidQuantity):
        return _("Enter a whole number of pieces from 1 to 9,999.")
    return _("That item is not for sale.")


def parse_additions(form) -> dict[int, int]:
    """One ``variant_id`` + ``quantity``, or grid fields ``qty-<variant_id>`` (blank or 0
    skipped). Raises ``InvalidQuantity`` or ``UnknownVariant`` on anything malformed."""
    if "variant_id" in form:
        variant_id = parse_id(form.get("variant_id"))
        if variant_id is None:
            raise service.UnknownVariant()
        return {variant_id: parse_quantity(form.get("quantity", "1"), allow_zero=False)}
    additions = {}
    for name, raw in form.items():
        if not name.startswith(GRID_PREFIX) or not raw.strip():
            continue
        variant_id = parse_id(name.removeprefix(GRID_PREFIX))
        if variant_id is None:
            raise service.UnknownVariant()
        quantity = parse_quantity(raw, allow_zero=True)
        if quantity:
            additions[variant_id] = quantity
    if not additions:
        raise InvalidQuantity("")
    return additions


@bp.get("")
def cart_page():
    pricing = price_cart(
        get_session(), current_cart(), current_currency(), str(get_locale()), pricing_window()
    )
    remember_count(pricing.item_count)
    return render_template("cart/cart.html", pricing=pricing, layout=arrange(pricing))


@bp.post("/add")
@commits
def cart_add():
    back = safe_next_path(request.form.get("next"), default=url_for("cart.cart_page"))
    db = get_session()
    try:
        additions = parse_additions(request.form)
        result = service.add_to_visitors_cart(
            db, user_id=_user_id(), token=session.get("cart"), additions=additions
        )
    except CART_ERRORS as error:
        db.rollback()
        flash(error_message(error), "error")
        return redirect(back, code=303)
    if result.new_guest_token is not None:
        session["cart"] = result.new_guest_token
    remember_count(result.cart_pieces)
    flash(
        ngettext(
            "Added %(num)d piece to your cart.", "Added %(num)d pieces to your cart.", result.added
        ),
        "success",
    )
    return redirect(back, code=303)


def _line_change(apply):
    """Update or remove the line a form names by ``line_id`` (or an older ``variant_id``)."""
    cart = current_cart()
    try:
        if cart is None:
            raise service.UnknownVariant()
        line = service.find_line(
            cart,
            line_id=parse_id(request.form.get("line_id")),
            variant_id=parse_id(request.form.get("variant_id")),
        )
        apply(cart, line)
    except CART_ERRORS as error:
        get_session().rollback()
        flash(error_message(error), "error")
    else:
        remember_count(service.item_count(cart))
    return redirect(url_for("cart.cart_page"), code=303)


@bp.post("/update")
@commits
def cart_update():
    def apply(cart, line):
        quantity = parse_quantity(request.form.get("quantity"), allow_zero=True)
        service.set_quantity(get_session(), cart, line, quantity)

    return _line_change(apply)


@bp.post("/remove")
@commits
def cart_remove():
    return _line_change(lambda cart, line: service.remove_line(get_session(), cart, line))
