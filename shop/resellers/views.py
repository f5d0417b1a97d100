"""The reseller's pages (``/account/window…``: apply, profile, picks, collections) and
the public window (``/w/<handle>``, ``/w/<handle>/c/<slug>``).

The views parse a form, call one rule of ``shop.resellers.service`` or
``shop.resellers.picks``, commit and redirect; a refused action is a flash (or the form
again, with each field's reason, and status 400). Only the reseller sees their own pages;
staff accounts do not open windows. A window is public only while it is approved.
"""

import dataclasses

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session

from shop import images as image_store
from shop import request_keys
from shop.accounts.access import require_login
from shop.accounts.forms import EmptyForm
from shop.catalog.listing import ListingQuery, list_products
from shop.catalog.search import clean_text
from shop.db import commits, get_session
from shop.exceptions import ShopError
from shop.extensions import limiter
from shop.i18n import current_currency
from shop.inputs import parse_id
from shop.pagecache.changes import CATALOGUE, WINDOWS
from shop.pagecache.pages import cached_page
from shop.pagination import parse_page
from shop.position_forms import MoveForm
from shop.resellers import marking, picks, rules, service, sharing
from shop.resellers.forms import (
    ApplyForm,
    CollectionAddForm,
    CollectionForm,
    NoteForm,
    PickAddForm,
    ProfileForm,
    RenameForm,
)
from shop.resellers.labels import STATUS_LABELS
from shop.resellers.models import Reseller, WindowProfile
from shop.resellers.program import terms as window_terms_row
from shop.resellers.slip_forms import new_slip_form
from shop.storage import StorageError, get_storage
from shop.templating import GRIDS, cached_fragment

bp = Blueprint("resellers", __name__)
# Every page of the shop: a window's page or a ``?via=`` link marks the visitor.
bp.before_app_request(marking.note_window_visit)
bp.after_app_request(marking.keep_window_mark)

SEARCH_PAGE_SIZE = 24
# The forms that may carry an avatar: their body may be as large as an image upload.
AVATAR_ENDPOINTS = frozenset({"resellers.apply_submit", "resellers.profile_submit"})

REFUSALS = {
    service.AlreadyApplied: _l("You have applied for a window already."),
    service.HandleTaken: _l("Another window already uses this name."),
    service.NotEditable: _l("Your window is suspended or closed: it cannot be changed now."),
    picks.NotApproved: _l("Your window can show products once the factory has approved it."),
    picks.ProductNotAvailable: _l("That product is not on sale in the catalogue."),
    picks.AlreadyPicked: _l("That product is in your window already."),
    picks.TooManyPicks: _l(
        "Your window holds %(n)d products, as many as it can.", n=rules.MAX_PICKS
    ),
    picks.PickGone: _l("That product is no longer in your window."),
    picks.CollectionSlugTaken: _l("Another of your collections already uses this address."),
    picks.TooManyCollections: _l(
        "Your window has %(n)d collections, as many as it can.", n=rules.MAX_COLLECTIONS
    ),
    picks.CollectionGone: _l("That collection was deleted."),
}


def _describe(error: ShopError) -> str:
    return str(REFUSALS.get(type(error), _l("That could not be done.")))


@bp.url_value_preprocessor
def _upload_limit(endpoint, values):
    """Before the CSRF check reads the body: the forms with an avatar take an image."""
    if endpoint in AVATAR_ENDPOINTS:
        request.max_content_length = image_store.MAX_REQUEST_BYTES


def _find_window(db: Session) -> Reseller | None:
    """The signed-in account's window, if it has one; staff accounts have none (403)."""
    if current_user.is_staff:
        abort(403)
    return service.get_reseller_for_user(db, current_user.id)


def _own_window(db: Session) -> Reseller:
    """The signed-in account's window; a 404 when it has none."""
    reseller = _find_window(db)
    if reseller is None:
        abort(404)
    return reseller


def _home(anchor: str = "") -> str:
    return url_for("resellers.window_home") + anchor


def _refused(db: Session, error: ShopError, target: str):
    """A refused action: nothing it began is kept; the reason is flashed."""
    db.rollback()
    flash(_describe(error), "error")
    return redirect(target)


def _thumb(path: str | None) -> str | None:
    return image_store.thumbnail_path(path) if path else None


# --- applying ----------------------------------------------------------------------------


def _apply_page(form: ApplyForm, status: int = 200):
    return render_template(
        "resellers/apply.html",
        form=form,
        terms_version=current_app.config["RESELLER_TERMS_VERSION"],
    ), status


@bp.get("/account/window")
@require_login
def window_home():
    db = get_session()
    reseller = _find_window(db)
    if reseller is None:
        return _apply_page(ApplyForm(formdata=None))
    return _manage_page(db, reseller)


def _store_avatar(form: ProfileForm) -> tuple[str | None, int]:
    """The uploaded avatar stored (``shop.images``, as product images are): ``(path,
    200)``; ``(None, status)`` with the reason on the form."""
    try:
        stored = image_store.store_upload(
            form.avatar.data.stream, get_storage(), service.AVATAR_FOLDER
        )
    except image_store.ImageRefused as refused:
        form.avatar.errors = [str(refused)]
        return None, 400
    except StorageError as failure:
        current_app.logger.error("reseller avatar: the store failed: %s", failure)
        form.avatar.errors = [_("The image could not be stored just now; try again shortly.")]
        return None, 503
    return stored.path, 200


@bp.post("/account/window/apply")
@commits
@require_login
def apply_submit():
    db = get_session()
    if _find_window(db) is not None:
        return _refused(db, service.AlreadyApplied(), _home())
    form = ApplyForm()
    if not form.validate_on_submit():
        return _apply_page(form, 400)
    avatar_path = None
    if form.has_avatar():
        avatar_path, status = _store_avatar(form)
        if avatar_path is None:
            return _apply_page(form, status)
    application = service.Application(
        handle=form.handle.data, avatar_path=avatar_path, **form.profile_values()
    )
    auto_approve = current_app.config["RESELLER_AUTO_APPROVE"]
    try:
        service.apply_for_window(
            db,
            current_user,
            application,
            terms_version=current_app.config["RESELLER_TERMS_VERSION"],
            auto_approve=auto_approve,
        )
    except service.AlreadyApplied as error:
        return _refused(db, error, _home())
    except service.HandleTaken as error:
        db.rollback()
        form.handle.errors = [_describe(error)]
        return _apply_page(form, 400)
    except sa.exc.IntegrityError:  # the same application at the same moment, or the name
        db.rollback()
        if service.get_reseller_for_user(db, current_user.id) is not None:
            return _refused(db, service.AlreadyApplied(), _home())
        form.handle.errors = [_describe(service.HandleTaken())]
        return _apply_page(form, 400)
    if auto_approve:
        flash(_("Your window is open. Add the products you want to show."), "success")
    else:
        flash(_("Thank you for applying. The factory will look at your window soon."), "success")
    return redirect(_home())


# --- the reseller's own page -------------------------------------------------------------


def _manage_page(db: Session, reseller: Reseller, status: int = 200, profile_form=None):
    page, own = picks.list_own_picks(db, reseller, parse_page(request.args.get("page")))
    collections = picks.list_collections(db, reseller)
    if profile_form is None:
        profile_form = ProfileForm(
            formdata=None,
            display_name=reseller.display_name,
            bio=reseller.bio,
            links="\n".join(reseller.social_links or []),
            request_key=request_keys.new_request_key(),
        )
    approved = reseller.status == "approved"
    share = None
    if approved:  # only an approved window's links open
        share = sharing.share_links(
            reseller, [each.slug for each in collections], [pick.slug for pick in own]
        )
    return render_template(
        "resellers/manage.html",
        reseller=reseller,
        share=share,
        status_label=STATUS_LABELS[reseller.status],
        approved=approved,
        editable=reseller.status in service.EDITABLE,
        avatar=_thumb(reseller.avatar_path),
        profile_form=profile_form,
        picks=own,
        page=page,
        collections=collections,
        note_form=NoteForm(formdata=None),
        collection_form=CollectionForm(formdata=None, request_key=request_keys.new_request_key()),
        empty_form=EmptyForm(formdata=None),
        move_key=request_keys.new_request_key(),
        slip_form=new_slip_form(window_terms_row(db, reseller.id)),
    ), status


@bp.post("/account/window/profile")
@require_login
def profile_submit():
    db = get_session()
    reseller = _own_window(db)
    form = ProfileForm()
    if not form.validate_on_submit():
        return _manage_page(db, reseller, 400, profile_form=form)
    previous = None
    try:
        # The key first: a repeat of the form neither saves nor stores its avatar again.
        if request_keys.claim(db, f"profile:{reseller.id}", form.request_key.data):
            service.update_profile(db, current_user, reseller, form.profile_values())
            if form.has_avatar():
                path, status = _store_avatar(form)
                if path is None:
                    db.rollback()
                    return _manage_page(db, reseller, status, profile_form=form)
                previous = service.set_avatar(db, current_user, reseller, path)
        db.commit()  # the new row first: an orphan file is harmless, a missing one is not
    except service.NotEditable as error:
        return _refused(db, error, _home())
    except sa.exc.IntegrityError:  # the same form at the same moment: the other saved it
        db.rollback()
    if previous:
        image_store.remove_files(db, get_storage(), previous, service.AVATAR_FOLDER)
    flash(_("Your window's profile is saved."), "success")
    return redirect(_home())


@bp.get("/account/window/add")
@require_login
def pick_search():
    """The catalogue's own search, with an "Add to my window" button on each product."""
    db = get_session()
    reseller = _own_window(db)
    max_q = current_app.config["SEARCH_MAX_LENGTH"]
    q = clean_text(request.args.get("q"), max_q)
    listing = list_products(
        db,
        ListingQuery(q=q, page=parse_page(request.args.get("page"))),
        currency=current_currency(),
        locale=str(get_locale()),
        per_page=SEARCH_PAGE_SIZE,
        max_q_length=max_q,
    )
    return render_template(
        "resellers/add.html",
        reseller=reseller,
        approved=reseller.status == "approved",
        listing=listing,
        q=q,
        add_form=PickAddForm(formdata=None),
    )


@bp.post("/account/window/picks")
@commits
@require_login
def pick_add():
    db = get_session()
    reseller = _own_window(db)
    form = PickAddForm()
    q = clean_text(form.q.data, current_app.config["SEARCH_MAX_LENGTH"])
    back = url_for("resellers.pick_search", q=q) if q else _home("#picks")
    if not form.validate_on_submit():
        return _refused(db, picks.ProductNotAvailable(), back)
    try:
        picks.add_pick(db, reseller, form.slug.data)
    except ShopError as error:
        return _refused(db, error, back)
    flash(_("Added to your window."), "success")
    return redirect(back)


def _pick_action(pick_id: int, act, done: str | None = None, form_class=EmptyForm):
    """A button on one of the reseller's picks: ``act(db, reseller, form)`` runs the rule."""
    db = get_session()
    reseller = _own_window(db)
    form = form_class()
    if not form.validate_on_submit():
        flash(_("Check the form and try again."), "error")
        return redirect(_home("#picks"))
    try:
        act(db, reseller, form)
    except ShopError as error:
        return _refused(db, error, _home("#picks"))
    except sa.exc.IntegrityError:  # the same form at the same moment: the other did it
        db.rollback()
    if done:
        flash(done, "success")
    return redirect(_home(f"#pick-{pick_id}"))


@bp.post("/account/window/picks/<int:pick_id>/move")
@commits
@require_login
def pick_move(pick_id: int):
    def act(db, reseller, form):
        if request_keys.claim(db, f"pick-move:{pick_id}", form.request_key.data):
            picks.move_pick(db, reseller, pick_id, form.direction.data)

    return _pick_action(pick_id, act, form_class=MoveForm)


@bp.post("/account/window/picks/<int:pick_id>/note")
@commits
@require_login
def pick_note(pick_id: int):
    return _pick_action(
        pick_id,
        lambda db, reseller, form: picks.set_pick_note(db, reseller, pick_id, form.note.data),
        _("Note saved."),
        form_class=NoteForm,
    )


@bp.post("/account/window/picks/<int:pick_id>/remove")
@commits
@require_login
def pick_remove(pick_id: int):
    return _pick_action(
        pick_id,
        lambda db, reseller, form: picks.remove_pick(db, reseller, pick_id),
        _("Removed from your window."),
    )


@bp.post("/account/window/picks/<int:pick_id>/collection")
@commits
@require_login
def pick_to_collection(pick_id: int):
    def act(db, reseller, form):
        collection_id = parse_id(form.collection_id.data)
        if collection_id is None:
            raise picks.CollectionGone()
        if not picks.add_to_collection(db, reseller, collection_id, pick_id):
            flash(_("That product is in the collection already."))

    return _pick_action(pick_id, act, form_class=CollectionAddForm)


# --- collections -------------------------------------------------------------------------


@bp.post("/account/window/collections")
@commits
@require_login
def collection_create():
    db = get_session()
    reseller = _own_window(db)
    form = CollectionForm()
    if not form.validate_on_submit():
        flash(
            _("Check the collection's title and address: %(reasons)s", reasons=_errors(form)),
            "error",
        )
        return redirect(_home("#collections"))
    try:
        if request_keys.claim(db, f"collection:{reseller.id}", form.request_key.data):
            picks.create_collection(db, reseller, form.title.data, form.slug.data or "")
    except ShopError as error:
        return _refused(db, error, _home("#collections"))
    except sa.exc.IntegrityError:  # the same form at the same moment: the other made it
        db.rollback()
    flash(_("Collection created."), "success")
    return redirect(_home("#collections"))


def _errors(form) -> str:
    return " ".join(str(error) for field in form for error in field.errors)


def _own_collection(db: Session, reseller: Reseller, collection_id: int):
    collection = db.get(picks.ResellerCollection, collection_id)
    if collection is None or collection.reseller_id != reseller.id:
        abort(404)
    return collection


@bp.get("/account/window/collections/<int:collection_id>")
@require_login
def collection_edit(collection_id: int):
    db = get_session()
    reseller = _own_window(db)
    collection = _own_collection(db, reseller, collection_id)
    return render_template(
        "resellers/collection.html",
        reseller=reseller,
        collection=collection,
        approved=reseller.status == "approved",
        items=picks.list_collection_items(db, reseller, collection),
        rename_form=RenameForm(formdata=None, title=collection.title),
        empty_form=EmptyForm(formdata=None),
        move_key=request_keys.new_request_key(),
    )


def _collection_action(collection_id: int, act, done: str | None, form_class=EmptyForm):
    db = get_session()
    reseller = _own_window(db)
    back = url_for("resellers.collection_edit", collection_id=collection_id)
    form = form_class()
    if not form.validate_on_submit():
        flash(_("Check the form and try again: %(reasons)s", reasons=_errors(form)), "error")
        return redirect(back)
    try:
        back = act(db, reseller, form) or back
    except ShopError as error:
        return _refused(db, error, _home("#collections"))
    except sa.exc.IntegrityError:  # the same form at the same moment: the other did it
        db.rollback()
    if done:
        flash(done, "success")
    return redirect(back)


@bp.post("/account/window/collections/<int:collection_id>/rename")
@commits
@require_login
def collection_rename(collection_id: int):
    return _collection_action(
        collection_id,
        lambda db, reseller, form: picks.rename_collection(
            db, reseller, collection_id, form.title.data
        ),
        _("Collection renamed."),
        form_class=RenameForm,
    )


@bp.post("/account/window/collections/<int:collection_id>/delete")
@commits
@require_login
def collection_delete(collection_id: int):
    def act(db, reseller, form):
        picks.delete_collection(db, reseller, collection_id)
        return _home("#collections")

    return _collection_action(collection_id, act, _("Collection deleted."))


@bp.post("/account/window/collections/<int:collection_id>/items/<int:item_id>/move")
@commits
@require_login
def collection_item_move(collection_id: int, item_id: int):
    def act(db, reseller, form):
        if request_keys.claim(db, f"collection-item-move:{item_id}", form.request_key.data):
            picks.move_in_collection(db, reseller, collection_id, item_id, form.direction.data)

    return _collection_action(collection_id, act, None, form_class=MoveForm)


@bp.post("/account/window/collections/<int:collection_id>/items/<int:item_id>/remove")
@commits
@require_login
def collection_item_remove(collection_id: int, item_id: int):
    return _collection_action(
        collection_id,
        lambda db, reseller, form: picks.remove_from_collection(
            db, reseller, collection_id, item_id
        ),
        _("Removed from the collection."),
    )


# --- the public window -------------------------------------------------------------------


def _approved_window(handle: str) -> WindowProfile:
    """The approved window at ``handle`` as its pages show it; a 404 for any other (no
    query for a handle no window can have; none either when the visitor's mark looked it
    up already: the lookup reads the profile too)."""
    if rules.handle_problem(handle) is not None:
        abort(404)
    found = marking.approved_window_at(handle)
    if found is None:
        abort(404)
    return found.profile


def _window_and_picks(db: Session, handle: str) -> tuple[WindowProfile, picks.WindowPage]:
    """The approved window at ``handle`` (else a 404) and the page of its picks asked
    for, with its collections. Unless this request looked the window up already (the
    page cache's key needs its prices first), the window is read with its picks: one
    round trip on PostgreSQL."""
    currency, locale = current_currency(), str(get_locale())
    number = parse_page(request.args.get("page"))
    looked_up, found = marking.looked_up_window(handle)
    if looked_up:
        if found is None:
            abort(404)
        shown = picks.window_picks(
            db, found.profile, page=number, currency=currency, locale=locale, with_collections=True
        )
        return found.profile, shown
    rows, shown = picks.window_picks_at(
        db, handle, marking.WINDOW_AT, page=number, currency=currency, locale=locale
    )
    found = marking.window_found(handle, rows)
    if found is None:
        abort(404)
    return found.profile, shown


def _render_window(
    db: Session, reseller: WindowProfile, collection=None, shown: picks.WindowPage | None = None
) -> str:
    """A window's page (``shown``: its picks, read already), or a collection's."""
    currency, locale = current_currency(), str(get_locale())
    own_prices = marking.pricing_window() is not None
    if shown is None:
        # With the window's collections: one round trip for both on PostgreSQL.
        shown = picks.collection_picks(
            db,
            reseller,
            collection,
            page=parse_page(request.args.get("page")),
            currency=currency,
            locale=locale,
            with_collections=True,
        )
    cards = marking.window_cards(shown.cards, currency)  # the same list at the factory's
    if cards is not shown.cards:
        shown = dataclasses.replace(shown, cards=cards)
    return render_template(
        "resellers/window.html",
        reseller=reseller,
        collection=collection,
        window=shown,
        header=_window_header(reseller, collection, shown.collections or [], own_prices),
        grid=_window_grid(shown),
        preview=_window_preview(reseller, collection, shown.cards),
    )


def _collection_key(collection) -> tuple | None:
    """What a window's page shows of the collection it is on (``None``: the whole window)."""
    return None if collection is None else (collection.id, collection.slug, collection.title)


# A window's header and link preview are kept beside its grid (``GRIDS``): a window's page
# is three entries there, and many windows never push the listing's menus out.


def _window_header(
    reseller: WindowProfile, collection, collections: list[picks.CollectionRow], own_prices: bool
) -> Markup:
    """The window's header (its profile, the prices it sells at) and its collections'
    menu, rendered once per process for as long as they read the same: kept by the
    profile, the collection shown and the window's collections, whether the visitor sees
    the window's own prices, and the links' root."""
    key = (
        request.script_root,
        reseller,
        _collection_key(collection),
        tuple(collections),
        own_prices,
    )
    return cached_fragment(
        "resellers/_window_header.html",
        key,
        lambda: {
            "reseller": reseller,
            "avatar": _thumb(reseller.avatar_path),
            "collection": collection,
            "collections": collections,
            "own_prices": own_prices,
        },
        kept=GRIDS,
    )


def _window_preview(reseller: WindowProfile, collection, cards: list) -> Markup:
    """The page's link preview tags (``sharing.window_preview``), rendered once per process
    for as long as they read the same: kept by the profile, the collection shown and the
    picture (the avatar, else the page's first product picture). Its links are on
    ``SHOP_BASE_URL``, the app's own (each app keeps its own fragments)."""
    picture = reseller.avatar_path or next(
        (card.image_path for card in cards if card.image_path), None
    )
    key = (reseller, _collection_key(collection), picture)
    return cached_fragment(
        "resellers/_window_preview.html",
        key,
        lambda: {"preview": sharing.window_preview(reseller, collection, cards)},
        kept=GRIDS,
    )


def _window_grid(shown: picks.WindowPage) -> Markup:
    """The page's cards with their notes, rendered once per process for as long as they
    read the same: kept by the cards themselves (each at the price this visitor sees) and
    the notes, so a changed price, pick or note shows on the next request."""
    cards, notes = shown.cards, shown.notes
    key = (request.script_root, tuple(cards), tuple(notes.items()))
    return cached_fragment(
        "resellers/_window_grid.html", key, lambda: {"cards": cards, "notes": notes}, kept=GRIDS
    )


# A window's pages are cached as the catalogue's are (shop.pagecache), by path and query,
# language, currency and the versions of what they show: the catalogue's products and
# prices, and every window's profile, picks and collections (``WINDOWS``). A page of an
# unknown or hidden window is a 404, never stored. No rate limit, as the catalogue's
# pages: a hit is served in front of Flask (``shop.pagecache.fastpath``).
WINDOW_VERSIONS = [CATALOGUE, WINDOWS]


@bp.get("/w/<handle>")
@limiter.exempt
def window(handle: str):
    if handle != handle.lower():
        return redirect(url_for("resellers.window", handle=handle.lower()), 301)
    if rules.handle_problem(handle) is not None:
        abort(404)

    def render() -> str:
        db = get_session()
        reseller, shown = _window_and_picks(db, handle)
        return _render_window(db, reseller, shown=shown)

    return cached_page(WINDOW_VERSIONS, render)


@bp.get("/w/<handle>/c/<slug>")
@limiter.exempt
def window_collection(handle: str, slug: str):
    if handle != handle.lower() or slug != slug.lower():
        target = url_for("resellers.window_collection", handle=handle.lower(), slug=slug.lower())
        return redirect(target, 301)
    if rules.handle_problem(handle) is not None or len(slug) > rules.COLLECTION_SLUG_MAX_LENGTH:
        abort(404)

    def render() -> str:
        db = get_session()
        reseller = _approved_window(handle)
        collection = picks.get_collection(db, reseller, slug)
        if collection is None:
            abort(404)
        return _render_window(db, reseller, collection)

    return cached_page(WINDOW_VERSIONS, render)
