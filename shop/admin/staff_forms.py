"""Forms of the staff page. They parse what the owner typed; the rules (who may be
demoted or deactivated) live in ``shop.accounts.staff``'s plain functions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from shop.accounts.permissions import ROLE_LABELS, STAFF_ROLES

assert set(STAFF_ROLES) <= set(ROLE_LABELS)


def role_choices() -> list[tuple[str, str]]:
    return [(role, ROLE_LABELS[role]) for role in STAFF_ROLES]


class InviteForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    role = SelectField(
        _l("Role"),
        choices=role_choices,
        validate_choice=True,
        validators=[DataRequired()],
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=role_choices, validate_choice=True, validators=[DataRequired()]
    )
