"""One buyer in the chaos test (tests/test_chaos.py): a real HTTP client with its own
cookies, going cart → details → review → place → pay by card against gunicorn while its
workers are being killed.

A killed worker shows up as a connection error (reset, refused, closed mid-answer), never
as an answer. The buyer then does what a person does: reloads the same step a few times,
with the same form (the same one-time ``request_key`` for "Place order"), and gives up
after ``ATTEMPTS``. A buyer sent back to the cart for stock stops there.

Every HTTP 500 the shop answers is kept (its step and the start of its body): a 500 is a
bug, a kill is not. Everything the buyer saw is an ``Outcome`` the test checks and sums up.
"""

import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
import stripe

from tests.checkout_helpers import PICKUP

ATTEMPTS = 4  # tries of one step before the buyer gives up
TIMEOUT = (3, 30)  # connect, read (seconds); Stripe calls give up after 8 s
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # attaches, then its charge fails
REQUEST_KEY = re.compile(
    r'name="request_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="request_key"'
)
STOCK_REFUSAL = re.compile(r"Only \d+ of \S+ left")


class GaveUp(Exception):
    """Every try of a step failed: the buyer closes the tab."""


class Unexpected(Exception):
    """The shop answered something no buyer should see."""


@dataclass
class Outcome:
    buyer: int
    wanted: tuple[int, int]  # (variant id, pieces)
    end: str = "running"  # submitted, refused, gave_up, unexpected
    step: str = ""  # where it ended (for refused, gave_up, unexpected)
    detail: str = ""
    number: str = ""  # the order number, once "Place order" answered
    paid_seen: bool = False  # the payment page said "paid" while the buyer watched
    retries: int = 0
    connection_errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # every HTTP 500 body (start)
    trail: list[str] = field(default_factory=list)  # every request: "12.34 pay 200"


class Buyer:
    def __init__(self, index: int, base: str, stripe_settings: dict, wanted, seed: int):
        self.base = base
        self.rng = random.Random(seed)
        self.outcome = Outcome(buyer=index, wanted=wanted)
        self.stripe = stripe.StripeClient(
            stripe_settings["STRIPE_SECRET_KEY"],
            base_addresses={"api": stripe_settings["STRIPE_API_BASE"]},
        )
        self.first_card_declined = index % 5 == 0  # a typo on the first try

    # --- HTTP with a person's patience --------------------------------------------------

    def send(self, http: requests.Session, step: str, method: str, path: str, **kwargs):
        """The answer to one step, tried up to ``ATTEMPTS`` times through kills; 500s,
        502–504 and connection errors are retried (and a 500 recorded)."""
        for attempt in range(ATTEMPTS):
            if attempt:
                self.outcome.retries += 1
                time.sleep(self.rng.uniform(0.3, 1.2))
            try:
                response = http.request(
                    method, self.base + path, allow_redirects=False, timeout=TIMEOUT, **kwargs
                )
            except requests.RequestException as error:
                self.outcome.connection_errors += 1
                self.note(f"{step} {type(error).__name__}")
                continue
            self.outcome.statuses[response.status_code] += 1
            self.note(f"{step} {response.status_code}")
            if response.status_code == 500:
                self.outcome.server_errors.append(f"{step} {path}: {response.text[:2000]}")
                continue
            if response.status_code in (502, 503, 504):
                continue
            return response
        raise GaveUp(step)

    def note(self, what: str) -> None:
        self.outcome.trail.append(f"{time.time():.2f} {what}")

    @staticmethod
    def location(response) -> str:
        if response.status_code not in (301, 302, 303, 307, 308):
            return ""
        return requests.utils.urlparse(response.headers.get("Location", "")).path

    def refused(self, http, step: str) -> None:
        """Sent back to the cart: read why (the flashed message), then stop."""
        self.outcome.end, self.outcome.step = "refused", step
        try:
            page = self.send(http, "cart", "GET", "/cart").text
        except GaveUp:
            self.outcome.detail = "(the cart page never answered)"
            return
        found = STOCK_REFUSAL.search(page) or re.search(r"Your cart is empty", page)
        self.outcome.detail = found.group(0) if found else "(no message)"

    # --- the buyer ------------------------------------------------------------------------

    def http_session(self) -> requests.Session:
        """The buyer's browser: its own cookies."""
        return requests.Session()

    def run(self) -> Outcome:
        try:
            with self.http_session() as http:
                self.shop(http)
        except GaveUp as error:
            self.outcome.end, self.outcome.step = "gave_up", str(error)
        except Unexpected as error:
            self.outcome.end, self.outcome.detail = "unexpected", str(error)
        except Exception as error:  # noqa: BLE001 - reported, the test fails on it
            self.outcome.end, self.outcome.detail = "unexpected", repr(error)
        return self.outcome

    def shop(self, http: requests.Session) -> None:
        variant_id, pieces = self.outcome.wanted
        self.send(
            http, "add", "POST", "/cart/add", data={"variant_id": variant_id, "quantity": pieces}
        )
        answer = self.send(http, "details", "POST", "/checkout", data=PICKUP)
        if self.location(answer) == "/cart":
            return self.refused(http, "details")
        self.expect(answer, "details", "/checkout/review")
        number = self.place(http)
        if number:
            self.outcome.number = number
            self.pay(http, number)

    def expect(self, answer, step: str, where: str) -> None:
        if self.location(answer) != where:
            self.outcome.step = step
            raise Unexpected(f"{step}: {answer.status_code} → {self.location(answer)!r}")

    def place(self, http) -> str:
        """Review, then "Place order" with the review's one-time key (the same key on every
        retry); the order number, or "" when refused."""
        for _ in range(3):
            review = self.send(http, "review", "GET", "/checkout/review")
            if self.location(review) == "/cart":
                self.refused(http, "review")
                return ""
            if review.status_code != 200:
                self.outcome.step = "review"
                raise Unexpected(f"review: {review.status_code} → {self.location(review)!r}")
            found = REQUEST_KEY.search(review.text)
            if not found:
                raise Unexpected("review: no request_key on the page")
            key = found.group(1) or found.group(2)
            placed = self.send(http, "place", "POST", "/checkout/place", data={"request_key": key})
            where = self.location(placed)
            if where.startswith("/checkout/pay/"):
                return where.rsplit("/", 1)[-1]
            if where == "/cart":
                self.refused(http, "place")
                return ""
            if where != "/checkout/review":  # prices changed, or Stripe did not answer
                self.outcome.step = "place"
                raise Unexpected(f"place: {placed.status_code} → {where!r}")
        raise GaveUp("place")

    def card(self, number: str) -> str:
        """A PaymentMethod, as Stripe.js makes one in the browser (localstripe is not
        killed, but is asked again if it does not answer)."""
        for attempt in range(ATTEMPTS):
            try:
                method = self.stripe.v1.payment_methods.create(
                    params={
                        "type": "card",
                        "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                    }
                )
                self.note(f"card {number[-4:]} {method.id}")
                return method.id
            except stripe.APIConnectionError:
                time.sleep(0.2 * (attempt + 1))
        raise GaveUp("card")

    def pay(self, http, number: str) -> None:
        path = f"/checkout/pay/{number}/card"
        method = self.card(DECLINED_CARD if self.first_card_declined else GOOD_CARD)
        for _ in range(ATTEMPTS):
            answer = self.send(http, "pay", "POST", path, json={"payment_method": method})
            body = (
                answer.json()
                if answer.headers.get("Content-Type", "").startswith("application/json")
                else {}
            )
            status = body.get("status")
            self.note(f"pay said {status}")
            if answer.status_code == 200 and status == "processing":
                self.outcome.end = "submitted"
                self.watch(http, number)
                return
            if answer.status_code == 200 and status == "declined":
                method = self.card(GOOD_CARD)  # the buyer types the card again, right
                continue
            if answer.status_code == 409:  # another try of ours is under way, or done
                if self.watch(http, number, seconds=2.0) in ("processing", "paid"):
                    self.outcome.end = "submitted"
                    return
                continue
            self.outcome.step = "pay"
            raise Unexpected(f"pay: {answer.status_code} {answer.text[:300]!r}")
        raise GaveUp("pay")

    def watch(self, http, number: str, seconds: float = 4.0) -> str:
        """Poll the payment page's status as pay.js does, until "paid" or ``seconds``;
        the last stage seen. A kill here only ends the watching."""
        deadline = time.monotonic() + seconds
        stage = ""
        while time.monotonic() < deadline:
            try:
                answer = self.send(http, "status", "GET", f"/checkout/pay/{number}/status")
            except GaveUp:
                return stage
            if answer.status_code == 200:
                stage = answer.json().get("stage", "")
                if stage == "paid":
                    self.outcome.paid_seen = True
                    return stage
            time.sleep(0.5)
        return stage
