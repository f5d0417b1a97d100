from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from shop.accounts import passwords
from shop.accounts.addresses import address_problems, normalise_postcode
from shop.accounts.service import InvalidEmail, normalise_email

PASSWORD_MESSAGES = {
    "too_short": _l("Use at least %(n)d characters.", n=passwords.MIN_LENGTH),
    "too_common": _l("That password is too common. Choose one that is harder to guess."),
}


def valid_email(form, field):
    try:
        normalise_email(field.data or "")
    except InvalidEmail:
        raise ValidationError(_l("Enter an email address like name@example.com.")) from None


def strong_password(form, field):
    reason = passwords.password_problem(field.data or "")
    if reason:
        raise ValidationError(PASSWORD_MESSAGES[reason])


class RegisterForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])
    password = PasswordField(_l("Password"), validators=[DataRequired(), strong_password])
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), valid_email])


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), strong_password])
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("New email"), validators=[DataRequired(), Length(max=254), valid_email])


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), strong_password])
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


ADDRESS_MESSAGES = {
    "region_required": _l("Enter the province or prefecture."),
    "postcode_six_digits": _l("Enter the six-digit postcode."),
    "postcode_japan": _l("Enter the postcode like 123-4567."),
    "phone_required": _l("Enter a phone number: the courier calls before delivering."),
    "phone_invalid": _l("Enter a phone number with digits only, like +86 139 0000 0000."),
}

COUNTRIES = [
    ("CN", _l("China")),
    ("JP", _l("Japan")),
    ("SG", _l("Singapore")),
    ("US", _l("United States")),
    ("OT", _l("Other")),
]


class AddressForm(FlaskForm):
    recipient = StringField(_l("Recipient"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    country = SelectField(_l("Country"), choices=[code for code, _ in COUNTRIES])
    region = StringField(
        _l("Province / prefecture / state"), validators=[Optional(), Length(max=120)]
    )
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=120)])
    line1 = StringField(_l("Address"), validators=[DataRequired(), Length(max=200)])
    line2 = StringField(_l("Address line 2"), validators=[Optional(), Length(max=200)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=20)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_country_rules() and valid

    def check_country_rules(self) -> bool:
        """The courier's rules for the chosen country (``shop.accounts.addresses``)."""
        problems = address_problems(
            country=self.country.data or "",
            region=self.region.data or "",
            postcode=self.postcode.data or "",
            phone=self.phone.data or "",
        )
        for name, code in problems.items():
            getattr(self, name).errors = [*getattr(self, name).errors, ADDRESS_MESSAGES[code]]
        if "postcode" not in problems:
            self.postcode.data = normalise_postcode(self.country.data, self.postcode.data)
        return not problems


class NotificationsForm(FlaskForm):
    production_updates = BooleanField(_l("Email me when my orders enter production"))


class EmptyForm(FlaskForm):
    """Buttons that change state (sign out, delete) still carry a CSRF token."""
