"""The forms of a window: applying, the profile, picks, collections, and staff's status
buttons. Each field says what is wrong with it in words; the rules are in ``rules``."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from shop.catalog.rules import slug_problem
from shop.request_keys import request_key_field
from shop.resellers import rules


def _handle(form, field) -> None:
    field.data = rules.clean_handle(field.data)
    problem = rules.handle_problem(field.data)
    if problem:
        raise ValidationError(problem)


def _links(form, field) -> None:
    problem = rules.links_problem(rules.split_links(field.data))
    if problem:
        raise ValidationError(problem)


def _one_line(form, field) -> None:
    field.data = " ".join((field.data or "").split())


def _collection_slug(form, field) -> None:
    field.data = (field.data or "").strip().lower()
    if field.data:
        problem = slug_problem(field.data, rules.COLLECTION_SLUG_MAX_LENGTH)
        if problem:
            raise ValidationError(problem)


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        validators=[_one_line, DataRequired(), Length(max=rules.DISPLAY_NAME_MAX_LENGTH)],
    )
    bio = TextAreaField(
        _l("A few words about you and your window"),
        validators=[Length(max=rules.BIO_MAX_LENGTH)],
    )
    links = TextAreaField(
        _l("Links to your social accounts (one per line, up to 5)"),
        validators=[Length(max=rules.MAX_LINKS * (rules.LINK_MAX_LENGTH + 2)), _links],
    )
    avatar = FileField(_l("Avatar (JPEG, PNG or WebP, up to 5 MB)"))
    # The same form sent twice saves (and stores its avatar) once.
    request_key = request_key_field(required=False)

    def profile_values(self) -> dict:
        return {
            "display_name": self.display_name.data,
            "bio": (self.bio.data or "").strip(),
            "social_links": rules.split_links(self.links.data),
        }

    def has_avatar(self) -> bool:
        return bool(self.avatar.data and getattr(self.avatar.data, "filename", ""))


class ApplyForm(ProfileForm):
    handle = StringField(
        _l("Window name (its web address)"),
        validators=[
            InputRequired(message=_l("Choose a name for your window.")),
            Length(max=200),
            _handle,
        ],
    )
    accept_terms = BooleanField(
        _l("I accept the factory's reseller terms."),
        validators=[DataRequired(message=_l("Accept the reseller terms to open a window."))],
    )


class PickAddForm(FlaskForm):
    slug = HiddenField(validators=[DataRequired(), Length(max=200)])
    q = HiddenField(validators=[Optional(), Length(max=100)])  # the search to go back to


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[_one_line, Length(max=rules.NOTE_MAX_LENGTH)])


class CollectionForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[_one_line, DataRequired(), Length(max=rules.COLLECTION_TITLE_MAX_LENGTH)],
    )
    slug = StringField(
        _l("Web address (optional)"),
        validators=[Optional(), Length(max=200), _collection_slug],
    )
    request_key = request_key_field(required=False)


class RenameForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[_one_line, DataRequired(), Length(max=rules.COLLECTION_TITLE_MAX_LENGTH)],
    )


class CollectionAddForm(FlaskForm):
    # The choices are the reseller's collections; the rule checks the one posted is theirs.
    collection_id = SelectField(
        _l("Collection"), coerce=str, validate_choice=False, validators=[InputRequired()]
    )


class StatusForm(FlaskForm):
    action = SelectField(
        choices=[SelectChoice(action) for action in rules.TRANSITIONS],
        validators=[InputRequired()],
    )
    expected = HiddenField(validators=[InputRequired(), Length(max=20)])


class PriceForm(FlaskForm):
    """One pick's prices: a ``price-<currency>`` field per currency the product sells in
    (read by ``price_views``: the currencies are the product's), and the one-time key."""

    request_key = request_key_field()
