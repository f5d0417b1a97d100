"""No input gives a 500: every rule in ``app.url_map``, every role, hostile input.

A small database is seeded (products, a school with its admin and uniform list, orders,
a shipment, a production batch, an invoice, an address, the customer's reseller window
with its own prices, a collection and approved commission) and then, for an anonymous
visitor, a customer, a school admin and every staff role in turn:

1. every rule is requested with its URL variables filled from those real rows (GET, or
   an empty POST for POST-only rules), so each role sees its own pages;
2. once per rule, by the first role that is not refused it (403, 404, the sign-in page),
   since parsing does not depend on who asks: hostile query strings; the URL variables
   from a corpus (ids ≥ 2**31 and 2**63, 5000 digits, NUL, invalid UTF-8, broken
   percent-encoding, long text); POST bodies with the corpus in a set of usual field
   names (numbers out of range, NUL, invalid UTF-8 and percent-encoding, duplicate keys,
   JSON arrays/strings/nested objects, broken multipart);
3. once per form, whoever sees it first: every form the pages show, filled in (the page's
   values, plausible ones in empty fields) and sent back, then with each field in turn
   out of range (2**31, 2**63, 5000 digits, -1, 100 kB of text), then NUL everywhere and
   garbage in file inputs. A form that answers with another form (a dry run's "apply")
   has that one sent too.

The corpus is fixed, so a run is repeatable. CSRF is off (the test config); rate limits
are on, and each role's client has an address of its own. Stripe is localstripe; the
webhook only gets bodies without a valid signature, and must answer 400.

Any response ≥ 500, or an exception the app let through, is collected with the method,
URL, role and traceback; the test fails showing the first of each route. ``KNOWN_500S``
lists the ones in code this test's author does not own, reported to its owner: remove an
entry once it is fixed (a run prints the entries it did not see).
"""

import html.parser
import io
import itertools
import re
import traceback
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shop.accounts.models import Address, User
from shop.accounts.permissions import STAFF_ROLES
from shop.db import utcnow
from shop.groupbuys.models import Campaign, CampaignTier
from shop.orders.models import ProductionBatch, Shipment
from shop.resellers import ledger as reseller_ledger
from shop.resellers import picks as reseller_picks
from shop.resellers import service as resellers
from shop.resellers import settings as reseller_settings
from shop.resellers.models import CollectionPick
from shop.schools.models import Invoice
from tests.accounts.helpers import PASSWORD, login, make_user, quick_hash
from tests.factories import make_product
from tests.groupbuy_factories import make_campaign, reserve
from tests.helpers.ledger import attributed_order, deliver, long_ago, pay
from tests.order_factories import make_order
from tests.school_factories import add_item, add_member
from tests.schools.invoice_helpers import invoice_order, invoice_school

# (method, rule, why): 500s in code owned by someone else, reported to them. Empty it.
KNOWN_500S: list[tuple[str, str, str]] = []

ROLES = ("anonymous", "customer", "school_admin", *STAFF_ROLES)
BEYOND_INTEGER = str(2**31)  # PostgreSQL INTEGER ends at 2**31 - 1
BEYOND_BIGINT = str(2**63)  # SQLite and PostgreSQL BIGINT end at 2**63 - 1
LONG_TEXT = "x" * 100_000
NUL = "a\x00b"
# URL variables: (converter, raw text already percent-encoded for the path)
INT_PARTS = (BEYOND_INTEGER, BEYOND_BIGINT, "0", "9" * 5000)
TEXT_PARTS = ("%00", "a%00b", "%FF%FE", "%zz", "%C0%AF..", "-1", BEYOND_INTEGER, "y" * 5000)
# Query strings sent with every GET (raw, already encoded).
QUERIES = (
    "q=%00&page=%00&category=%00",
    f"page={BEYOND_BIGINT}&q=%FF%FE&category={BEYOND_INTEGER}&sort=%zz&variant={BEYOND_BIGINT}"
    f"&actor={BEYOND_INTEGER}&status=%FF&from=9999-99-99&to=%zz&next=//evil.example",
    "page=-1&page=2&q=" + "q" * 5000,
)
# Field names posted to every POST rule, whatever form it expects, besides the ones its
# pages show: the ids and keys views read by hand.
GENERIC_FIELDS = (
    "variant_id",
    "line_id",
    "quantity",
    "address_id",
    "category_id",
    "product_id",
    "school_id",
    "item_id",
    "user_id",
    "token",
    "next",
    "email",
    "password",
    "name",
    "notes",
    "message",
    "number",
    "q",
    "code",
    "role",
    "amount",
    "reason",
    "row",
    f"qty-{BEYOND_INTEGER}",
    f"qty-{BEYOND_BIGINT}",
    f"return-{BEYOND_INTEGER}",
    f"variant-{BEYOND_BIGINT}",
)
# Each field of a page's form in turn, the others as the page filled them in: numbers no
# column holds, more digits than int() reads, a negative, text no column is that long.
FIELD_VALUES = (BEYOND_INTEGER, BEYOND_BIGINT, "9" * 5000, "-1", LONG_TEXT)
FORM_VALUES = ("1", BEYOND_INTEGER, BEYOND_BIGINT, "-1", NUL, "x" * 1000)
# Bodies sent as they are, for every field at once: invalid UTF-8, broken percent-encoding.
RAW_VALUES = (b"%FF%FE%C3%28", b"%zz%", b"%ED%A0%80")
JSON_BODIES = (
    "[]",
    '["pm_card_visa"]',
    '"pm_card_visa"',
    "42",
    "null",
    '{"payment_method": {"id": "pm_card_visa"}}',
    '{"payment_method": ["pm_card_visa"]}',
    '{"payment_method": 4242}',
    '{"a": {"b": {"c": [1, {"d": null}]}}}',
    "{not json",
)
BROKEN_BODIES = (
    ("multipart/form-data; boundary=xyz", b"--xyz\r\ngarbage\x00\xff"),
    ("multipart/form-data", b"--\r\n"),
    (
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a\xff%00.csv"\r\n'
        b"\r\n\x00\r\n--xyz--\r\n",
    ),
    ("application/x-www-form-urlencoded; charset=bogus", b"a=%FF"),
    ("application/json; charset=utf-16", b"\xff\xfe[]"),
)
GARBAGE_FILE = b"\x00\xff\xfe,\r\n\x00=cmd|' /C calc'!A0\r\n" + b"\x89PNG\r\n\x1a\n" * 10
# What an empty field of a form gets before the form is sent back, so that the form is
# valid and the out-of-range values below reach the code that stores them. First match
# of the pattern in the field's name wins; ``None`` leaves the field empty.
FILLERS = (
    (r"^current$|-min$|-price$|lead_time|custom_carrier", None),
    (r"email", "fuzz-{n}@example.com"),
    (r"password|confirm", PASSWORD),
    (r"slug", "fuzz-new-{n}"),
    (r"cutoff", "2030-01-10T12:00"),
    (r"date", "2030-01-15"),
    (r"price|amount|credit_limit", "10.00"),
    (r"quantity|^qty-|grade", "1"),
    (r"height|chest", "120"),
    (r"phone", "+86 139 0000 0000"),
    (r"postcode", "528000"),
    (r"^next$", "/"),
    (r"sizes", "S, M"),
    (r"colours", "navy"),
    (r"code", "FUZZ-CODE-1"),
    (r"", "Fuzz {n}"),
)
DESTRUCTIVE = ("delete", "deactivate", "remove")
MADE_UP = ("token", "filename")  # URL variables with no real row behind them
# Forms whose valid submission would end the fuzzer's own session.
SESSION_ENDING = ("/account/logout", "/account/sign-out-everywhere")


@dataclass
class Failure:
    method: str
    url: str
    role: str
    status: int | None
    rule: str
    trace: str = ""

    def __str__(self) -> str:
        shown = self.url if len(self.url) < 200 else self.url[:200] + "…"
        return f"{self.method} {shown} as {self.role} → {self.status}\n{self.trace}"


@dataclass
class Fuzz:
    app: object
    failures: list[Failure] = field(default_factory=list)
    seen_known: set[tuple[str, str]] = field(default_factory=set)
    requests: int = 0
    counter: object = field(default_factory=lambda: itertools.count(1))

    def rule_of(self, method: str, url: str) -> str:
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _args = adapter.match(urlsplit(url).path, method=method, return_rule=True)
        except Exception:  # noqa: BLE001 - not a route: no allowlist entry can match
            return ""
        return rule.rule

    def send(self, client, role: str, method: str, url: str, **kwargs):
        self.requests += 1
        status, trace = None, ""
        try:
            response = client.open(url, method=method, **kwargs)
            status = response.status_code
            response.get_data()  # streamed pages run to the end (and the body is kept)
            response.close()  # a file sent from disk is closed
        except Exception:  # noqa: BLE001 - the app let an exception through: a 500
            trace = traceback.format_exc()
            response = None
        if status is None or status >= 500:
            rule = self.rule_of(method, url)
            if any(m == method and r == rule for m, r, _why in KNOWN_500S):
                self.seen_known.add((method, rule))
            else:
                self.failures.append(Failure(method, url, role, status, rule, trace))
        return response


# --- the database the fuzz runs over ---------------------------------------------------


@dataclass
class Seed:
    users: dict[str, tuple[int, str]]  # role → (id, email)
    real: dict[str, str]
    product_slug: str
    school_slug: str
    order_number: str
    invoice_number: str


def seed(session: Session) -> Seed:
    users = {}
    for role in ROLES[1:]:
        user = make_user(session, email=f"{role}@fuzz.example", role=role, name=role.title())
        users[role] = (user.id, user.email)
    target = make_user(session, email="target@fuzz.example", role="warehouse", name="Target")
    customer = session.get(User, users["customer"][0])
    product = make_product(session, slug="fuzz-polo", sizes=("130", "140"), on_hand=50, images=1)
    blazer = make_product(session, slug="fuzz-blazer", made_to_order=True, lead_time_days=10)
    school = invoice_school(session, slug="fuzz-school", grades=("1", "2"))
    item = add_item(session, school, product)
    member = add_member(session, school, session.get(User, users["school_admin"][0]))
    address = Address(
        user=customer, recipient="Li Wei", country="CN", city="Foshan", line1="18 Jihua Road"
    )
    session.add(address)
    # Shipped, so not cancellable: its made-up payment is not one localstripe could refund.
    order = make_order(session, user=customer, payment_status="paid", fulfilment_status="shipped")
    make_order(session, user=customer, payment_status="unpaid")
    make_order(session, made_to_order=True, lead_time_days=10)  # the production queue
    shipment = Shipment(order=order, carrier="sf", tracking_number="SF1")
    batch = ProductionBatch(note="fuzz")
    session.add_all([shipment, batch])
    invoice_order(session, school, product.variants[0], 2)
    session.commit()
    window = seed_window(session, customer, product)
    seed_campaign(session, customer, blazer)  # pending approval: the staff's buttons
    group_buy = seed_group_buy(session, customer, product)
    invoice = session.scalars(sa.select(Invoice)).one()
    real = {
        "address_id": address.id,
        "category_id": product.category_id,
        "image_id": product.images[0].id,
        "shipment_id": shipment.id,
        "batch_id": batch.id,
        "product_id": product.id,
        "school_id": school.id,
        "member_id": member.id,
        "item_id": item.id,
        "round_id": school.rounds[0].id,
        "user_id": target.id,
        "variant_id": product.variants[0].id,
        "token": "not-a-real-token",
        "filename": product.images[0].path,
        "class_name": "3A",
        **window,
        **group_buy,
    }
    return Seed(
        users=users,
        real={name: str(value) for name, value in real.items()},
        product_slug=product.slug,
        school_slug=school.slug,
        order_number=order.number,
        invoice_number=invoice.number,
    )


def seed_window(session: Session, customer: User, product) -> dict[str, object]:
    """The customer's approved window (issue 17) with a pick in a collection; its URL
    variables."""
    staff = make_user(session, email="approver@fuzz.example", role="manager")
    reseller = resellers.apply_for_window(
        session,
        customer,
        resellers.Application("fuzz-window", "Fuzz window", "", []),
        terms_version="fuzz",
        auto_approve=False,
    )
    resellers.change_status(session, staff, reseller, "approve", expected="applied")
    # Its own prices (the prices page shows its forms), and an approved commission above
    # the payout minimum (the payouts page shows its form).
    reseller_settings.set_reseller_terms(
        session, staff, reseller, money_model="price", commission_bps=None
    )
    pick = reseller_picks.add_pick(session, reseller, product.slug)
    collection = reseller_picks.create_collection(session, reseller, "Fuzz", "fuzz-collection")
    reseller_picks.add_to_collection(session, reseller, collection.id, pick.id)
    item_id = session.scalars(sa.select(CollectionPick.id)).one()
    for _ in range(2):
        order = attributed_order(session, reseller, lines=(("FUZZ-1", 1, 60000),))
        pay(session, order)
        deliver(session, order, long_ago(30))
    reseller_ledger.approve_due(session)
    session.commit()
    return {
        "handle": reseller.handle,
        "reseller_id": reseller.id,
        "pick_id": pick.id,
        "collection_id": collection.id,
        "collection_item_id": item_id,
        "month": utcnow().strftime("%Y-%m"),
    }


def seed_campaign(session: Session, customer: User, product) -> Campaign:
    """The customer's group buy (issue 18), waiting for approval with a ladder of its own
    (staff see its buttons), and a participant in it (the leader's page and the packing
    list show them)."""
    campaign = make_campaign(
        session, [product], leader=customer, code="FUZZCAMP", min_pieces=1, own_ladder=True
    )
    campaign.tiers.append(CampaignTier(product_id=product.id, min_quantity=1, unit_amount=900))
    session.flush()
    reserve(session, campaign, {product.variants[0].id: 2})
    campaign.state = "pending_approval"
    session.commit()
    return campaign


def seed_group_buy(session: Session, leader: User, product) -> dict[str, object]:
    """An open group buy (issue 18) led by the customer, with one participant whose card
    was never given (no Stripe call); its URL variables."""
    campaign = make_campaign(session, [product], leader=leader, code="FUZZ", min_pieces=2)
    participant = reserve(session, campaign, {product.variants[0].id: 1})
    session.commit()
    return {"code": campaign.code, "participant_token": participant.token}


def reset_users(app, seeded: Seed) -> None:
    """Undo what the last role's posts did to the accounts the fuzz signs in with."""
    with Session(app.extensions["sa_engine"]) as session:
        for role, (user_id, email) in seeded.users.items():
            user = session.get(User, user_id)
            user.role, user.email, user.active = role, email, True
            user.password_hash = quick_hash(PASSWORD)
        session.commit()


def sign_in(app, seeded: Seed, role: str):
    client = app.test_client()
    # An address of its own per role: the fuzz's failed sign-ins use up the per-address
    # rate limits, which must not lock the next role out.
    client.environ_base["REMOTE_ADDR"] = f"192.0.2.{ROLES.index(role) + 1}"
    if role != "anonymous":
        response = login(client, email=seeded.users[role][1])
        assert response.status_code == 302, f"{role} could not sign in"
    return client


def still_signed_in(client, role: str) -> bool:
    if role == "anonymous":
        return True
    return client.get("/account").status_code == 200


# --- URLs ------------------------------------------------------------------------------

VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def real_value(rule: str, name: str, seeded: Seed) -> str:
    if name == "slug":
        if rule.startswith("/w/"):
            return "fuzz-collection"
        return seeded.school_slug if rule.startswith("/schools") else seeded.product_slug
    if name == "filename" and rule.startswith("/static"):
        return "css/shop.css"
    if name == "number":
        return seeded.invoice_number if "invoices" in rule else seeded.order_number
    if name == "token" and rule.startswith("/g/"):
        return seeded.real["participant_token"]
    if name == "item_id" and rule.startswith("/account/window/collections"):
        return seeded.real["collection_item_id"]
    return seeded.real.get(name, "1")


def fill(rule: str, seeded: Seed, override: tuple[str, str] | None = None) -> str:
    """The rule's path with real values, or with ``override`` = (variable, raw text)."""

    def one(match: re.Match) -> str:
        name = match.group(2)
        if override and override[0] == name:
            return override[1]
        return quote(real_value(rule, name, seeded), safe="/")

    return VARIABLE.sub(one, rule)


def urls_of(rule, seeded: Seed) -> list[str]:
    """The rule filled with real values, then each variable in turn from the corpus."""
    urls = [fill(rule.rule, seeded)]
    for converter, name in VARIABLE.findall(rule.rule):
        parts = INT_PARTS if converter == "int" else TEXT_PARTS
        urls.extend(fill(rule.rule, seeded, (name, part)) for part in parts)
    return urls


# --- forms on the pages ----------------------------------------------------------------


@dataclass
class Form:
    action: str
    multipart: bool
    fields: list[tuple[str, str]]
    files: list[str]

    @property
    def key(self) -> tuple:
        return (self.action, tuple(sorted({name for name, _ in self.fields})), tuple(self.files))


class FormParser(html.parser.HTMLParser):
    """The POST forms of a page: action, fields as the page filled them in, file inputs."""

    def __init__(self, base: str):
        super().__init__()
        self.base, self.forms, self.form = base, [], None
        self.select: str | None = None
        self.select_value: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urljoin(self.base, a.get("action") or self.base)
                multipart = a.get("enctype") == "multipart/form-data"
                self.form = Form(action, multipart, [], [])
            return
        if tag == "option" and self.select is not None:
            if self.select_value is None or "selected" in a:
                self.select_value = a.get("value", "")
            return
        if self.form is None or not a.get("name"):
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self.form.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset"):
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self.select, self.select_value = name, None
        elif tag == "textarea":
            self.textarea, self.text = name, ""
        elif tag == "button" and a.get("value"):
            self.form.fields.append((name, a["value"]))

    def handle_data(self, data):
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag):
        if self.form is None:
            return
        if tag == "select" and self.select is not None:
            self.form.fields.append((self.select, self.select_value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.form.fields.append((self.textarea, self.text))
            self.textarea = None
        elif tag == "form":
            self.forms.append(self.form)
            self.form = None


def forms_on(url: str, response) -> list[Form]:
    if response is None or response.status_code != 200 or response.mimetype != "text/html":
        return []
    parser = FormParser("http://localhost" + url)
    parser.feed(response.get_data(as_text=True))
    return [form for form in parser.forms if urlsplit(form.action).netloc == "localhost"]


def path_of(action: str) -> str:
    parts = urlsplit(action)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- bodies ----------------------------------------------------------------------------


def raw_form(names, value: bytes) -> bytes:
    return b"&".join(quote(name).encode() + b"=" + value for name in names)


def generic_bodies(names) -> list[dict]:
    """Keyword arguments for ``client.open``: every field at once, from the corpus."""
    bodies = [{"data": {name: value for name in names}} for value in FORM_VALUES]
    bodies += [
        {"data": raw_form(names, value), "content_type": "application/x-www-form-urlencoded"}
        for value in RAW_VALUES
    ]
    duplicated = [(name, value) for name in names for value in ("1", BEYOND_INTEGER, "")]
    bodies.append({"data": _multidict(duplicated)})
    bodies += [{"data": body, "content_type": "application/json"} for body in JSON_BODIES]
    bodies += [{"data": body, "content_type": kind} for kind, body in BROKEN_BODIES]
    return bodies


def _multidict(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def filled(fields: list[tuple[str, str]], counter) -> list[tuple[str, str]]:
    out = []
    for name, value in fields:
        if value == "":
            filler = next(f for pattern, f in FILLERS if re.search(pattern, name))
            value = "" if filler is None else filler.format(n=next(counter))
        out.append((name, value))
    return out


def form_bodies(form: Form, counter) -> list[dict]:
    """The form as filled in, then each field in turn out of range, then garbage files."""
    base = filled(form.fields, counter)
    names = [name for name, _ in base]

    def with_files(data):
        if not form.files:
            return {"data": _multidict(data)}
        payload = _multidict(data)
        for name in form.files:
            payload.add(name, (io.BytesIO(GARBAGE_FILE), "garbage.csv"))
        return {"data": payload, "content_type": "multipart/form-data"}

    bodies = [with_files(base)]
    for index, (name, _value) in enumerate(base):
        if name == "csrf_token":
            continue
        for value in FIELD_VALUES:
            changed = base[:index] + [(name, value)] + base[index + 1 :]
            bodies.append(with_files(changed))
    bodies.append(with_files([(name, NUL) for name in names]))
    return bodies


# --- the test --------------------------------------------------------------------------


@pytest.fixture
def fuzz_app(make_app, stripe_settings):
    return make_app(**stripe_settings)


def refused(rule, response) -> bool:
    """Not this role's page (or not this visitor's order): another role tries it. (A 404
    for a URL made of made-up values, a token or a file name, is the answer for all.)"""
    if response is None:
        return False
    if response.status_code == 404:
        return not any(name in rule.arguments for name in MADE_UP)
    if response.status_code in (401, 403):
        return True
    return response.status_code in (302, 303) and "/account/login" in response.location


def run_role(fuzz: Fuzz, seeded: Seed, role: str, done_rules: set, done_forms: set) -> None:
    """Every rule for this role; the corpus once per rule and form, by the first role that
    gets past its permission check (parsing does not depend on who is signed in)."""
    app = fuzz.app
    reset_users(app, seeded)
    client = sign_in(app, seeded, role)
    client.post("/cart/add", data={"variant_id": seeded.real["variant_id"], "quantity": "1"})
    forms: list[Form] = []
    # What deletes the seeded rows goes last, so the rest still finds them.
    rules = sorted(
        app.url_map.iter_rules(),
        key=lambda rule: (any(word in rule.rule for word in DESTRUCTIVE), rule.rule),
    )

    # 1. every rule: its real URL (GET, or an empty POST); then, once, by the first role
    # it does not refuse: hostile query strings, the URL corpus and the generic bodies
    for rule in rules:
        if rule.rule in SESSION_ENDING:
            continue  # last, below
        if rule.rule == "/stripe/webhook":
            continue  # below: only garbage, without a valid signature
        real, *corpus = urls_of(rule, seeded)
        if "GET" in rule.methods:
            response = fuzz.send(client, role, "GET", real)
            forms.extend(forms_on(real, response))
        else:
            response = fuzz.send(client, role, "POST", real, data={})
        if refused(rule, response) or (rule.rule in done_rules):
            continue
        done_rules.add(rule.rule)
        if "GET" in rule.methods:
            for query in QUERIES:
                fuzz.send(client, role, "GET", f"{real}?{query}")
        for url in corpus:
            for method in sorted(rule.methods & {"GET", "POST"}):
                fuzz.send(client, role, method, url)
        if "POST" in rule.methods:
            for body in generic_bodies(GENERIC_FIELDS):
                fuzz.send(client, role, "POST", real, **body)

    # 2. every form the pages showed (once, whoever sees it first): as filled in, then
    # field by field out of range
    for form in forms:
        path = path_of(form.action)
        key = (fuzz.rule_of("POST", path), form.key[1:])
        if path.startswith(SESSION_ENDING) or key in done_forms:
            continue
        done_forms.add(key)
        for body in form_bodies(form, fuzz.counter):
            response = fuzz.send(client, role, "POST", path, **body)
            if response is None or response.status_code != 200:
                continue
            for follow in forms_on(path, response):  # a dry run's "apply", a preview's
                follow_path = path_of(follow.action)  # "confirm"
                follow_key = (fuzz.rule_of("POST", follow_path), follow.key[1:])
                if follow_key not in done_forms and not follow_path.startswith(SESSION_ENDING):
                    done_forms.add(follow_key)
                    for follow_body in form_bodies(follow, fuzz.counter):
                        fuzz.send(client, role, "POST", follow_path, **follow_body)

    if not still_signed_in(client, role):
        fuzz.failures.append(Failure("-", "-", role, 0, "-", "the fuzz signed itself out"))
    for path in SESSION_ENDING[::-1]:
        fuzz.send(client, role, "POST", path, data={})


def test_no_input_gives_a_server_error(fuzz_app, session_factory, capsys):
    with fuzz_app.test_request_context(), session_factory(fuzz_app) as session:
        seeded = seed(session)
    fuzz = Fuzz(fuzz_app)
    done_rules: set = set()
    done_forms: set = set()

    for role in ROLES:
        run_role(fuzz, seeded, role, done_rules, done_forms)

    webhook = fuzz_app.test_client()
    for body in (b"", b"\x00\xff", b"[]", b'{"type": "payment_intent.succeeded"}', b"x" * 10000):
        response = webhook.post(
            "/stripe/webhook",
            data=body,
            content_type="application/json",
            headers={"Stripe-Signature": "t=1,v1=deadbeef"},
        )
        assert response.status_code == 400, body

    stale = {(m, r) for m, r, _why in KNOWN_500S} - fuzz.seen_known
    with capsys.disabled():
        print(f"\nfuzz: {fuzz.requests} requests, {len(done_rules)} rules, {len(done_forms)} forms")
        for method, rule in sorted(stale):
            print(f"fuzz: KNOWN_500S entry not seen on this database: {method} {rule}")
    first_of_route: dict[tuple[str, str], Failure] = {}
    for failure in fuzz.failures:
        first_of_route.setdefault((failure.method, failure.rule), failure)
    report = "\n\n".join(str(failure) for failure in first_of_route.values())
    assert not fuzz.failures, (
        f"{len(fuzz.failures)} server errors on {len(first_of_route)} routes "
        f"(the first of each below):\n\n{report}"
    )
