"""The audit log as sentences a person reads, in the reader's language: "王芳 changed the
price of Polo shirt from ¥49 to ¥45".

Each kind of action has a translated sentence with named placeholders (``%(actor)s``,
``%(target)s`` and the kind's own); ``describe_entries`` fills them from the entries and
from the names of what they touched (products, schools and categories named in the
reader's language), found in one query per kind of target. A kind without a sentence, or
an entry it cannot word (a target that no longer exists, a record of an older shape), has
no sentence: the page shows it as before, field by field.

Formatting for the page that reads it: worded with Flask-Babel at call time, like the
PDFs of ``shop.orders.receipt``. It reads the database, never writes.
"""

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from shop.accounts.models import User
from shop.accounts.permissions import ROLE_LABELS
from shop.audit.models import AuditEntry
from shop.catalog.models import Category, Product, ProductImage, Variant
from shop.groupbuys.models import Campaign
from shop.locales import localized
from shop.money import format_money
from shop.orders.models import Order
from shop.resellers.models import Reseller
from shop.resellers.settings import percent_text
from shop.schools.models import DeliveryRound, Invoice, School, UniformItem

# One sentence per kind: ``%(actor)s`` did it, to ``%(target)s``.
SENTENCES = {
    "product.create": _l("%(actor)s created the product %(target)s"),
    "product.update": _l("%(actor)s edited %(target)s: %(fields)s"),
    "product.activate": _l("%(actor)s put %(target)s on sale"),
    "product.deactivate": _l("%(actor)s took %(target)s off sale"),
    "product.duplicate": _l("%(actor)s made %(target)s as a copy of another product"),
    "product.csv_create": _l("%(actor)s created %(target)s from a catalogue spreadsheet"),
    "product.csv_update": _l("%(actor)s updated %(target)s from a catalogue spreadsheet"),
    "product.price": _l("%(actor)s changed the price of %(target)s from %(before)s to %(after)s"),
    "product.prices": _l("%(actor)s changed the prices of %(target)s: %(changes)s"),
    "product.tiers": _l("%(actor)s changed the volume prices of %(target)s"),
    "variant.update": _l("%(actor)s edited the variant %(target)s"),
    "variant.generate": _l("%(actor)s generated variants of %(target)s: %(count)s new"),
    "category.create": _l("%(actor)s created the category %(target)s"),
    "category.update": _l("%(actor)s edited the category %(target)s"),
    "category.delete": _l("%(actor)s deleted the category %(target)s"),
    "image.upload": _l("%(actor)s added a picture of %(target)s"),
    "image.reorder": _l("%(actor)s reordered the pictures of %(target)s"),
    "image.alt_text": _l("%(actor)s changed the alt text of a picture of %(target)s"),
    "image.delete": _l("%(actor)s deleted a picture of %(target)s"),
    "stock.adjust": _l("%(actor)s changed the stock of %(target)s from %(before)s to %(after)s"),
    "order.production": _l("%(actor)s put order %(target)s into production"),
    "order.ready": _l("%(actor)s marked order %(target)s ready to ship"),
    "order.delivered": _l("%(actor)s marked order %(target)s delivered"),
    "order.ship": _l("%(actor)s shipped a parcel of order %(target)s"),
    "order.cancel": _l("%(actor)s cancelled order %(target)s"),
    "order.refund": _l("%(actor)s refunded %(amount)s on order %(target)s"),
    "order.note": _l("%(actor)s added a note to order %(target)s"),
    "order.reply": _l("%(actor)s answered the customer about order %(target)s"),
    "invoice.payment": _l("%(actor)s recorded a payment of %(amount)s on invoice %(target)s"),
    "production.batch_started": _l("%(actor)s started production batch %(target)s"),
    "production.batch_finished": _l("%(actor)s finished production batch %(target)s"),
    "school.create": _l("%(actor)s added the school %(target)s"),
    "school.update": _l("%(actor)s edited the details of %(target)s"),
    "school.logo": _l("%(actor)s changed the logo of %(target)s"),
    "school.access_code_set": _l("%(actor)s set an access code for %(target)s"),
    "school.access_code_clear": _l("%(actor)s removed the access code of %(target)s"),
    "school.round_add": _l("%(actor)s added a delivery round for %(target)s"),
    "school.round_delete": _l("%(actor)s deleted a delivery round of %(target)s"),
    "school.item_add": _l("%(actor)s added an item to the uniform list of %(target)s"),
    "school.item_update": _l("%(actor)s edited an item on the uniform list of %(target)s"),
    "school.item_remove": _l("%(actor)s removed an item from the uniform list of %(target)s"),
    "school.item_reorder": _l("%(actor)s reordered the uniform list of %(target)s"),
    "school.admin_invite": _l("%(actor)s invited %(email)s to manage %(target)s"),
    "school.admin_remove": _l("%(actor)s removed an administrator of %(target)s"),
    "reseller.apply": _l("%(actor)s applied for the window %(target)s"),
    "reseller.profile": _l("%(actor)s edited the profile of the window %(target)s"),
    "reseller.avatar": _l("%(actor)s changed the picture of the window %(target)s"),
    "reseller.approve": _l("%(actor)s approved the window %(target)s"),
    "reseller.suspend": _l("%(actor)s suspended the window %(target)s"),
    "reseller.reinstate": _l("%(actor)s reinstated the window %(target)s"),
    "reseller.close": _l("%(actor)s closed the window %(target)s"),
    "reseller.prices": _l(
        "%(actor)s changed the prices of %(product)s in the window %(target)s: %(changes)s"
    ),
    "reseller.payout": _l(
        "%(actor)s paid %(amount)s to the window %(target)s (reference %(reference)s)"
    ),
    "reseller.terms": _l("%(actor)s changed the terms of the window %(target)s: %(fields)s"),
    "reseller.slip_blind": _l("%(actor)s chose blind packing slips for the window %(target)s"),
    "reseller.slip_factory": _l(
        "%(actor)s chose the factory's packing slips for the window %(target)s"
    ),
    "reseller.slip_message": _l(
        "%(actor)s changed the thank-you line of the window %(target)s's packing slips"
    ),
    "reseller_program.update": _l("%(actor)s changed the reseller programme: %(fields)s"),
    "reseller_program.category": _l(
        "%(actor)s changed the commission on %(target)s from %(before)s to %(after)s"
    ),
    "campaign.approve": _l("%(actor)s approved the group buy %(target)s"),
    "campaign.reject": _l("%(actor)s rejected the group buy %(target)s"),
    "campaign.ladder_approve": _l(
        "%(actor)s approved the own price ladder of the group buy %(target)s"
    ),
    "groupbuy_program.update": _l("%(actor)s changed the group-buy programme: %(fields)s"),
    "staff.invite": _l("%(actor)s invited %(target)s as %(role)s"),
    "staff.role": _l("%(actor)s changed the role of %(target)s from %(before)s to %(after)s"),
    "staff.deactivate": _l("%(actor)s closed the account of %(target)s"),
}

# How ``product.update`` names the fields it changed.
PRODUCT_FIELD_LABELS = {
    "name": _l("name"),
    "name_zh": _l("Chinese name"),
    "name_ja": _l("Japanese name"),
    "slug": _l("web address"),
    "category_id": _l("category"),
    "description": _l("description"),
    "description_zh": _l("Chinese description"),
    "description_ja": _l("Japanese description"),
    "made_to_order": _l("made to order"),
    "lead_time_days": _l("lead time"),
    "min_order_quantity": _l("minimum order"),
    "order_increment": _l("order steps"),
    "active": _l("on sale"),
    "featured": _l("featured"),
    "school_id": _l("school"),
}

# How the reseller programme's and a window's terms name the fields they changed.
RESELLER_FIELD_LABELS = {
    "money_model": _l("money model"),
    "commission_bps": _l("commission"),
    "price_cap_bps": _l("price cap"),
    "return_window_days": _l("return window"),
    "attribution_days": _l("attribution days"),
    "payout_minimums": _l("smallest payouts"),
    "earn_on_school_orders": _l("commission on school orders"),
    "earn_on_invoice_orders": _l("commission on orders paid on invoice"),
}
# How the group-buy programme names the fields it changed.
GROUPBUY_FIELD_LABELS = {
    "require_approval": _l("approval of group buys"),
    "leader_reward": _l("leader reward"),
    "credit_per_piece": _l("credit per piece"),
}
# A commission rate that is not set: the category's or the programme's applies.
DEFAULT_RATE = _l("the default")

# Kinds whose sentence names a second thing besides their target: its type, and the
# field of the entry's ``after`` that holds its id (named in the same lookups).
MENTIONS = {"reseller.prices": ("product", "product_id")}


class Names:
    """What the entries touched, named for the reader: one query per kind of target."""

    def __init__(self, session: Session, entries: list[AuditEntry], locale: str) -> None:
        self.locale = locale
        wanted: dict[str, set[str]] = {}
        for entry in entries:
            wanted.setdefault(entry.target_type, set()).add(entry.target_id)
            mention = MENTIONS.get(entry.action)
            if mention is not None and isinstance(entry.after, dict):
                wanted.setdefault(mention[0], set()).add(str(entry.after.get(mention[1])))
        users = {entry.actor_user_id for entry in entries if entry.actor_user_id}
        users.update(_ids(wanted.get("user", set())))
        self.users = self._users(session, users)
        self.targets: dict[tuple[str, str], str] = {}
        self.currencies: dict[tuple[str, str], str] = {}
        for target_type, ids in wanted.items():
            loader = LOADERS.get(target_type)
            if loader is not None:
                loader(self, session, ids)

    @staticmethod
    def _users(session: Session, ids: set[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = session.execute(sa.select(User.id, User.name, User.email).where(User.id.in_(ids)))
        return {row.id: row.name or row.email for row in rows}

    def _named(self, target_type: str, rows: Iterable) -> None:
        for row in rows:
            self.targets[(target_type, str(row.id))] = localized(row, "name", self.locale)


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None


def _ids(ids: set[str]) -> list[int]:
    return [number for number in (_int(i) for i in ids) if number is not None]


def _load_products(names: Names, session: Session, ids: set[str]) -> None:
    columns = (Product.id, Product.name, Product.name_zh, Product.name_ja)
    names._named("product", session.execute(sa.select(*columns).where(Product.id.in_(_ids(ids)))))


def _load_images(names: Names, session: Session, ids: set[str]) -> None:
    rows = session.execute(
        sa.select(ProductImage.id, Product.name, Product.name_zh, Product.name_ja)
        .join(Product, Product.id == ProductImage.product_id)
        .where(ProductImage.id.in_(_ids(ids)))
    )
    names._named("product_image", rows)


def _load_variants(names: Names, session: Session, ids: set[str]) -> None:
    rows = session.execute(sa.select(Variant.id, Variant.sku).where(Variant.id.in_(_ids(ids))))
    names.targets.update({("variant", str(row.id)): row.sku for row in rows})


def _load_categories(names: Names, session: Session, ids: set[str]) -> None:
    columns = (Category.id, Category.name, Category.name_zh, Category.name_ja)
    rows = session.execute(sa.select(*columns).where(Category.id.in_(_ids(ids))))
    names._named("category", rows)


def _load_schools(names: Names, session: Session, ids: set[str]) -> None:
    columns = (School.id, School.name, School.name_zh, School.name_ja)
    names._named("school", session.execute(sa.select(*columns).where(School.id.in_(_ids(ids)))))


def _school_of(model) -> Callable[[Names, Session, set[str]], None]:
    """A target that belongs to a school (a uniform-list item, a delivery round): named by
    its school."""

    def load(names: Names, session: Session, ids: set[str]) -> None:
        rows = session.execute(
            sa.select(model.id, School.name, School.name_zh, School.name_ja)
            .join(School, School.id == model.school_id)
            .where(model.id.in_(_ids(ids)))
        )
        names._named(model.__tablename__, rows)

    return load


def _load_users(names: Names, session: Session, ids: set[str]) -> None:
    names.targets.update({("user", str(user_id)): name for user_id, name in names.users.items()})


def _by_number(model, target_type: str) -> Callable[[Names, Session, set[str]], None]:
    """An order or an invoice: its number is its name; its currency words its amounts."""

    def load(names: Names, session: Session, ids: set[str]) -> None:
        rows = session.execute(sa.select(model.number, model.currency).where(model.number.in_(ids)))
        for number, currency in rows:
            names.targets[(target_type, number)] = number
            names.currencies[(target_type, number)] = currency

    return load


def _load_resellers(names: Names, session: Session, ids: set[str]) -> None:
    rows = session.execute(
        sa.select(Reseller.id, Reseller.handle).where(Reseller.id.in_(_ids(ids)))
    )
    names.targets.update({("reseller", str(row.id)): row.handle for row in rows})


def _load_batches(names: Names, session: Session, ids: set[str]) -> None:
    names.targets.update({("production_batch", i): f"#{i}" for i in ids})


def _load_program(names: Names, session: Session, ids: set[str]) -> None:
    """The one programme: its sentence names it in words of its own."""
    names.targets.update({("reseller_program", i): "" for i in ids})


def _load_campaigns(names: Names, session: Session, ids: set[str]) -> None:
    rows = session.execute(
        sa.select(Campaign.id, Campaign.code, Campaign.title).where(Campaign.id.in_(_ids(ids)))
    )
    names.targets.update({("campaign", str(row.id)): f"{row.code} · {row.title}" for row in rows})


def _load_groupbuy_program(names: Names, session: Session, ids: set[str]) -> None:
    """The one programme: its sentence names it in words of its own."""
    names.targets.update({("groupbuy_program", i): "" for i in ids})


LOADERS: dict[str, Callable[[Names, Session, set[str]], None]] = {
    "product": _load_products,
    "product_image": _load_images,
    "variant": _load_variants,
    "category": _load_categories,
    "school": _load_schools,
    "uniform_item": _school_of(UniformItem),
    "delivery_round": _school_of(DeliveryRound),
    "user": _load_users,
    "order": _by_number(Order, "order"),
    "invoice": _by_number(Invoice, "invoice"),
    "production_batch": _load_batches,
    "reseller": _load_resellers,
    "reseller_program": _load_program,
    "campaign": _load_campaigns,
    "groupbuy_program": _load_groupbuy_program,
}


# --- what each kind adds to its sentence --------------------------------------------------


def _base_prices(tiers: Any) -> dict[str, int]:
    """``{currency: the unit amount of its first tier}`` of a ``tiers_snapshot``."""
    if not isinstance(tiers, dict):
        return {}
    prices = {}
    for currency, ladder in tiers.items():
        if isinstance(ladder, list) and ladder and isinstance(ladder[0], list):
            first = min(ladder, key=lambda tier: tier[0])
            prices[str(currency)] = int(first[1])
    return prices


def _tiers(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    before, after = _base_prices(entry.before), _base_prices(entry.after)
    changed = [
        currency
        for currency in sorted(set(before) | set(after))
        if before.get(currency) != after.get(currency)
    ]
    money = names.locale

    def price(prices: dict[str, int], currency: str) -> str:
        amount = prices.get(currency)
        return "—" if amount is None else format_money(amount, currency, money)

    if not changed:
        return "product.tiers", {}
    if len(changed) == 1:
        currency = changed[0]
        return "product.price", {
            "before": price(before, currency),
            "after": price(after, currency),
        }
    separator = "、" if names.locale.split("_")[0] in ("zh", "ja") else ", "
    changes = separator.join(
        f"{price(before, currency)} → {price(after, currency)}" for currency in changed
    )
    return "product.prices", {"changes": changes}


def _product_update(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    changed = entry.after or {}
    fields = [name for name in PRODUCT_FIELD_LABELS if name in changed]
    if not fields:
        return None
    separator = "、" if names.locale.split("_")[0] in ("zh", "ja") else ", "
    return entry.action, {"fields": separator.join(str(PRODUCT_FIELD_LABELS[f]) for f in fields)}


def _from_to(field: str) -> Callable[[AuditEntry, Names], tuple[str, dict] | None]:
    def values(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
        before, after = (entry.before or {}).get(field), (entry.after or {}).get(field)
        if before is None or after is None:
            return None
        return entry.action, {"before": before, "after": after}

    return values


def _role(value: Any) -> str:
    label = ROLE_LABELS.get(str(value))
    return str(label) if label is not None else str(value)


def _staff_role(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    before, after = (entry.before or {}).get("role"), (entry.after or {}).get("role")
    if before is None or after is None:
        return None
    return entry.action, {"before": _role(before), "after": _role(after)}


def _staff_invite(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    role = (entry.after or {}).get("role")
    return (entry.action, {"role": _role(role)}) if role else None


def _amount(field: str) -> Callable[[AuditEntry, Names], tuple[str, dict] | None]:
    def values(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
        amount = (entry.after or {}).get(field)
        currency = names.currencies.get((entry.target_type, entry.target_id))
        if not isinstance(amount, int) or currency is None:
            return None
        return entry.action, {"amount": format_money(amount, currency, names.locale)}

    return values


def _school_admin(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    email = (entry.after or {}).get("email")
    return (entry.action, {"email": email}) if email else None


def _generated(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    added = (entry.after or {}).get("added")
    return (entry.action, {"count": len(added)}) if isinstance(added, list) else None


def _listed(names: Names, words: Iterable[str]) -> str:
    separator = "、" if names.locale.split("_")[0] in ("zh", "ja") else ", "
    return separator.join(words)


def _reseller_fields(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    changed = entry.after or {}
    fields = [name for name in RESELLER_FIELD_LABELS if name in changed]
    if not fields:
        return None
    return entry.action, {"fields": _listed(names, (str(RESELLER_FIELD_LABELS[f]) for f in fields))}


def _reseller_prices(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    before, after = entry.before or {}, entry.after or {}
    product = names.targets.get(("product", str(after.get("product_id"))))
    old, new = before.get("prices"), after.get("prices")
    if product is None or not isinstance(old, dict) or not isinstance(new, dict):
        return None

    def price(amount: Any, currency: str) -> str:  # none: the factory's own price
        return format_money(amount, currency, names.locale) if isinstance(amount, int) else "—"

    changed = [c for c in sorted(set(old) | set(new)) if old.get(c) != new.get(c)]
    changes = _listed(names, (f"{price(old.get(c), c)} → {price(new.get(c), c)}" for c in changed))
    return entry.action, {"product": product, "changes": changes or "—"}


def _groupbuy_fields(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    changed = entry.after or {}
    fields = [name for name in GROUPBUY_FIELD_LABELS if name in changed]
    if not fields:
        return None
    return entry.action, {"fields": _listed(names, (str(GROUPBUY_FIELD_LABELS[f]) for f in fields))}


def _payout(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    after = entry.after or {}
    amount, currency = after.get("amount"), after.get("currency")
    if not isinstance(amount, int) or not isinstance(currency, str):
        return None
    return entry.action, {
        "amount": format_money(amount, currency, names.locale),
        "reference": str(after.get("reference") or "—"),
    }


def _slip(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    blind = (entry.after or {}).get("blind_slip")
    if blind is None:
        return "reseller.slip_message", {}
    return ("reseller.slip_blind" if blind else "reseller.slip_factory"), {}


def _rate(bps: Any) -> str:
    return f"{percent_text(bps)}%" if isinstance(bps, int) else str(DEFAULT_RATE)


def _category_rate(entry: AuditEntry, names: Names) -> tuple[str, dict] | None:
    before, after = entry.before or {}, entry.after or {}
    if "commission_bps" not in before or "commission_bps" not in after:
        return None
    return entry.action, {
        "before": _rate(before["commission_bps"]),
        "after": _rate(after["commission_bps"]),
    }


VALUES: dict[str, Callable[[AuditEntry, Names], tuple[str, dict] | None]] = {
    "variant.generate": _generated,
    "product.tiers": _tiers,
    "product.update": _product_update,
    "stock.adjust": _from_to("on_hand"),
    "staff.role": _staff_role,
    "staff.invite": _staff_invite,
    "order.refund": _amount("refund_amount"),
    "invoice.payment": _amount("amount"),
    "school.admin_invite": _school_admin,
    "reseller.prices": _reseller_prices,
    "reseller.payout": _payout,
    "reseller.terms": _reseller_fields,
    "reseller.slip": _slip,
    "reseller_program.update": _reseller_fields,
    "reseller_program.category": _category_rate,
    "groupbuy_program.update": _groupbuy_fields,
}


def describe(entry: AuditEntry, names: Names, system: str) -> str | None:
    """``entry`` as a sentence, or ``None`` (no sentence for its kind, or it cannot be
    worded): the page then shows the entry's fields."""
    if entry.action not in SENTENCES and entry.action not in VALUES:
        return None
    target = names.targets.get((entry.target_type, entry.target_id))
    if target is None:
        target = _name_in_record(entry, names.locale)
    if target is None:
        return None
    found = VALUES[entry.action](entry, names) if entry.action in VALUES else (entry.action, {})
    if found is None:
        return None
    kind, values = found
    actor = names.users.get(entry.actor_user_id or 0) or system
    try:
        return str(SENTENCES[kind]) % {"actor": actor, "target": target, **values}
    except (KeyError, TypeError, ValueError):  # a translation with another placeholder
        return None


def _name_in_record(entry: AuditEntry, locale: str) -> str | None:
    """The name a deleted target had, as its entry recorded it."""
    for record in (entry.before, entry.after):
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            language = locale.split("_")[0]
            own = record.get(f"name_{language}") if language != "en" else None
            return own if isinstance(own, str) and own else record["name"]
    return None


def describe_entries(
    session: Session, entries: list[AuditEntry], locale: str, system: str
) -> dict[int, str]:
    """``{entry id: sentence}`` of the entries that have one, in ``locale``'s words; a
    bounded number of queries (one per kind of target on the page)."""
    names = Names(session, entries, locale)
    sentences = {}
    for entry in entries:
        sentence = describe(entry, names, system)
        if sentence is not None:
            sentences[entry.id] = sentence
    return sentences
