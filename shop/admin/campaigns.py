"""Group buys in the back office (``/admin/campaigns``), for roles with
``campaigns.manage``: the list (by state), one campaign with its participants (emails
too: this is staff's page) and who has not paid, approving or rejecting a campaign that
waits, approving a campaign's own ladder, and the group-buy programme.

Every change is one rule of ``shop.groupbuys.approval`` or ``shop.groupbuys.program``
(a conditional ``UPDATE`` and its audit row); the view flashes what happened and
redirects. Pressing a button twice, or two staff at once, changes it once.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop import request_keys
from shop.accounts.access import require_permission
from shop.accounts.forms import EmptyForm
from shop.admin.blueprint import bp
from shop.admin.campaign_forms import CampaignProgramForm, new_program_form
from shop.admin.forms import ShipForm
from shop.db import commits, get_session
from shop.groupbuys import approval, leader, service, shipping
from shop.groupbuys.labels import (
    CAMPAIGN_STATE_LABELS,
    DELIVERY_LABELS,
    PARTICIPANT_STATE_LABELS,
    REWARD_LABELS,
)
from shop.groupbuys.models import CAMPAIGN_STATES, Campaign
from shop.groupbuys.program import read_program, update_program
from shop.orders import lifecycle
from shop.pagination import parse_page
from shop.request_keys import new_request_key
from shop.templating import locale_name

PERMISSION = "campaigns.manage"


def _campaign(code: str) -> Campaign:
    campaign = service.campaign_by_code(get_session(), code)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns")
@require_permission(PERMISSION)
def campaign_list():
    db = get_session()
    state = request.args.get("state", "")
    state = state if state in CAMPAIGN_STATES else ""
    return render_template(
        "admin/campaigns.html",
        campaigns=approval.list_campaigns(db, state or None, parse_page(request.args.get("page"))),
        counts=approval.state_counts(db),
        state=state,
        states=CAMPAIGN_STATES,
        state_labels=CAMPAIGN_STATE_LABELS,
    )


@bp.get("/campaigns/<code>")
@require_permission(PERMISSION)
def campaign_detail(code: str):
    db = get_session()
    campaign = _campaign(code)
    return render_template(
        "admin/campaigns_detail.html",
        campaign=campaign,
        progress=leader.progress(db, campaign, locale_name()),
        participants=approval.staff_participants(db, campaign),
        state_labels=CAMPAIGN_STATE_LABELS,
        participant_labels=PARTICIPANT_STATE_LABELS,
        delivery_labels=DELIVERY_LABELS,
        reward_labels=REWARD_LABELS,
        action_form=EmptyForm(),
        ship_form=ShipForm(formdata=None),
        waiting_orders=len(shipping.shippable_orders(db, campaign))
        if campaign.state == "closed" and campaign.delivery == "pickup"
        else 0,
    )


def _act(code: str, rule, done: str, refused: str):
    db = get_session()
    campaign = _campaign(code)
    back = redirect(url_for("admin.campaign_detail", code=campaign.code))
    if not EmptyForm().validate_on_submit():
        flash(_("Nothing was changed: reload the page and try again."), "error")
        return back
    if rule(db, current_user, campaign):
        flash(done, "success")
    else:
        flash(refused, "error")
    return back


@bp.post("/campaigns/<code>/approve")
@commits
@require_permission(PERMISSION)
def campaign_approve(code: str):
    return _act(
        code,
        approval.approve,
        _("The group buy is approved and open."),
        _("The group buy no longer waits for approval."),
    )


@bp.post("/campaigns/<code>/reject")
@commits
@require_permission(PERMISSION)
def campaign_reject(code: str):
    return _act(
        code,
        approval.reject,
        _("The group buy is rejected."),
        _("The group buy no longer waits for approval."),
    )


@bp.post("/campaigns/<code>/ladder")
@commits
@require_permission(PERMISSION)
def campaign_ladder_approve(code: str):
    return _act(
        code,
        approval.approve_ladder,
        _("The group buy's own price ladder is approved."),
        _("There is no ladder waiting for approval."),
    )


@bp.post("/campaigns/<code>/ship")
@require_permission(PERMISSION)
def campaign_ship(code: str):
    """One parcel to the pick-up point: every waiting order of the campaign shipped with
    the same carrier and tracking number (``shop.groupbuys.shipping``)."""
    db = get_session()
    campaign = _campaign(code)
    back = redirect(url_for("admin.campaign_detail", code=campaign.code))
    form = ShipForm()
    if not form.validate_on_submit():
        flash(_("Check the shipment: some fields are too long."), "error")
        return back
    try:
        outcome = shipping.ship_campaign(
            db,
            campaign,
            carrier=form.carrier.data or "",
            tracking_number=form.tracking_number.data or "",
            custom_carrier=form.custom_carrier.data or "",
            actor_user_id=current_user.id,
        )
    except lifecycle.InvalidShipment:
        db.rollback()
        flash(_("Choose the carrier and enter the tracking number."), "error")
        return back
    except shipping.NotShippable:
        db.rollback()
        flash(
            _("Only a closed group buy to a pick-up point ships as one parcel."),
            "error",
        )
        return back
    db.commit()
    if outcome.shipped:
        flash(
            _(
                "Shipped %(count)s orders in one parcel; each participant has the tracking link.",
                count=len(outcome.shipped),
            ),
            "success",
        )
    else:
        flash(_("Nothing left to ship: every order of this group buy has left."), "success")
    return back


def _program_page(form: CampaignProgramForm, status: int = 200):
    return render_template("admin/campaigns_program.html", form=form), status


@bp.get("/campaigns/program")
@require_permission(PERMISSION)
def campaign_program():
    return _program_page(new_program_form(read_program(get_session()), new_request_key()))


@bp.post("/campaigns/program")
@commits
@require_permission(PERMISSION)
def campaign_program_submit():
    db = get_session()
    form = CampaignProgramForm()
    if not form.validate_on_submit():
        return _program_page(form, 400)
    try:
        if request_keys.claim(db, "groupbuy_program", form.request_key.data):
            update_program(db, current_user, form.values())
    except IntegrityError:  # the same form at the same moment: the other one saved it
        db.rollback()
    flash(_("The group-buy programme is saved."), "success")
    return redirect(url_for("admin.campaign_program"))
