"""The customer's side of orders: the list (``/orders``), one order, guest tracking
(``/track``), the receipt (page and PDF), and what a customer can do with an order:
cancel it, buy it again, write to the factory about it.

Who may see an order is ``shop.orders.access.can_view``; anyone else gets a 404, so an
order number alone reveals nothing. Staff may look (``orders.view``) but act on orders
from the order desk: the actions here are for the customer — the owner, or the browser
that placed the order, tracked it or opened its signed link.
"""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_number, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from shop import request_keys
from shop.accounts.access import require_login
from shop.accounts.forms import COUNTRIES
from shop.cart import service as cart_service
from shop.cart.views import CART_ERRORS, cart_id_to_fill, remember_count
from shop.catalog.colours import colour_name
from shop.checkout.next_steps import next_steps
from shop.db import get_session, utcnow
from shop.downloads import attachment
from shop.extensions import limiter
from shop.i18n import shop_zone
from shop.orders import access, lifecycle, messages, receipt
from shop.orders.carriers import carrier_name, tracking_url
from shop.orders.forms import MessageForm, TrackForm
from shop.orders.labels import EVENT_LABELS, FULFILMENT_LABELS, PAYMENT_LABELS
from shop.orders.models import Order, OrderLine, Shipment, ShipmentLine
from shop.orders.numbers import normalise
from shop.pagination import count_rows, paginate, parse_page
from shop.payments.stripe_gateway import PaymentServiceUnavailable, RefundRefused, gateway
from shop.resellers.attribution import order_window
from shop.templating import factory_text, money_filter, time_zone_filter

bp = Blueprint("orders", __name__)

PER_PAGE = 20


# Events whose note the customer should read (the carrier and tracking number, the amount
# refunded, the card's refusal); other notes are for staff (payment ids, staff remarks).
EVENTS_WITH_CUSTOMER_NOTES = (
    "payment_failed",
    "partially_shipped",
    "shipped",
    "partially_refunded",
    "refunded",
)


def _address_limit() -> str:
    return current_app.config["RATE_LIMIT_PER_ADDRESS"]


def _refused(response) -> bool:
    return response.status_code == 400


# --- finding an order, and who is asking -------------------------------------------------


def _reload_order(number: str) -> Order:
    """The order again, after a rollback: it was there a moment ago."""
    order = _load_order(number)
    if order is None:
        abort(404)
    return order


def _load_order(number: str) -> Order | None:
    return (
        get_session()
        .scalars(
            sa.select(Order)
            .where(Order.number == number)
            .options(
                selectinload(Order.lines),
                selectinload(Order.events),
                selectinload(Order.payments),
                selectinload(Order.refunds),
                selectinload(Order.messages),
                selectinload(Order.shipments)
                .selectinload(Shipment.lines)
                .selectinload(ShipmentLine.order_line),
            )
        )
        .first()
    )


def _viewable_order(number: str) -> Order:
    """The order if this visitor may see it; a 404 otherwise (never a 403)."""
    order = _load_order(number)
    token = request.args.get("t")
    secret = current_app.config["SECRET_KEY"]
    if order is None or not access.can_view(
        order, user=current_user, flask_session=session, secret_key=secret, token=token
    ):
        abort(404)
    if token and access.token_grants(secret, order, token):
        access.remember_in_session(session, order)  # later clicks carry no token
    return order


def _acts_as_customer(order: Order) -> bool:
    """The owner, or the browser that holds the order (placed, tracked or linked)."""
    if current_user.is_authenticated and order.user_id == current_user.id:
        return True
    return order.number in session.get(access.SESSION_KEY, [])


def _customer_order(number: str) -> Order:
    """For the customer's actions: 404 for strangers, 403 for staff who only look."""
    order = _viewable_order(number)
    if not _acts_as_customer(order):
        abort(403)
    return order


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


# --- the list and the order page ---------------------------------------------------------


@bp.get("/orders")
@require_login
def order_list():
    db = get_session()
    mine = Order.user_id == current_user.id
    total = count_rows(db, sa.select(Order.id).where(mine))
    page = paginate(total, parse_page(request.args.get("page")), PER_PAGE)
    orders = db.scalars(
        sa.select(Order)
        .where(mine)
        .options(selectinload(Order.lines))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset(page.offset)
        .limit(PER_PAGE)
    ).all()
    return render_template("orders/order_list.html", orders=orders, page=page)


def _shipments(order: Order) -> list[dict]:
    return [
        {
            "shipment": shipment,
            "carrier": carrier_name(shipment.carrier, shipment.carrier_name),
            "url": tracking_url(shipment.carrier, shipment.tracking_number),
        }
        for shipment in order.shipments
    ]


def _timeline(order: Order) -> list[dict]:
    return [
        {
            "event": event,
            "label": EVENT_LABELS.get(event.kind, _l("Order updated")),
            "note": event.note if event.kind in EVENTS_WITH_CUSTOMER_NOTES else "",
        }
        for event in order.events
        if event.visible_to_customer
    ]


def _ship_dates(order: Order) -> dict[int, dict | None]:
    """Made-to-order lines of a paid order: when they should ship (ISO and in words)."""
    dates = {}
    for line in order.lines:
        day = lifecycle.estimated_ship_date(line, order)
        dates[line.id] = {"iso": day.isoformat(), "label": format_date(day)} if day else None
    return dates


def _render_order(order: Order, *, message_form: MessageForm | None = None, status: int = 200):
    acts = _acts_as_customer(order)
    refunded = lifecycle.refunded_so_far(order)
    return (
        render_template(
            "orders/order_detail.html",
            order=order,
            payment_labels=PAYMENT_LABELS,
            fulfilment_labels=FULFILMENT_LABELS,
            timeline=_timeline(order),
            shipments=_shipments(order),
            shipped=lifecycle.shipped_quantities(order),
            ship_dates=_ship_dates(order),
            refunded_amount=refunded,
            net_amount=max(order.total_amount - refunded, 0),
            countries=dict(COUNTRIES),
            pickup_address=factory_text("FACTORY_PICKUP_ADDRESS"),
            next_steps=next_steps(order, now=utcnow(), zone=shop_zone()),
            acts_as_customer=acts,
            can_pay=acts and order.awaiting_payment,
            can_cancel=acts and lifecycle.can_customer_cancel(order),
            cancel_refunds=_needs_confirmation(order),
            has_receipt=receipt.has_receipt(order),
            message_form=message_form
            or MessageForm(formdata=None, request_key=request_keys.new_request_key()),
            reorder_key=request_keys.new_request_key(),
            message_max_length=messages.MAX_LENGTH,
            via_window=order_window(get_session(), order),
        ),
        status,
    )


@bp.get("/orders/<number>")
def order_detail(number: str):
    return _render_order(_viewable_order(number))


# --- tracking as a guest -----------------------------------------------------------------


def _tracked_order(number_text: str, email: str) -> Order | None:
    """The order with this number (read forgivingly) if ``email`` is its email."""
    number = normalise(number_text)
    if number is None:
        return None
    order = get_session().scalars(sa.select(Order).where(Order.number == number)).first()
    if order is None or order.email.strip().casefold() != email.strip().casefold():
        return None
    return order


@bp.get("/track")
def track():
    return render_template("orders/track.html", form=TrackForm(formdata=None))


@bp.post("/track")
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_refused)
def track_submit():
    form = TrackForm()
    if not form.validate_on_submit():
        return render_template("orders/track.html", form=form), 400
    order = _tracked_order(form.number.data, form.email.data)
    if order is None:
        # One message for both fields: a guess learns nothing about which was right.
        flash(
            _("We could not find an order with that number and email. Check both and try again."),
            "error",
        )
        return render_template("orders/track.html", form=form), 400
    access.remember_in_session(session, order)
    return redirect(url_for("orders.order_detail", number=order.number), code=303)


# --- the receipt -------------------------------------------------------------------------


def _receipt(number: str) -> receipt.Receipt:
    order = _viewable_order(number)
    if not receipt.has_receipt(order):
        abort(404)
    config = current_app.config
    factory = receipt.Factory(
        name=factory_text("FACTORY_NAME"),
        address=factory_text("FACTORY_ADDRESS"),
        tax_id=config["FACTORY_TAX_ID"] or "",
    )
    return receipt.build_receipt(order, factory, config["TAX_RATE_PERCENT"])


@bp.get("/orders/<number>/receipt")
def receipt_page(number: str):
    return render_template(
        "orders/receipt.html", receipt=_receipt(number), countries=dict(COUNTRIES)
    )


@bp.get("/orders/<number>/receipt.pdf")
def receipt_pdf(number: str):
    data = _receipt(number)
    pdf = receipt.render_pdf(
        data,
        locale=str(get_locale()),
        countries=dict(COUNTRIES),
        zone=time_zone_filter(data.order),
    )
    filename = f"receipt-{data.order.number}.pdf"
    return attachment(pdf, filename, "application/pdf")


# --- the customer's actions --------------------------------------------------------------


def _needs_confirmation(order: Order) -> bool:
    """A paid order is cancelled only from the page that says what the refund will be."""
    return lifecycle.refundable_amount(order) > 0


@bp.get("/orders/<number>/cancel")
def cancel_confirm(number: str):
    """What cancelling will do: the refund, to which card, and how long it takes."""
    order = _customer_order(number)
    if not lifecycle.can_customer_cancel(order):
        return redirect(url_for("orders.order_detail", number=order.number), code=303)
    return render_template(
        "orders/cancel_confirm.html",
        order=order,
        preview=lifecycle.cancel_preview(order),
    )


@bp.post("/orders/<number>/cancel")
def cancel(number: str):
    order = _customer_order(number)  # CSRFProtect has checked the form's token
    if order.state == "cancelled":
        return _already_cancelled(order)
    if not lifecycle.can_customer_cancel(order):
        flash(_cannot_cancel_message(order), "error")
        return _render_order(order, status=409)
    if _needs_confirmation(order) and request.form.get("confirm") != "yes":
        return redirect(url_for("orders.cancel_confirm", number=order.number), code=303)
    db = get_session()
    try:
        refunded = lifecycle.cancel(
            db, order, gateway=gateway(), by_customer=True, actor_user_id=_user_id()
        )
    except lifecycle.CannotCancel as error:
        db.rollback()
        order = _reload_order(number)
        if order.state == "cancelled":  # the same click, a moment earlier, did it
            return _already_cancelled(order)
        flash(_cannot_cancel_message(order, error.reason), "error")
        return _render_order(order, status=409)
    except lifecycle.RefundNotAllowed:  # paid, but not by card here (an invoice, say)
        db.rollback()
        flash(
            _(
                "This order was not paid by card here, so it cannot be cancelled online. "
                "Write to us below and we will cancel and refund it."
            ),
            "error",
        )
        return _render_order(_reload_order(number), status=409)
    except (RefundRefused, PaymentServiceUnavailable):
        db.rollback()
        flash(
            _(
                "The card payment service did not answer, so the order is not cancelled and "
                "nothing changed. Try again in a few minutes, or write to us below."
            ),
            "error",
        )
        return _render_order(_reload_order(number), status=503)
    db.commit()
    if refunded:
        flash(
            _(
                "Order %(number)s is cancelled. We refunded %(amount)s to your card; banks "
                "usually show it within 5–10 days.",
                number=order.number,
                amount=money_filter(refunded, order.currency),
            ),
            "success",
        )
    else:
        flash(
            _("Order %(number)s is cancelled. Nothing was charged.", number=order.number),
            "success",
        )
    return redirect(url_for("orders.order_detail", number=order.number), code=303)


def _already_cancelled(order: Order):
    """A second click on cancel: the order page, saying what is true."""
    flash(_("Order %(number)s is cancelled.", number=order.number), "success")
    return redirect(url_for("orders.order_detail", number=order.number), code=303)


def _cannot_cancel_message(order: Order, reason: str = "") -> str:
    if reason == "paying":
        return _(
            "Your card payment is still being processed, so the order cannot be cancelled "
            "this minute. Try again shortly: once the payment has gone through, cancelling "
            "refunds it in full."
        )
    if order.state != "open":
        return _("This order is already closed or cancelled.")
    return _(
        "This order can no longer be cancelled online: the factory has started on it. "
        "Write to us below and we will see what we can do."
    )


def _line_name(line: OrderLine) -> str:
    details = ", ".join(p for p in (line.size, colour_name(line.colour)) if p)
    return f"{line.product_name} ({details})" if details else line.product_name


def _unavailable_reason(line: OrderLine, error: Exception) -> str:
    if isinstance(error, cart_service.OutOfStock) and error.available > 0:
        return _("%(item)s: only %(n)d left", item=_line_name(line), n=error.available)
    if isinstance(error, cart_service.OutOfStock):
        return _("%(item)s: sold out", item=_line_name(line))
    if isinstance(error, cart_service.TooMany):
        return _("%(item)s: too many for one cart", item=_line_name(line))
    return _("%(item)s: no longer for sale", item=_line_name(line))


@bp.post("/orders/<number>/reorder")
def reorder(number: str):
    """The order's lines back into the cart, at today's prices; each line on its own."""
    order = _customer_order(number)
    db = get_session()
    cart_id = cart_id_to_fill()
    try:
        first_time = request_keys.claim(
            db, f"reorder:{order.number}", request_keys.posted(request.form.get("request_key"))
        )
    except IntegrityError:  # the same click at the same moment: the other one adds them
        db.rollback()
        first_time = False
    if not first_time:
        flash(_("The pieces from order %(number)s are in your cart.", number=order.number))
        return redirect(url_for("cart.cart_page"), code=303)
    added, unavailable = 0, []
    for line in order.lines:
        try:
            if line.variant_id is None:
                raise cart_service.UnknownVariant()
            added += cart_service.add_to_cart(db, cart_id, {line.variant_id: line.quantity})
        except CART_ERRORS as error:
            unavailable.append(_unavailable_reason(line, error))
    db.commit()
    remember_count(cart_service.count_pieces(db, cart_id))
    if added:
        flash(
            ngettext(
                "Added %(num)d piece from order %(number)s to your cart, at today's prices.",
                "Added %(num)d pieces from order %(number)s to your cart, at today's prices.",
                added,
                number=order.number,
            ),
            "success",
        )
    if unavailable:
        flash(
            _("Not added, no longer available: %(items)s.", items="; ".join(unavailable)),
            "error",
        )
    return redirect(url_for("cart.cart_page"), code=303)


@bp.post("/orders/<number>/messages")
@limiter.limit(_address_limit, methods=["POST"])
def message_submit(number: str):
    order = _customer_order(number)
    form = MessageForm()
    if not form.validate_on_submit():
        return _render_order(order, message_form=form, status=400)
    db = get_session()
    try:
        if request_keys.claim(db, f"message:{order.number}", form.request_key.data):
            messages.post_customer_message(db, order, form.body.data or "", user_id=_user_id())
        db.commit()
    except IntegrityError:  # the same form, sent twice at the same moment: posted once
        db.rollback()
    except messages.InvalidMessage:
        db.rollback()
        form.body.errors = [
            _(
                "Write a message of 1 to %(max)s characters.",
                max=format_number(messages.MAX_LENGTH),
            )
        ]
        return _render_order(_reload_order(number), message_form=form, status=400)
    flash(_("Your message is sent. We answer by email and on this page."), "success")
    return redirect(url_for("orders.order_detail", number=order.number, _anchor="messages"), 303)
