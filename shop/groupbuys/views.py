"""The public side of a group buy: the campaign page (``/g/<code>``) with its join form,
its QR code and progress JSON, and a participant's own page (``/g/<code>/p/<token>``,
the token is the secret of their link) where they give their card, change their pieces
or leave.

Joining is ``service.reserve`` then ``service.start_card`` (a Stripe call) and one
commit; the form's one-time key is the participant's ``join_key`` (unique), so the same
form sent twice, or five times at once, is one participant and every copy lands on that
participant's page. The card is the checkout's own script (``static/js/pay.js``): the page
posts the card to ``…/card`` and, after 3-D Secure, asks ``…/check`` to settle it. A
refused join (no room, no stock, nothing chosen, closed) is the form again with the
reason and what was typed, never a 500.
"""

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop import request_keys
from shop.accounts.forms import COUNTRIES, EmptyForm
from shop.catalog.colours import colour_name
from shop.catalog.models import Product
from shop.catalog.size_grid import format_parts
from shop.db import get_session, utcnow
from shop.exceptions import ShopError
from shop.extensions import limiter
from shop.groupbuys import leaving, page, progress, rules, service
from shop.groupbuys.forms import BadPieces, JoinForm, parse_pieces
from shop.groupbuys.models import Campaign, Participant
from shop.links import external_url
from shop.locales import localized
from shop.mail import send_after_commit
from shop.pagecache.stores import MemoryStore
from shop.payments.stripe_gateway import PaymentServiceUnavailable, gateway
from shop.payments.views import PAYMENT_METHOD_ID
from shop.resellers.sharing import qr_svg
from shop.templating import locale_name

bp = Blueprint("groupbuys", __name__)

QR_MAX_AGE_SECONDS = 3600
LOCAL_PROGRESS_BYTES = 4 * 1024 * 1024  # without the page cache: this process's copies
# A participant's page is the "pay" stage until their card is settled.
PAY_STAGE = "pay"


# --- finding things ----------------------------------------------------------------------


def _campaign_or_404(code: str) -> Campaign:
    campaign = service.campaign_by_code(get_session(), code)
    if campaign is None or campaign.state == "rejected":
        abort(404)
    return campaign


def _participant_or_404(campaign: Campaign, token: str) -> Participant:
    participant = page.find_participant(get_session(), campaign, token)
    if participant is None:
        abort(404)
    return participant


def visitor_zone() -> str:
    """The visitor's clock, as far as the server knows it: by their language (the page's
    script shows the browser's own)."""
    locale = locale_name()
    if locale.startswith("zh"):
        return "Asia/Shanghai"
    if locale.startswith("ja"):
        return "Asia/Tokyo"
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC")


def _join_message(error: Exception, locale: str) -> str:
    """A refused join in the visitor's words (read before the rollback)."""
    if isinstance(error, service.OverCapacity):
        if error.left == rules.MAX_PIECES_PER_PARTICIPANT:
            return _("At most %(n)d pieces per person.", n=error.left)
        return ngettext(
            "Only %(num)d more piece fits in this group buy.",
            "Only %(num)d more pieces fit in this group buy.",
            error.left,
        )
    if isinstance(error, service.StockShort):
        variant = error.variant
        product = get_session().get(Product, variant.product_id)
        return _(
            "Only %(n)d left of %(item)s, size %(size)s, %(colour)s.",
            n=error.available,
            item=localized(product, "name", locale) if product else variant.sku,
            size=variant.size,
            colour=colour_name(variant.colour),
        )
    if isinstance(error, service.NothingChosen):
        return _("Choose at least one piece.")
    if isinstance(error, service.NotInCampaign):
        return _("That item is not part of this group buy.")
    if isinstance(error, service.CampaignNotOpen):
        return _("This group buy is not taking orders.")
    if isinstance(error, BadPieces):
        return _("Enter a whole number of pieces from 1 to 9,999.")
    if isinstance(error, PaymentServiceUnavailable):
        return _(
            "Card payments are unavailable right now. Nothing was charged; try again in a minute."
        )
    return _("That could not be done.")


# --- the campaign page -------------------------------------------------------------------


def _new_form(campaign: Campaign, participant: Participant | None = None) -> JoinForm:
    data: dict[str, str | None] = {"request_key": request_keys.new_request_key()}
    if participant is not None:
        data.update(
            email=participant.email,
            recipient=participant.name,
            phone=participant.phone,
            country=participant.country or None,
            region=participant.region,
            city=participant.city,
            line1=participant.line1,
            line2=participant.line2,
            postcode=participant.postcode,
        )
    elif current_user.is_authenticated and not current_user.is_staff:
        data.update(email=current_user.email, recipient=current_user.name or "")
    return JoinForm(formdata=None, data=data, delivery=campaign.delivery)


def _campaign_page(
    campaign: Campaign,
    form: JoinForm,
    *,
    chosen: dict[int, int] | None = None,
    error: str = "",
    status: int = 200,
):
    db = get_session()
    locale = locale_name()
    shown = progress.read_progress(db, campaign)
    items = page.campaign_items(db, campaign, shown, locale)
    return render_template(
        "groupbuys/campaign.html",
        campaign=campaign,
        progress=shown,
        items=items,
        leader=page.leader_first_name(db, campaign),
        left=page.time_left(shown.closes_at, utcnow()),
        zone=visitor_zone(),
        form=form,
        chosen=chosen or {},
        error=error,
        countries=dict(COUNTRIES),
        preview=page.campaign_preview(campaign, items),
        share_url=page.campaign_url(campaign.code),
        refresh_ms=progress.REFRESH_SECONDS * 1000,
        money_format=format_parts(campaign.currency, locale),
        texts=page.script_texts(),
        taking_joins=shown.state == "open" and shown.closes_at and _still_open(shown.closes_at),
    ), status


def _still_open(closes_at: datetime) -> bool:
    return not page.time_left(closes_at, utcnow()).over


@bp.get("/g/<code>")
def campaign_page(code: str):
    campaign = _campaign_or_404(code)
    return _campaign_page(campaign, _new_form(campaign))


@bp.get("/g/<code>/qr.svg")
def campaign_qr(code: str):
    campaign = _campaign_or_404(code)
    response = make_response(qr_svg(page.campaign_url(campaign.code)))
    response.mimetype = "image/svg+xml"
    response.cache_control.public = True
    response.cache_control.max_age = QR_MAX_AGE_SECONDS
    response.add_etag()
    return response.make_conditional(request)


def _progress_store():
    store = current_app.extensions.get("page_store")
    if store is None:
        store = current_app.extensions.get("groupbuy_progress")
        if store is None:
            store = current_app.extensions["groupbuy_progress"] = MemoryStore(LOCAL_PROGRESS_BYTES)
    return store


@bp.get("/g/<code>/progress.json")
def campaign_progress(code: str):
    text = progress.progress_json(
        get_session(), code, _progress_store(), current_app.extensions.get("page_build", "")
    )
    if text is None:
        return jsonify(error="not found"), 404
    response = current_app.response_class(text, mimetype="application/json")
    response.cache_control.no_cache = True
    response.cache_control.max_age = 0
    return response


# --- joining -----------------------------------------------------------------------------


def _reserve_and_start(
    campaign: Campaign, form: JoinForm, pieces: dict[int, int], replaces: Participant | None
):
    """Reserve the pieces and make the card's intent, committed once; the participant's
    page, or the form again with the reason."""
    db = get_session()
    key = form.request_key.data
    earlier = page.by_join_key(db, key)
    if earlier is not None:  # the same form sent again: its participant
        return _to_participant(campaign, earlier)
    locale = locale_name()
    joiner = service.Joiner(
        locale=locale,
        user_id=current_user.id if current_user.is_authenticated else None,
        **form.joiner_fields(),
    )
    try:
        participant = service.reserve(db, campaign, pieces, joiner, join_key=key, replaces=replaces)
        service.start_card(db, campaign, participant, gateway())
        link = external_url(
            "groupbuys.participant_page", code=campaign.code, token=participant.token
        )
        send_after_commit(
            db,
            participant.email,
            _l("Your place in the group buy: %(title)s", title=campaign.title),
            "campaign_joined",
            locale=locale,
            campaign=campaign,
            participant=participant,
            link=link,
        )
        db.commit()
    except IntegrityError:
        db.rollback()  # the same form at the same moment: the other copy made the participant
        earlier = page.by_join_key(db, key)
        if earlier is None:
            raise
        return _to_participant(campaign, earlier)
    except (ShopError, PaymentServiceUnavailable) as error:
        message = _join_message(error, locale)
        db.rollback()
        status = 503 if isinstance(error, PaymentServiceUnavailable) else 409
        if isinstance(error, service.NothingChosen):
            status = 400
        return _form_again(campaign, form, pieces, message, status, replaces)
    return _to_participant(campaign, participant)


def _to_participant(campaign: Campaign, participant: Participant):
    return redirect(url_for(".participant_page", code=campaign.code, token=participant.token), 303)


def _form_again(campaign, form, pieces, message, status, replaces):
    form.request_key.data = request_keys.new_request_key()  # nothing was made: a new try
    if replaces is not None:
        return _participant_page(
            campaign, replaces, change_form=form, chosen=pieces, error=message, status=status
        )
    return _campaign_page(campaign, form, chosen=pieces, error=message, status=status)


def _posted(campaign: Campaign, replaces: Participant | None):
    form = JoinForm(delivery=campaign.delivery)
    try:
        pieces = parse_pieces(request.form)
    except BadPieces as error:
        return None, _form_again(
            campaign, form, {}, _join_message(error, locale_name()), 400, replaces
        )
    if not form.validate_on_submit():
        return None, _form_again(campaign, form, pieces, "", 400, replaces)
    if not pieces:
        message = _join_message(service.NothingChosen(), locale_name())
        return None, _form_again(campaign, form, pieces, message, 400, replaces)
    return (form, pieces), None


def _join_limit() -> str:
    return current_app.config["RATE_LIMIT_GROUP_JOINS"]


def _place_taken(response) -> bool:
    return response.status_code in (302, 303)


@bp.post("/g/<code>/join")
@limiter.limit(_join_limit, deduct_when=_place_taken)
def join_submit(code: str):
    campaign = _campaign_or_404(code)
    posted, refused = _posted(campaign, None)
    if refused is not None:
        return refused
    form, pieces = posted
    return _reserve_and_start(campaign, form, pieces, None)


@bp.post("/g/<code>/p/<token>/change")
def change_submit(code: str, token: str):
    campaign = _campaign_or_404(code)
    participant = _participant_or_404(campaign, token)
    if participant.state not in rules.HOLDING_STATES:
        flash(_("Your place can no longer be changed."), "error")
        return _to_participant(campaign, participant)
    posted, refused = _posted(campaign, participant)
    if refused is not None:
        return refused
    form, pieces = posted
    return _reserve_and_start(campaign, form, pieces, participant)


# --- a participant's page ----------------------------------------------------------------


def _participant_page(
    campaign: Campaign,
    participant: Participant,
    *,
    change_form: JoinForm | None = None,
    chosen: dict[int, int] | None = None,
    error: str = "",
    status: int = 200,
):
    db = get_session()
    locale = locale_name()
    shown = progress.read_progress(db, campaign)
    holding = participant.state in rules.HOLDING_STATES and shown.state == "open"
    items = page.campaign_items(db, campaign, shown, locale) if holding else []
    lines = page.participant_lines(db, participant, locale)
    if chosen is None:
        chosen = {}
        for line in participant.lines:
            chosen[line.variant_id] = line.quantity
    successor = None
    if participant.state == "left":
        successor = page.successor(db, participant)
    return render_template(
        "groupbuys/participant.html",
        campaign=campaign,
        participant=participant,
        progress=shown,
        lines=lines,
        items=items,
        holding=holding,
        successor=successor,
        left=page.time_left(shown.closes_at, utcnow()),
        zone=visitor_zone(),
        form=change_form or _new_form(campaign, participant),
        chosen=chosen,
        error=error,
        countries=dict(COUNTRIES),
        leave_form=EmptyForm(),
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        refresh_ms=progress.REFRESH_SECONDS * 1000,
    ), status


@bp.get("/g/<code>/p/<token>")
def participant_page(code: str, token: str):
    campaign = _campaign_or_404(code)
    return _participant_page(campaign, _participant_or_404(campaign, token))


def _stage(participant: Participant) -> str:
    return PAY_STAGE if participant.state == "pending" else participant.state


@bp.get("/g/<code>/p/<token>/status")
def participant_status(code: str, token: str):
    campaign = _campaign_or_404(code)
    participant = _participant_or_404(campaign, token)
    return jsonify(stage=_stage(participant), state=participant.state)


@bp.post("/g/<code>/p/<token>/card")
def participant_card(code: str, token: str):
    """JSON in, JSON out, as checkout's ``/card``: ``{"payment_method": "pm_…"}``."""
    campaign = _campaign_or_404(code)
    participant = _participant_or_404(campaign, token)
    payload = request.get_json(silent=True)
    method_id = payload.get("payment_method") if isinstance(payload, dict) else None
    if not isinstance(method_id, str) or not PAYMENT_METHOD_ID.fullmatch(method_id):
        return jsonify(status="declined", message=_("Enter your card details.")), 400
    next_url = url_for(".participant_page", code=campaign.code, token=participant.token)
    db = get_session()
    try:
        result = service.card_given(db, campaign, participant, method_id, gateway())
        db.commit()  # a declined card is remembered (its message, a fresh intent)
    except PaymentServiceUnavailable:
        db.rollback()
        message = _(
            "The card payment service did not answer. If your card was accepted, this page "
            "shows it in a moment; otherwise try again."
        )
        return jsonify(status="declined", message=message), 503
    except IntegrityError:
        db.rollback()
        return jsonify(status="in_progress", next=next_url), 409
    message = result.message
    if result.status == "declined" and not message:
        message = _("Your card was declined. Try another card.")
    return jsonify(
        status=result.status,
        client_secret=result.client_secret,
        message=message,
        next=next_url,
    )


@bp.post("/g/<code>/p/<token>/check")
def participant_check(code: str, token: str):
    """After 3-D Secure: ask Stripe how the card ended and settle it (once)."""
    campaign = _campaign_or_404(code)
    participant = _participant_or_404(campaign, token)
    db = get_session()
    try:
        joined = service.check_card(db, campaign, participant, gateway())
        db.commit()
    except PaymentServiceUnavailable:
        db.rollback()
        return jsonify(status="unknown"), 503
    return jsonify(
        status="joined" if joined else _stage(participant),
        next=url_for(".participant_page", code=campaign.code, token=participant.token),
    )


@bp.post("/g/<code>/p/<token>/leave")
def leave_submit(code: str, token: str):
    campaign = _campaign_or_404(code)
    participant = _participant_or_404(campaign, token)
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = get_session()
    back = _to_participant(campaign, participant)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm that you want to leave."), "error")
        return back
    try:
        left = leaving.leave(db, campaign, participant, gateway())
        db.commit()
    except service.CannotLeave:
        db.rollback()
        flash(_("Your place can no longer be changed: the group buy has closed."), "error")
        return back
    except PaymentServiceUnavailable:
        db.rollback()
        flash(
            _("We could not release your card just now; you are still in. Try again in a minute."),
            "error",
        )
        return back
    if left:
        flash(_("You left the group buy. The hold on your card is released."), "success")
    return back
