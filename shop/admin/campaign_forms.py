"""The group-buy programme's form (``/admin/campaigns/program``): whether campaigns wait
for approval, what a leader earns, and the credit per piece in each currency, typed in
major units ("1.50") and saved in minor units."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from shop.admin.forms import AMOUNT_MAX_LENGTH, BadAmount, amount_from
from shop.groupbuys.labels import REWARD_LABELS
from shop.groupbuys.models import GroupBuyProgram
from shop.groupbuys.program import ProgramValues
from shop.money import MAX_AMOUNT, SUPPORTED_CURRENCIES, to_decimal
from shop.request_keys import request_key_field

CREDIT_MESSAGE = _l("Enter an amount like 1.50, or leave it empty for no credit.")


def _credit(currency: str):
    def check(form, field) -> None:
        field.data = (field.data or "").strip()
        if not field.data:
            return
        try:
            amount = amount_from(field.data, currency)
        except BadAmount:
            raise ValidationError(str(CREDIT_MESSAGE)) from None
        if amount > MAX_AMOUNT:
            raise ValidationError(str(CREDIT_MESSAGE))

    return check


def _credit_field(currency: str) -> StringField:
    return StringField(
        _l("Credit per piece in %(currency)s", currency=currency),
        validators=[Length(max=AMOUNT_MAX_LENGTH), _credit(currency)],
    )


class CampaignProgramForm(FlaskForm):
    require_approval = BooleanField(_l("Staff approve each group buy before it opens"))
    leader_reward = SelectField(
        _l("What a leader earns"),
        choices=[SelectChoice(key, label) for key, label in REWARD_LABELS.items()],
        validators=[InputRequired()],
    )
    credit_CNY = _credit_field("CNY")
    credit_JPY = _credit_field("JPY")
    credit_SGD = _credit_field("SGD")
    credit_USD = _credit_field("USD")
    request_key = request_key_field()

    def credit_fields(self):
        return [self[f"credit_{currency}"] for currency in SUPPORTED_CURRENCIES]

    def values(self) -> ProgramValues:
        credits = {
            currency: amount_from(self[f"credit_{currency}"].data, currency)
            for currency in SUPPORTED_CURRENCIES
            if self[f"credit_{currency}"].data
        }
        return ProgramValues(
            require_approval=bool(self.require_approval.data),
            leader_reward=self.leader_reward.data,
            credit_per_piece=credits,
        )


def new_program_form(row: GroupBuyProgram, request_key: str) -> CampaignProgramForm:
    credits = row.credit_per_piece or {}
    return CampaignProgramForm(
        formdata=None,
        require_approval=row.require_approval,
        leader_reward=row.leader_reward,
        request_key=request_key,
        **{
            f"credit_{currency}": str(to_decimal(credits[currency], currency))
            if currency in credits
            else ""
            for currency in SUPPORTED_CURRENCIES
        },
    )
