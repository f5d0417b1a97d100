"""The order desk (``/admin/orders``): find orders, read everything about one, and move it
along — production, shipping, delivery, cancellation, refunds, notes and answers to the
customer — as far as the signed-in staff member's role allows.

Every action is a POST (CSRF-protected app-wide) that re-checks the permission on the
server, calls one service, and either redirects (the request's session commits) or rolls
back and says in words what went wrong. The rules live in ``shop.orders.fulfilment``,
``shop.payments.refunds`` and ``shop.orders.messages``; this module only parses, asks and
renders.

Dates in the filters are calendar days in the shop's time zone (``BABEL_DEFAULT_TIMEZONE``,
the factory's clock), the same zone every time on these pages is shown in.
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from shop import request_keys
from shop.accounts.access import require_permission
from shop.accounts.forms import COUNTRIES, EmptyForm
from shop.accounts.models import User
from shop.accounts.permissions import PERMISSIONS, has_permission
from shop.admin.blueprint import bp
from shop.admin.forms import (
    BadAmount,
    BadQuantity,
    CancelForm,
    NoteForm,
    RefundForm,
    ReplyForm,
    ShipForm,
    amount_from,
    quantities_from,
)
from shop.audit import service as audit
from shop.catalog.translations import line_names
from shop.db import as_utc, get_session
from shop.downloads import attachment
from shop.exceptions import ShopError
from shop.i18n import shop_zone
from shop.money import SUPPORTED_CURRENCIES, to_decimal
from shop.orders import lifecycle, messages, numbers, transitions
from shop.orders.carriers import carrier_name, tracking_url
from shop.orders.labels import EVENT_LABELS, FULFILMENT_LABELS, PAYMENT_LABELS
from shop.orders.models import Order, OrderMessage, Shipment
from shop.pagination import count_rows, paginate, parse_page
from shop.payments.models import Refund
from shop.payments.stripe_gateway import PaymentServiceUnavailable, RefundRefused, gateway
from shop.request_keys import new_request_key
from shop.resellers.attribution import order_window
from shop.resellers.signals import order_signals
from shop.resellers.slip import blind_slip_for
from shop.schools.invoices import invoice_for_order
from shop.spreadsheet import BOM, safe_cell
from shop.templating import locale_name, money_filter, render_document

PER_PAGE = 50
SEARCH_MAX_LENGTH = 100

STATE_LABELS = {"open": _l("Open"), "cancelled": _l("Cancelled"), "closed": _l("Closed")}

# Who may do what on the desk: any one of the permissions listed. The decorators and the
# booleans that show or hide the forms both read this table.
ACTION_PERMISSIONS = {
    "production": ("production.manage", "orders.manage"),
    "ready": ("production.manage", "orders.manage"),
    "ship": ("shipping.manage",),
    "delivered": ("shipping.manage", "orders.manage"),
    "cancel": ("orders.manage",),
    "refund": ("orders.manage",),
    "note": ("orders.view",),
    "reply": ("messages.manage",),
}
for _permissions in ACTION_PERMISSIONS.values():
    if not set(_permissions) <= set(PERMISSIONS):
        raise ValueError(f"unknown permission in {_permissions}")


def may(action: str, user=None) -> bool:
    user = current_user if user is None else user
    return any(has_permission(user, permission) for permission in ACTION_PERMISSIONS[action])


def require_action(action: str):
    """Under ``require_permission("orders.view")`` (which sends anonymous visitors to the
    login page): a 403 unless the role may do ``action``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not may(action):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


# --- finding orders ----------------------------------------------------------------------


def _parse_day(raw: str | None) -> date | None:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if 1900 <= day.year <= 9000 else None


@dataclass(frozen=True)
class OrderFilters:
    """The list's filters from query parameters; a value that makes no sense is dropped."""

    q: str = ""
    payment: str = ""
    fulfilment: str = ""
    state: str = ""
    currency: str = ""
    date_from: date | None = None
    date_to: date | None = None
    attention: bool = False
    unread: bool = False

    @classmethod
    def from_args(cls, args) -> "OrderFilters":
        def choice(name: str, allowed) -> str:
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        return cls(
            q=" ".join((args.get("q") or "").split())[:SEARCH_MAX_LENGTH],
            payment=choice("payment", transitions.PAYMENT_STATUSES),
            fulfilment=choice("fulfilment", transitions.FULFILMENT_STATUSES),
            state=choice("state", transitions.STATES),
            currency=choice("currency", SUPPORTED_CURRENCIES),
            date_from=_parse_day(args.get("from")),
            date_to=_parse_day(args.get("to")),
            attention=args.get("attention") == "1",
            unread=args.get("unread") == "1",
        )

    def args(self) -> dict[str, str]:
        """The query parameters that give these filters back (for links)."""
        values = {
            "q": self.q,
            "payment": self.payment,
            "fulfilment": self.fulfilment,
            "state": self.state,
            "currency": self.currency,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "attention": "1" if self.attention else "",
            "unread": "1" if self.unread else "",
        }
        return {name: value for name, value in values.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.args())


def filtered_orders(filters: OrderFilters, zone: ZoneInfo) -> sa.Select:
    """``SELECT`` the orders matching ``filters``, newest first."""
    query = sa.select(Order)
    if filters.q:
        needle = filters.q.lower()
        matches = [
            sa.func.lower(column).contains(needle, autoescape=True)
            for column in (Order.number, Order.email, Order.recipient)
        ]
        typed_number = numbers.normalise(filters.q)  # "sf 7k3m9 qx2pd" finds SF-7K3M9-QX2PD
        if typed_number:
            matches.append(Order.number == typed_number)
        query = query.where(sa.or_(*matches))
    for column, value in (
        (Order.payment_status, filters.payment),
        (Order.fulfilment_status, filters.fulfilment),
        (Order.state, filters.state),
        (Order.currency, filters.currency),
    ):
        if value:
            query = query.where(column == value)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=zone).astimezone(UTC)
        query = query.where(Order.created_at >= start)
    if filters.date_to:
        end_day = filters.date_to + timedelta(days=1)
        end = datetime.combine(end_day, time.min, tzinfo=zone).astimezone(UTC)
        query = query.where(Order.created_at < end)
    if filters.attention:
        query = query.where(Order.needs_attention.is_(True))
    if filters.unread:
        query = query.where(
            Order.id.in_(
                sa.select(OrderMessage.order_id).where(
                    OrderMessage.from_staff.is_(False), OrderMessage.read_at.is_(None)
                )
            )
        )
    return query.order_by(Order.created_at.desc(), Order.id.desc())


def get_order(session: Session, number: str) -> Order | None:
    """One order with everything its desk page shows, in a fixed number of queries."""
    return session.scalars(
        sa.select(Order)
        .where(Order.number == number)
        .options(
            selectinload(Order.user),
            selectinload(Order.lines),
            selectinload(Order.events),
            selectinload(Order.payments),
            selectinload(Order.refunds),
            selectinload(Order.shipments).selectinload(Shipment.lines),
            selectinload(Order.messages),
        )
    ).first()


def _order_or_404(session: Session, number: str) -> Order:
    order = get_order(session, number)
    if order is None:
        abort(404)
    return order


# --- the list and the CSV ----------------------------------------------------------------


@bp.get("/orders")
@require_permission("orders.view")
def order_list():
    db = get_session()
    filters = OrderFilters.from_args(request.args)
    query = filtered_orders(filters, shop_zone())
    total = count_rows(db, query)
    page = paginate(total, parse_page(request.args.get("page")), PER_PAGE)
    orders = db.scalars(query.offset(page.offset).limit(PER_PAGE)).all()
    unread = messages.unread_counts(db)
    return render_template(
        "admin/orders/list.html",
        orders=orders,
        page=page,
        filters=filters,
        unread=unread,
        unread_total=sum(unread.values()),
        payment_labels=PAYMENT_LABELS,
        fulfilment_labels=FULFILMENT_LABELS,
        state_labels=STATE_LABELS,
        currencies=SUPPORTED_CURRENCIES,
    )


CSV_COLUMNS = (
    "number",
    "created",
    "email",
    "recipient",
    "currency",
    "total",
    "payment_status",
    "fulfilment_status",
    "state",
)


@bp.get("/orders.csv")
@require_permission("orders.view")
def order_csv():
    zone = shop_zone()
    filters = OrderFilters.from_args(request.args)
    query = filtered_orders(filters, zone).with_only_columns(
        Order.number,
        Order.created_at,
        Order.email,
        Order.recipient,
        Order.currency,
        Order.total_amount,
        Order.payment_status,
        Order.fulfilment_status,
        Order.state,
    )
    out = io.StringIO()
    out.write(BOM)  # the BOM: Excel then reads UTF-8 (Chinese and Japanese names)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in get_session().execute(query):
        writer.writerow(
            (
                row.number,
                as_utc(row.created_at).astimezone(zone).isoformat(timespec="seconds"),
                safe_cell(row.email),
                safe_cell(row.recipient),
                row.currency,
                str(to_decimal(row.total_amount, row.currency)),
                row.payment_status,
                row.fulfilment_status,
                row.state,
            )
        )
    stamp = datetime.now(zone).strftime("%Y%m%d-%H%M")
    return attachment(out.getvalue().encode("utf-8"), f"orders-{stamp}.csv", "text/csv")


# --- one order ---------------------------------------------------------------------------


def _actor_names(session: Session, order: Order) -> dict[int, str]:
    ids = {event.actor_user_id for event in order.events if event.actor_user_id}
    ids |= {refund.staff_user_id for refund in order.refunds if refund.staff_user_id}
    ids |= {message.author_user_id for message in order.messages if message.author_user_id}
    ids |= {shipment.staff_user_id for shipment in order.shipments if shipment.staff_user_id}
    if not ids:
        return {}
    rows = session.execute(sa.select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {row.id: row.name or row.email for row in rows}


def _render_detail(
    session: Session,
    order: Order,
    status: int = 200,
    *,
    ship_form: ShipForm | None = None,
    ship_quantities: dict[int, str] | None = None,
    refund_form: RefundForm | None = None,
    return_quantities: dict[int, str] | None = None,
    cancel_form: CancelForm | None = None,
    note_form: NoteForm | None = None,
    reply_form: ReplyForm | None = None,
    new_message_ids: frozenset[int] = frozenset(),
):
    allowed = {action: may(action) for action in ACTION_PERMISSIONS}
    possible = lifecycle.possible_actions(order)
    shipped = lifecycle.shipped_quantities(order)
    left = lifecycle.unshipped_quantities(order)
    returnable = lifecycle.returnable_quantities(order)
    names = line_names(session, order.lines, locale_name())
    lines = [
        {
            "line": line,
            "name": names[line.id],
            "shipped": shipped.get(line.id, 0),
            "left": left.get(line.id, 0),
            "returnable": returnable.get(line.id, 0),
            "estimated_ship_date": lifecycle.estimated_ship_date(line, order),
            "ship_value": (ship_quantities or {}).get(line.id, str(left.get(line.id, 0))),
            "return_value": (return_quantities or {}).get(line.id, "0"),
        }
        for line in order.lines
    ]
    shipments = [
        {
            "shipment": shipment,
            "carrier": carrier_name(shipment.carrier, shipment.carrier_name),
            "tracking_url": tracking_url(shipment.carrier, shipment.tracking_number),
        }
        for shipment in order.shipments
    ]
    if refund_form is None:
        refund_form = RefundForm(formdata=None, request_key=new_request_key())
    return (
        render_template(
            "admin/orders/detail.html",
            order=order,
            lines=lines,
            line_names=names,
            shipments=shipments,
            order_lines={line.id: line for line in order.lines},
            countries=dict(COUNTRIES),
            actors=_actor_names(session, order),
            can={action: allowed[action] and possible[action] for action in allowed},
            blind_slip=blind_slip_for(session, order.reseller_id),
            window_signals=order_signals(session, order),
            refundable=lifecycle.refundable_amount(order),
            has_returnable=any(returnable.values()),
            new_message_ids=new_message_ids,
            event_labels=EVENT_LABELS,
            payment_labels=PAYMENT_LABELS,
            fulfilment_labels=FULFILMENT_LABELS,
            state_labels=STATE_LABELS,
            ship_form=ship_form or ShipForm(formdata=None, request_key=new_request_key()),
            refund_form=refund_form,
            cancel_form=cancel_form or CancelForm(formdata=None),
            note_form=note_form or NoteForm(formdata=None, request_key=new_request_key()),
            reply_form=reply_form or ReplyForm(formdata=None, request_key=new_request_key()),
            invoice=invoice_for_order(session, order.id) if order.school_id else None,
            via_window=order_window(session, order),
            can_open_window=has_permission(current_user, "resellers.manage"),
        ),
        status,
    )


@bp.get("/orders/<number>")
@require_permission("orders.view")
def order_detail(number: str):
    db = get_session()
    order = _order_or_404(db, number)
    unread_ids = frozenset(
        message.id for message in order.messages if not message.from_staff and not message.read_at
    )
    return _render_detail(db, order, new_message_ids=unread_ids)


@bp.post("/orders/<number>/messages/read")
@require_permission("orders.view")
@require_action("reply")
def order_messages_read(number: str):
    """Those who answer the thread mark it read (opening the page changes nothing: a
    workshop worker looking up a size does not make a question look handled)."""
    db = get_session()
    order = _order_or_404(db, number)
    if not EmptyForm().validate_on_submit():
        return _refused(db, number, _("The messages were not marked read."))
    messages.mark_read_by_staff(db, order)
    db.commit()
    flash(_("The customer's messages are marked read."), "success")
    return _back_to(number)


# --- what went wrong, in words -----------------------------------------------------------

SHIPMENT_PROBLEMS = {
    "carrier": _l("Choose a carrier; for “Other”, also write the carrier's name."),
    "tracking": _l("Enter the tracking number."),
    "nothing": _l("Enter a quantity for at least one line."),
    "quantity": _l("Ship at most what is left of each line, and no negative quantities."),
}
CANCEL_PROBLEMS = {
    "closed": _l("This order is already cancelled or closed."),
    "in_production": _l("This order is already in production."),
    "shipped": _l("Part of this order has shipped, so it can no longer be cancelled."),
}
AMOUNT_PROBLEMS = {
    "not_a_number": _l("Enter the amount as a number, like 12.50."),
    "not_positive": _l("Enter an amount more than zero."),
    "precision": _l("That amount has more decimals than the currency has."),
}


def _describe_transition(error: transitions.IllegalTransition, order: Order) -> str:
    if order.state != "open":
        return _("This order is cancelled or closed; its status can no longer change.")
    labels = {
        "fulfilment_status": FULFILMENT_LABELS,
        "payment_status": PAYMENT_LABELS,
        "state": STATE_LABELS,
    }[error.field]
    if error.current == error.wanted:
        return _(
            "This order is already “%(status)s”.",
            status=labels.get(error.current, error.current),
        )
    return _(
        "This order cannot go from “%(current)s” to “%(wanted)s”.",
        current=labels.get(error.current, error.current),
        wanted=labels.get(error.wanted, error.wanted),
    )


def describe(error: ShopError, order: Order) -> str:
    """A domain error as a sentence for the flash message."""
    if isinstance(error, transitions.IllegalTransition):
        return _describe_transition(error, order)
    if isinstance(error, lifecycle.CannotFulfil):
        return _("This order is not paid, or no longer open.")
    if isinstance(error, lifecycle.InvalidShipment):
        return str(SHIPMENT_PROBLEMS.get(error.reason, SHIPMENT_PROBLEMS["quantity"]))
    if isinstance(error, lifecycle.CannotCancel):
        return str(CANCEL_PROBLEMS.get(error.reason, CANCEL_PROBLEMS["closed"]))
    if isinstance(error, lifecycle.RefundNotAllowed):
        return _("This order has nothing that can be refunded.")
    if isinstance(error, lifecycle.RefundTooLarge):
        return _(
            "At most %(amount)s can be refunded.",
            amount=money_filter(error.refundable, error.currency),
        )
    if isinstance(error, lifecycle.InvalidReturn):
        return _("Return at most the pieces that were sold on each line and not returned yet.")
    if isinstance(error, RefundRefused):
        return _("Stripe refused the refund: %(reason)s", reason=str(error))
    if isinstance(error, PaymentServiceUnavailable):
        return _(
            "The card payment service did not answer. Try again: the same request is never "
            "refunded twice."
        )
    if isinstance(error, messages.InvalidMessage):
        return _("Write a message of 1 to 5,000 characters.")
    return _("That could not be done.")


def _back_to(number: str):
    return redirect(url_for("admin.order_detail", number=number), code=303)


def _refused(session: Session, number: str, message: str, **render):
    """Roll back whatever the service began, say why, and show the page again (400)."""
    session.rollback()
    flash(message, "error")
    return _render_detail(session, _order_or_404(session, number), 400, **render)


# What an order's audit rows record before and after each desk action.
AUDITED_FIELDS = ("state", "payment_status", "fulfilment_status", "refunded_amount")


def _audit(session: Session, order: Order, action: str, before: dict, **details) -> None:
    """The audit row for a desk action that changed ``order`` (same transaction)."""
    audit.record(
        session,
        actor_user_id=current_user.id,
        action=f"order.{action}",
        target_type="order",
        target_id=order.number,
        before=before,
        after={**audit.snapshot(order, AUDITED_FIELDS), **details},
    )


def _move(number: str, service, action: str, done_message: str):
    db = get_session()
    order = _order_or_404(db, number)
    lifecycle.lock(db, order)  # the audit's "before" is the order as this move finds it
    before = audit.snapshot(order, AUDITED_FIELDS)
    try:
        service(db, order, actor_user_id=current_user.id)
    except (transitions.IllegalTransition, lifecycle.CannotFulfil) as error:
        message = describe(error, order)
        db.rollback()
        flash(message, "error")
        return _back_to(number)
    _audit(db, order, action, before)
    db.commit()
    flash(done_message, "success")
    return _back_to(number)


# --- actions -----------------------------------------------------------------------------


@bp.post("/orders/<number>/production")
@require_permission("orders.view")
@require_action("production")
def order_production(number: str):
    return _move(number, lifecycle.start_production, "production", _("The order is in production."))


@bp.post("/orders/<number>/ready")
@require_permission("orders.view")
@require_action("ready")
def order_ready(number: str):
    return _move(number, lifecycle.mark_ready, "ready", _("The order is ready to ship."))


@bp.post("/orders/<number>/delivered")
@require_permission("orders.view")
@require_action("delivered")
def order_delivered(number: str):
    return _move(number, lifecycle.mark_delivered, "delivered", _("The order is marked delivered."))


@bp.post("/orders/<number>/ship")
@require_permission("orders.view")
@require_action("ship")
def order_ship(number: str):
    db = get_session()
    order = _order_or_404(db, number)
    form = ShipForm()
    line_ids = [line.id for line in order.lines]
    posted = {line_id: request.form.get(f"qty-{line_id}", "") for line_id in line_ids}
    again = {"ship_form": form, "ship_quantities": posted}
    if not form.validate_on_submit():
        return _refused(db, number, _("Check the shipment: some fields are too long."), **again)
    try:
        quantities = quantities_from(request.form, "qty", line_ids)
    except BadQuantity:
        return _refused(db, number, _("Quantities are whole numbers."), **again)
    lifecycle.lock(db, order)
    if not request_keys.claim(db, f"ship:{number}", form.request_key.data):
        return _shipped(number, order.shipments[-1])  # the same form again: one parcel
    before = audit.snapshot(order, AUDITED_FIELDS)
    try:
        shipment = lifecycle.ship(
            db,
            order,
            quantities,
            carrier=form.carrier.data or "",
            tracking_number=form.tracking_number.data or "",
            custom_carrier=form.custom_carrier.data or "",
            actor_user_id=current_user.id,
        )
    except (
        lifecycle.InvalidShipment,
        lifecycle.CannotFulfil,
        transitions.IllegalTransition,
    ) as error:
        return _refused(db, number, describe(error, order), **again)
    _audit(db, order, "ship", before, shipment_id=shipment.id, tracking=shipment.tracking_number)
    db.commit()
    return _shipped(number, shipment)


def _shipped(number: str, shipment: Shipment):
    flash(
        _(
            "Shipped with %(carrier)s; the customer has the tracking link.",
            carrier=carrier_name(shipment.carrier, shipment.carrier_name),
        ),
        "success",
    )
    return _back_to(number)


@bp.post("/orders/<number>/cancel")
@require_permission("orders.view")
@require_action("cancel")
def order_cancel(number: str):
    db = get_session()
    order = _order_or_404(db, number)
    form = CancelForm()
    before = audit.snapshot(order, AUDITED_FIELDS)
    if not form.validate_on_submit():
        return _refused(db, number, _("The order was not cancelled."), cancel_form=form)
    try:
        refunded = lifecycle.cancel(
            db,
            order,
            gateway=gateway(),
            actor_user_id=current_user.id,
            note=form.cancel_reason.data or "",
        )
    except lifecycle.CannotCancel as error:
        db.rollback()
        order = _order_or_404(db, number)
        if order.state == "cancelled":  # the same cancellation, clicked twice
            flash(_("This order is cancelled."), "success")
            return _back_to(number)
        return _refused(db, number, describe(error, order), cancel_form=form)
    except (
        transitions.IllegalTransition,
        lifecycle.RefundNotAllowed,
        lifecycle.RefundTooLarge,
        lifecycle.InvalidReturn,
        RefundRefused,
        PaymentServiceUnavailable,
    ) as error:
        return _refused(db, number, describe(error, order), cancel_form=form)
    _audit(db, order, "cancel", before)
    db.commit()
    if refunded:
        flash(
            _(
                "The order is cancelled and %(amount)s was refunded.",
                amount=money_filter(refunded, order.currency),
            ),
            "success",
        )
    else:
        flash(_("The order is cancelled."), "success")
    return _back_to(number)


@bp.post("/orders/<number>/refund")
@require_permission("orders.view")
@require_action("refund")
def order_refund(number: str):
    db = get_session()
    order = _order_or_404(db, number)
    form = RefundForm()
    line_ids = [line.id for line in order.lines]
    posted = {line_id: request.form.get(f"return-{line_id}", "") for line_id in line_ids}
    again = {"refund_form": form, "return_quantities": posted}
    before = audit.snapshot(order, AUDITED_FIELDS)
    if not form.validate_on_submit():
        return _refused(db, number, _("Nothing was refunded: check the form."), **again)
    request_key = f"{order.number}-{form.request_key.data}"
    if db.scalar(sa.select(Refund.id).where(Refund.request_key == request_key)) is not None:
        flash(_("That refund was already made; it was not made twice."), "error")
        return _back_to(number)
    try:
        returns = quantities_from(request.form, "return", line_ids)
    except BadQuantity:
        return _refused(db, number, _("Quantities are whole numbers."), **again)
    if form.scope.data == "full":
        amount = lifecycle.refundable_amount(order)
    else:
        try:
            amount = amount_from(form.amount.data, order.currency)
        except BadAmount as error:
            message = AMOUNT_PROBLEMS.get(error.reason)
            if message is None:  # too large
                message = describe(
                    lifecycle.RefundTooLarge(lifecycle.refundable_amount(order), order.currency),
                    order,
                )
            return _refused(db, number, str(message), **again)
    try:
        refund = lifecycle.refund(
            db,
            order,
            amount,
            gateway=gateway(),
            request_key=request_key,
            staff_user_id=current_user.id,
            note=form.refund_reason.data or "",
            returns={line_id: quantity for line_id, quantity in returns.items() if quantity},
        )
    except IntegrityError:  # the same form, submitted twice at once
        db.rollback()
        flash(_("That refund was already made; it was not made twice."), "error")
        return _back_to(number)
    except (
        lifecycle.RefundNotAllowed,
        lifecycle.RefundTooLarge,
        lifecycle.InvalidReturn,
        RefundRefused,
        PaymentServiceUnavailable,
    ) as error:
        # The same request key stays in the form: trying again cannot refund twice.
        return _refused(db, number, describe(error, order), **again)
    _audit(db, order, "refund", before, refund_amount=refund.amount, restocked=refund.restocked)
    db.commit()
    flash(_("Refunded %(amount)s.", amount=money_filter(refund.amount, order.currency)), "success")
    return _back_to(number)


@bp.post("/orders/<number>/note")
@require_permission("orders.view")
@require_action("note")
def order_note(number: str):
    db = get_session()
    order = _order_or_404(db, number)
    form = NoteForm()
    if not form.validate_on_submit():
        return _refused(db, number, _("The note was not saved."), note_form=form)
    try:
        if request_keys.claim(db, f"note:{number}", form.request_key.data):
            before = audit.snapshot(order, AUDITED_FIELDS)
            lifecycle.add_note(db, order, form.note.data, actor_user_id=current_user.id)
            _audit(db, order, "note", before)
        db.commit()
    except IntegrityError:  # the same note, sent twice at the same moment: added once
        db.rollback()
    flash(_("Note added. Only staff see it."), "success")
    return _back_to(number)


@bp.post("/orders/<number>/reply")
@require_permission("orders.view")
@require_action("reply")
def order_reply(number: str):
    db = get_session()
    order = _order_or_404(db, number)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _refused(db, number, _("Your answer was not sent."), reply_form=form)
    try:
        if request_keys.claim(db, f"reply:{number}", form.request_key.data):
            before = audit.snapshot(order, AUDITED_FIELDS)
            reply = messages.post_staff_reply(
                db, order, form.body.data, staff_user_id=current_user.id
            )
            _audit(db, order, "reply", before, message_id=reply.id)
        db.commit()
    except messages.InvalidMessage as error:
        return _refused(db, number, describe(error, order), reply_form=form)
    except IntegrityError:  # the same answer, sent twice at the same moment: sent once
        db.rollback()
    flash(_("Your answer was emailed to %(email)s.", email=order.email), "success")
    return _back_to(number)


# --- packing slip ------------------------------------------------------------------------


@bp.get("/orders/<number>/shipments/<int:shipment_id>/packing-slip")
@require_permission("orders.view")
def packing_slip(number: str, shipment_id: int):
    order = _order_or_404(get_session(), number)
    shipment = next((s for s in order.shipments if s.id == shipment_id), None)
    if shipment is None:
        abort(404)
    locale = order.school.locale if order.school is not None else order.locale
    slip = render_document(
        locale,
        "admin/orders/_packing_slip_doc.html",
        order=order,
        shipment=shipment,
        carrier=carrier_name(shipment.carrier, shipment.carrier_name),
        order_lines={line.id: line for line in order.lines},
        line_names=line_names(get_session(), order.lines, locale),
        parcel_number=order.shipments.index(shipment) + 1,
        parcel_count=len(order.shipments),
        item_count=sum(item.quantity for item in shipment.lines),
        countries=dict(COUNTRIES),
        blind_slip=blind_slip_for(get_session(), order.reseller_id),
    )
    return render_template("admin/orders/packing_slip.html", order=order, slip=slip)
