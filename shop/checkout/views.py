"""Checkout: details and delivery (``/checkout``), the review, and placing the order.

The buyer's details live in the session between steps; prices never do. Placing the
order re-prices the cart from the catalogue and compares the total with the one the
buyer reviewed, so a currency switch or a price change in between is shown, not charged.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop.accounts.forms import COUNTRIES
from shop.cart import service as cart_service
from shop.cart.views import current_cart, remember_count
from shop.checkout import service
from shop.checkout.forms import METHOD_LABELS, CheckoutForm, PlaceOrderForm
from shop.db import get_session, reads_only, utcnow
from shop.i18n import current_currency
from shop.orders.access import remember_in_session
from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway
from shop.request_keys import new_request_key
from shop.resellers.marking import marked_reseller_id, pricing_window
from shop.templating import factory_text, money_filter

bp = Blueprint("checkout", __name__, url_prefix="/checkout")

DETAILS_KEY = "checkout"
REVIEWED_KEY = "checkout_reviewed"  # [currency, total] the buyer saw on the review page


def _summary(details):
    return service.summarise(
        get_session(),
        current_cart(),
        details,
        current_currency(),
        str(get_locale()),
        pricing_window(),
    )


def _cart_blocks_checkout(summary) -> str | None:
    if not summary.pricing.groups:
        return _("Your cart is empty.")
    if not summary.pricing.can_checkout:
        return _("Fix the items marked in your cart before checking out.")
    return None


def _prefilled_form(summary) -> CheckoutForm:
    """The details given before; else the account's; else, for a school order, the
    school's country (a parent in Singapore is not asked to change it from China)."""
    saved = service.CheckoutDetails.from_dict(session.get(DETAILS_KEY))
    if saved is not None:
        return CheckoutForm(data=saved.to_dict())
    form = CheckoutForm()
    school = service.cart_school(get_session(), summary.pricing)
    if school is not None:
        form.country.data = school.country
    if current_user.is_authenticated:
        form.email.data = current_user.email
        form.recipient.data = current_user.name
        address = current_user.addresses[0] if current_user.addresses else None
        if address is not None:
            for name in ("recipient", "phone", "country", "region", "city", "line1", "line2"):
                getattr(form, name).data = getattr(address, name)
            form.postcode.data = address.postcode
    return form


def _school_option(summary):
    return service.school_delivery_option(get_session(), summary.pricing, utcnow())


def _render_details(form, summary, status=200):
    return (
        render_template(
            "checkout/details.html",
            form=form,
            summary=summary,
            school_option=_school_option(summary),
            countries=dict(COUNTRIES),
            method_labels=METHOD_LABELS,
            pickup_address=factory_text("FACTORY_PICKUP_ADDRESS"),
        ),
        status,
    )


@bp.get("")
def details():
    summary = _summary(None)
    blocked = _cart_blocks_checkout(summary)
    if blocked:
        flash(blocked, "error")
        return redirect(url_for("cart.cart_page"))
    saved = session.get(DETAILS_KEY) is not None
    form = _prefilled_form(summary)
    school_option = _school_option(summary)
    form.offer_school_delivery(school_option is not None)
    if school_option is not None and not saved:
        form.delivery_method.data = "school"  # a cart of school kits goes with the school's
    if form.delivery_method.data not in form.delivery_method.choices:
        form.delivery_method.data = "courier"
    return _render_details(form, summary)


def _take_details(form):
    fields = service.CheckoutDetails.__dataclass_fields__
    details = service.CheckoutDetails(**{name: (getattr(form, name).data or "") for name in fields})
    session[DETAILS_KEY] = details.to_dict()
    return redirect(url_for("checkout.review"), code=303)


@bp.post("")
@reads_only  # the details go in the visitor's cookie session, not the database
def details_submit():
    """Details that pass go straight to the review, which checks the cart: they need not
    read it, unless they ask for delivery to the school (a choice only for a cart of one
    school's kits) or are refused (the page shows the cart's summary again)."""
    form = CheckoutForm()
    summary = school_option = None
    if form.delivery_method.data == "school":
        summary = _summary(None)
        school_option = _school_option(summary)
        form.offer_school_delivery(school_option is not None)
    if form.validate_on_submit():
        return _take_details(form)
    if summary is None:
        summary = _summary(None)
        school_option = _school_option(summary)
    blocked = _cart_blocks_checkout(summary)
    if blocked:
        flash(blocked, "error")
        return redirect(url_for("cart.cart_page"), code=303)
    form.offer_school_delivery(school_option is not None)
    return _render_details(form, summary, 400)


@bp.get("/review")
def review():
    details = service.CheckoutDetails.from_dict(session.get(DETAILS_KEY))
    if details is None:
        return redirect(url_for("checkout.details"))
    summary = _summary(details)
    blocked = _cart_blocks_checkout(summary)
    if blocked:
        flash(blocked, "error")
        return redirect(url_for("cart.cart_page"))
    session[REVIEWED_KEY] = [summary.currency, summary.total_amount]
    return render_template(
        "checkout/review.html",
        details=details,
        summary=summary,
        form=PlaceOrderForm(formdata=None, request_key=new_request_key()),
        countries=dict(COUNTRIES),
        pickup_address=factory_text("FACTORY_PICKUP_ADDRESS"),
        school_option=_school_option(summary),
    )


@bp.post("/place")
def place():
    form = PlaceOrderForm()
    details = service.CheckoutDetails.from_dict(session.get(DETAILS_KEY))
    cart = current_cart()
    if not form.validate_on_submit() or details is None or cart is None:
        flash(_("Check your details and place the order again."), "error")
        return redirect(url_for("checkout.details"), code=303)
    currency = current_currency()
    reviewed = session.get(REVIEWED_KEY) or [None, None]
    request_key = form.request_key.data or None
    db = get_session()
    try:
        order = service.place_order(
            db,
            cart,
            details,
            currency=currency,
            locale=str(get_locale()),
            user_id=current_user.id if current_user.is_authenticated else None,
            expected_total=reviewed[1] if reviewed[0] == currency else -1,
            gateway=gateway(),
            reservation_minutes=current_app.config["RESERVATION_MINUTES"],
            request_key=request_key,
            window=pricing_window(),
            reseller_id=marked_reseller_id(),
        )
    except IntegrityError:
        # The same form at the same moment: the other request placed the order.
        db.rollback()
        placed = service.find_placed(db, request_key) if request_key else None
        if placed is None:
            raise
        order = placed
    except service.TotalChanged:
        db.rollback()
        flash(_("Prices or currency changed since you reviewed your order: check it again."))
        return redirect(url_for("checkout.review"), code=303)
    except service.StockRanOut as error:
        db.rollback()
        flash(
            _(
                "Only %(n)d of %(sku)s left: someone bought the rest. Lower the quantity and "
                "check out again.",
                n=error.available,
                sku=error.sku,
            ),
            "error",
        )
        return redirect(url_for("cart.cart_page"), code=303)
    except service.BelowCardMinimum as error:
        db.rollback()
        flash(
            _(
                "Card payments start at %(amount)s. Add more to your order.",
                amount=money_filter(error.minimum, error.currency),
            ),
            "error",
        )
        return redirect(url_for("cart.cart_page"), code=303)
    except service.NoSchoolDelivery:
        db.rollback()
        flash(_("The school's delivery round has closed: choose another delivery."), "error")
        return redirect(url_for("checkout.details"), code=303)
    except service.CartNotReady:
        db.rollback()
        flash(_("Fix the items marked in your cart before checking out."), "error")
        return redirect(url_for("cart.cart_page"), code=303)
    except PaymentServiceUnavailable:
        db.rollback()
        flash(
            _("The card payment service did not answer. Nothing was ordered; try again."),
            "error",
        )
        return redirect(url_for("checkout.review"), code=303)
    db.commit()
    session.pop(DETAILS_KEY, None)
    session.pop(REVIEWED_KEY, None)
    remember_in_session(session, order)
    remember_count(cart_service.item_count(cart))
    return redirect(url_for("payments.pay_page", number=order.number), code=303)
