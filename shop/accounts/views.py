"""Register, sign in and out, reset a password, and the account page."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from flask_login.config import COOKIE_NAME

from shop.accounts import service, tokens
from shop.accounts.access import require_login
from shop.accounts.forms import (
    COUNTRIES,
    AddressForm,
    EmailChangeForm,
    EmptyForm,
    LoginForm,
    NewPasswordForm,
    NotificationsForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    ResetRequestForm,
)
from shop.cart import service as cart_service
from shop.db import commits, get_session
from shop.extensions import limiter
from shop.links import external_url
from shop.mail import send_after_commit
from shop.orders.access import SESSION_KEY as ORDERS_SESSION_KEY
from shop.urls import safe_next_path

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _address_limit() -> str:
    return current_app.config["RATE_LIMIT_PER_ADDRESS"]


def _account_limit() -> str:
    return current_app.config["RATE_LIMIT_PER_ACCOUNT"]


def _login_account_key() -> str:
    """Wrong passwords are counted per account AND address: whoever guesses at an
    account from one address cannot lock its holder out of their own devices. (The
    per-address limit still caps every address over all accounts.)"""
    raw = request.form.get("email", "")
    try:
        account = service.normalise_email(raw).casefold()
    except service.InvalidEmail:
        account = raw.strip().casefold()[:254]
    return f"login:{get_remote_address()}:{account}"


def _login_failed(response) -> bool:
    return g.get("login_failed", False)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def sign_in(user, remember: bool = False) -> None:
    """Start a fresh session for ``user``: nothing from before survives (no fixation)
    but the language and currency choice and the orders this browser placed or tracked;
    the guest's cart joins the account's."""
    kept = ("locale", "currency", ORDERS_SESSION_KEY)
    preferences = {key: session[key] for key in kept if key in session}
    db = get_session()
    guest_cart = cart_service.get_cart(db, user_id=None, token=session.get("cart"))
    session.clear()
    session.update(preferences)
    login_user(user, remember=remember)
    cart = cart_service.merge_carts(db, guest_cart, user.id)
    session["cart_count"] = cart_service.item_count(cart)


@bp.get("/register")
def register():
    return render_template("accounts/register.html", form=RegisterForm())


@bp.post("/register")
@commits
@limiter.limit(_address_limit, methods=["POST"])
def register_submit():
    form = RegisterForm()
    if not form.validate_on_submit():
        return render_template("accounts/register.html", form=form), 400
    db = get_session()
    email = service.normalise_email(form.email.data)
    user = service.register_user(db, email=email, password=form.password.data, name=form.name.data)
    if user is not None:
        link = external_url("accounts.confirm", token=service.confirm_email_token(_secret(), user))
        send_after_commit(
            db, email, _("Welcome to Sourcefront"), "account_confirm", user=user, link=link
        )
    else:
        link = external_url("accounts.reset")
        send_after_commit(
            db, email, _("You already have a Sourcefront account"), "account_exists", link=link
        )
    flash(
        _("Check your inbox: we sent a message to %(email)s to continue.", email=email), "success"
    )
    return redirect(url_for("accounts.login"))


@bp.get("/confirm/<token>")
def confirm(token: str):
    """The link in the welcome email opens a page with one button: opening a link (or a
    mail scanner fetching it) changes nothing."""
    return render_template(
        "accounts/confirm_link.html",
        form=EmptyForm(),
        action=url_for("accounts.confirm_submit", token=token),
        button=_("Confirm my email address"),
    )


@bp.post("/confirm/<token>")
def confirm_submit(token: str):
    db = get_session()
    try:
        user = service.confirm_email(db, _secret(), token)
    except tokens.InvalidToken:
        flash(_("That link has expired or was already used."), "error")
        return redirect(url_for("accounts.login"))
    if not current_user.is_authenticated and user.active:
        sign_in(user)
    db.commit()
    flash(_("Your email address is confirmed."), "success")
    return redirect(url_for("accounts.account"))


@bp.get("/login")
def login():
    form = LoginForm(next=safe_next_path(request.args.get("next"), default=""))
    return render_template("accounts/login.html", form=form)


@bp.post("/login")
@commits
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(
    _account_limit, methods=["POST"], key_func=_login_account_key, deduct_when=_login_failed
)
def login_submit():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 400
    user = service.authenticate(get_session(), form.email.data, form.password.data)
    if user is None:
        g.login_failed = True
        flash(_("That email and password do not match an account."), "error")
        return render_template("accounts/login.html", form=form), 401
    sign_in(user, remember=form.remember.data)
    flash(_("Welcome back, %(name)s.", name=user.name or user.email), "success")
    if user.is_staff:
        default = url_for("admin.dashboard")
    elif user.role == "school_admin":
        default = url_for("schools.admin_home")  # on to their school's dashboard
    else:
        default = url_for("accounts.account")
    return redirect(safe_next_path(form.next.data, default=default))


@bp.post("/logout")
@commits
def logout():
    """Sign out, and end the account's sessions everywhere: a session or remember-me
    cookie copied from this browser must not outlive the sign-out (see README)."""
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            service.end_sessions(get_session(), current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("You are signed out."), "success")
    return redirect(url_for("catalog.home"))


@bp.post("/sign-out-everywhere")
@commits
@require_login
def sign_out_everywhere():
    if not EmptyForm().validate_on_submit():
        abort(400)
    service.end_sessions(get_session(), current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out on every device, this one included."), "success")
    return redirect(url_for("accounts.login"))


@bp.get("/reset")
def reset():
    return render_template("accounts/reset_request.html", form=ResetRequestForm())


@bp.post("/reset")
@commits
@limiter.limit(_address_limit, methods=["POST"])
def reset_submit():
    form = ResetRequestForm()
    if not form.validate_on_submit():
        return render_template("accounts/reset_request.html", form=form), 400
    email = service.normalise_email(form.email.data)
    db = get_session()
    user = service.get_user_by_email(db, email)
    if user is not None and user.active:
        link = external_url("accounts.reset_with_token", token=service.reset_token(_secret(), user))
        # Written nowhere else: the commit of ``@commits`` (an empty one) sends it.
        send_after_commit(
            db, email, _("Reset your Sourcefront password"), "account_reset", user=user, link=link
        )
    flash(
        _(
            "If %(email)s has an account, a link to set a new password is on its way. "
            "It works for one hour.",
            email=email,
        ),
        "success",
    )
    return redirect(url_for("accounts.login"))


@bp.get("/reset/<token>")
def reset_with_token(token: str):
    try:
        service.user_for_reset_token(get_session(), _secret(), token)
    except tokens.InvalidToken:
        return _expired_reset_link()
    return render_template("accounts/reset_password.html", form=NewPasswordForm(), token=token)


@bp.post("/reset/<token>")
@commits
@limiter.limit(_address_limit, methods=["POST"])
def reset_with_token_submit(token: str):
    form = NewPasswordForm()
    db = get_session()
    try:
        service.user_for_reset_token(db, _secret(), token)
    except tokens.InvalidToken:
        return _expired_reset_link()
    if not form.validate_on_submit():
        return render_template("accounts/reset_password.html", form=form, token=token), 400
    service.reset_password_with_token(db, _secret(), token, form.password.data)
    logout_user()
    session.clear()
    flash(_("Your password is changed. Sign in with the new one."), "success")
    return redirect(url_for("accounts.login"))


def _expired_reset_link():
    flash(_("That link has expired or was already used. Ask for a new one below."), "error")
    return redirect(url_for("accounts.reset"))


@bp.get("")
@require_login
def account():
    return _render_account()


def _render_account(status: int = 200, **forms):
    user = current_user
    return (
        render_template(
            "accounts/account.html",
            user=user,
            profile_form=forms.get("profile_form") or ProfileForm(name=user.name),
            email_form=forms.get("email_form") or EmailChangeForm(),
            password_form=forms.get("password_form") or PasswordChangeForm(),
            address_form=forms.get("address_form") or AddressForm(),
            notifications_form=NotificationsForm(
                formdata=None, production_updates=user.production_updates
            ),
            delete_form=EmptyForm(),
            countries=dict(COUNTRIES),
        ),
        status,
    )


@bp.post("/profile")
@commits
@require_login
def profile_submit():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render_account(400, profile_form=form)
    current_user.name = form.name.data.strip()
    flash(_("Your name is saved."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/email")
@commits
@require_login
def email_submit():
    form = EmailChangeForm()
    if not form.validate_on_submit():
        return _render_account(400, email_form=form)
    new_email = service.normalise_email(form.email.data)
    link = external_url(
        "accounts.email_confirm",
        token=service.email_change_token(_secret(), current_user, new_email),
    )
    # Nothing is written until the link is opened: the commit of ``@commits`` sends it.
    send_after_commit(
        get_session(),
        new_email,
        _("Confirm your new email address"),
        "account_email_change",
        link=link,
    )
    flash(
        _("We sent a link to %(email)s. Your address changes when you open it.", email=new_email),
        "success",
    )
    return redirect(url_for("accounts.account"))


@bp.get("/email/<token>")
def email_confirm(token: str):
    return render_template(
        "accounts/confirm_link.html",
        form=EmptyForm(),
        action=url_for("accounts.email_confirm_submit", token=token),
        button=_("Use this email address"),
    )


@bp.post("/email/<token>")
def email_confirm_submit(token: str):
    db = get_session()
    try:
        service.apply_email_change(db, _secret(), token)
    except (tokens.InvalidToken, service.InvalidEmail):
        flash(_("That link has expired or was already used."), "error")
        return redirect(url_for("accounts.account"))
    db.commit()
    flash(_("Your email address is changed."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/password")
@commits
@require_login
def password_submit():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _render_account(400, password_form=form)
    user = current_user._get_current_object()
    if not service.change_password(get_session(), user, form.current.data, form.password.data):
        form.current.errors.append(_("That is not your current password."))
        return _render_account(400, password_form=form)
    # Every other session ended with the old password; this browser signs in again with
    # the new session version (and a new remember-me cookie if it had one).
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies
    login_user(user, remember=remembered)
    flash(_("Your password is changed. Other devices are signed out."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/notifications")
@commits
@require_login
def notifications_submit():
    form = NotificationsForm()
    if not form.validate_on_submit():
        return _render_account(400)
    current_user.production_updates = bool(form.production_updates.data)
    if current_user.production_updates:
        flash(_("We will email you when your orders enter production."), "success")
    else:
        flash(_("We will no longer email you when your orders enter production."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/addresses")
@commits
@require_login
def address_submit():
    form = AddressForm()
    if not form.validate_on_submit():
        return _render_account(400, address_form=form)
    service.add_address(current_user, **_address_fields(form))
    flash(_("Address saved."), "success")
    return redirect(url_for("accounts.account"))


ADDRESS_FIELDS = ("recipient", "phone", "country", "region", "city", "line1", "line2", "postcode")


def _address_fields(form) -> dict[str, str]:
    return {name: (getattr(form, name).data or "").strip() for name in ADDRESS_FIELDS}


@bp.get("/addresses/<int:address_id>/edit")
@require_login
def address_edit(address_id: int):
    address = service.get_own_address(get_session(), current_user, address_id)
    if address is None:
        abort(404)
    form = AddressForm(obj=address)
    return render_template(
        "accounts/address_edit.html", form=form, address=address, countries=dict(COUNTRIES)
    )


@bp.post("/addresses/<int:address_id>/edit")
@commits
@require_login
def address_edit_submit(address_id: int):
    address = service.get_own_address(get_session(), current_user, address_id)
    if address is None:
        abort(404)
    form = AddressForm()
    if not form.validate_on_submit():
        return (
            render_template(
                "accounts/address_edit.html", form=form, address=address, countries=dict(COUNTRIES)
            ),
            400,
        )
    service.update_address(address, **_address_fields(form))
    flash(_("Address saved."), "success")
    return redirect(url_for("accounts.account"))


@bp.post("/addresses/<int:address_id>/delete")
@commits
@require_login
def address_delete(address_id: int):
    if EmptyForm().validate_on_submit() and service.remove_address(
        get_session(), current_user, address_id
    ):
        flash(_("Address removed."), "success")
    return redirect(url_for("accounts.account"))
