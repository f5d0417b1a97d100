"""The leader's pages (``/account/campaigns…``): their campaigns, opening one, one
campaign's progress and participants, closing it early, and its packing list.

Any signed-in customer may lead (resellers and school admins too). Only the leader, and
staff who manage campaigns, open a campaign's leader page; the packing list also opens
for the staff who pack. Anyone else gets a 404, as for a campaign that does not exist.
The views parse, call one rule of ``shop.groupbuys`` and commit (``@commits``).
"""

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from shop import request_keys
from shop.accounts.access import require_login
from shop.accounts.forms import EmptyForm
from shop.db import as_utc, commits, get_session, utcnow
from shop.groupbuys import leader, rules, service
from shop.groupbuys.labels import (
    CAMPAIGN_STATE_LABELS,
    DELIVERY_LABELS,
    PARTICIPANT_STATE_LABELS,
)
from shop.groupbuys.leader_forms import CURRENCY_ZONES, CampaignForm
from shop.groupbuys.models import Campaign
from shop.groupbuys.program import read_program
from shop.jobs.periodic import close_campaign
from shop.jobs.queue import enqueue_after_commit
from shop.locales import column_language
from shop.request_keys import new_request_key
from shop.templating import locale_name

bp = Blueprint("campaigns", __name__, url_prefix="/account/campaigns")
SHORT_LOCALES = {"en": "en", "zh": "zh_CN", "ja": "ja"}


def zone_of(campaign: Campaign) -> str:
    """The zone a campaign's times are shown in: its currency's market's."""
    return CURRENCY_ZONES.get(campaign.currency, "UTC")


def time_left(campaign: Campaign, now: datetime) -> str:
    """``"3 days"`` until an open campaign closes; ``""`` for any other."""
    closes_at = as_utc(campaign.closes_at)
    if campaign.state not in ("open", "pending_approval") or closes_at <= now:
        return ""
    return format_timedelta(closes_at - now, threshold=1.1)


def _campaign_for(code: str, may) -> Campaign:
    campaign = service.campaign_by_code(get_session(), code)
    if campaign is None or not may(current_user, campaign):
        abort(404)
    return campaign


@bp.get("")
@require_login
def campaign_list():
    db = get_session()
    now = utcnow()
    campaigns = leader.list_led(db, current_user.id)
    return render_template(
        "groupbuys/leader_list.html",
        campaigns=campaigns,
        time_left={campaign.id: time_left(campaign, now) for campaign in campaigns},
        zones={campaign.id: zone_of(campaign) for campaign in campaigns},
        state_labels=CAMPAIGN_STATE_LABELS,
    )


def _new_page(form: CampaignForm, status: int = 200):
    db = get_session()
    query = request.args.get("q", "")[:100]
    choices = leader.list_choices(db, current_user, locale_name(), query)
    form.products.choices = [(choice.id, choice.name) for choice in choices]
    return render_template(
        "groupbuys/leader_new.html",
        form=form,
        choices=choices,
        query=query,
        chosen=set(form.products.data or ()),
        requires_approval=read_program(db).require_approval,
        hold_days=rules.HOLD_LIMIT.days,
    ), status


@bp.get("/new")
@require_login
def campaign_new():
    currency = request.args.get("currency", "CNY")
    form = CampaignForm(
        formdata=None,
        currency=currency if currency in CURRENCY_ZONES or currency == "USD" else "CNY",
        time_zone=CURRENCY_ZONES.get(currency, "Asia/Shanghai"),
        request_key=new_request_key(),
    )
    return _new_page(form)


@bp.post("/new")
@commits
@require_login
def campaign_new_submit():
    db = get_session()
    form = CampaignForm()
    if not form.validate_on_submit():
        return _new_page(form, 400)
    short_locale = SHORT_LOCALES.get(column_language(locale_name()), "en")
    try:
        if not request_keys.claim(db, "campaign_new", form.request_key.data):
            flash(_("Your group buy is open already."), "success")
            return redirect(url_for("campaigns.campaign_list"))
        campaign = leader.create_campaign(db, current_user, form.draft(short_locale))
    except leader.CampaignRefused as refused:
        db.rollback()
        form.show_problems(refused)
        return _new_page(form, 400)
    except IntegrityError:  # the same form at the same moment: the other one opened it
        db.rollback()
        return redirect(url_for("campaigns.campaign_list"))
    if campaign.state == "pending_approval":
        flash(_("Your group buy is saved. It opens once the factory approves it."), "success")
    else:
        flash(_("Your group buy is open: share its link."), "success")
    return redirect(url_for("campaigns.campaign_detail", code=campaign.code))


@bp.get("/<code>")
@require_login
def campaign_detail(code: str):
    db = get_session()
    campaign = _campaign_for(code, leader.may_lead_page)
    locale = locale_name()
    now = utcnow()
    return render_template(
        "groupbuys/leader_detail.html",
        campaign=campaign,
        progress=leader.progress(db, campaign, locale),
        participants=leader.leader_participants(db, campaign, locale),
        can_close=rules.can_close_early(campaign.state, campaign.pieces, campaign.min_pieces)
        and as_utc(campaign.closes_at) > now,
        close_form=EmptyForm(),
        time_left=time_left(campaign, now),
        zone=zone_of(campaign),
        state_labels=CAMPAIGN_STATE_LABELS,
        participant_labels=PARTICIPANT_STATE_LABELS,
        delivery_labels=DELIVERY_LABELS,
    )


@bp.post("/<code>/close")
@commits
@require_login
def campaign_close(code: str):
    db = get_session()
    campaign = _campaign_for(code, leader.may_lead_page)
    back = redirect(url_for("campaigns.campaign_detail", code=campaign.code))
    if not EmptyForm().validate_on_submit():
        flash(_("Nothing was changed: reload the page and try again."), "error")
        return back
    if service.request_close_early(db, campaign):
        enqueue_after_commit(db, close_campaign, campaign.id, key=f"close-campaign:{campaign.id}")
        flash(_("The group buy closes within a minute; everyone will hear the result."), "success")
        return back
    db.refresh(campaign)
    if campaign.closed_early or campaign.state != "open":
        flash(_("The group buy is closing already."), "success")
    else:
        flash(_("The group buy can close early once it reaches its minimum."), "error")
    return back


@bp.get("/<code>/packing")
@require_login
def campaign_packing(code: str):
    db = get_session()
    campaign = _campaign_for(code, leader.may_see_packing)
    return render_template(
        "groupbuys/leader_packing.html",
        campaign=campaign,
        participants=leader.leader_participants(
            db, campaign, locale_name(), states=leader.PACKED_STATES
        ),
        participant_labels=PARTICIPANT_STATE_LABELS,
    )
