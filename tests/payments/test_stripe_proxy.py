"""The Stripe client reads the proxy settings once, when it is made, for the API's address.

``requests`` would read the whole environment (and look for a ``.netrc``) on every call;
the shop reads ``HTTP(S)_PROXY`` and ``NO_PROXY`` once, so a deployment behind a proxy
still reaches Stripe through it. The stand-in Stripe (tests.held_stripe) plays the proxy:
a request sent through a proxy names the whole address, which it answers all the same.
"""

import socket
import threading

import pytest
import stripe

from shop.payments.stripe_gateway import TimeBudgetClient
from tests.held_stripe import HeldStripe

UNREACHABLE = "http://stripe.invalid"  # never resolved: a call gets there only by proxy


@pytest.fixture
def stand_in():
    with HeldStripe() as held:
        held.release()
        yield held


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def create_intent(http_client: TimeBudgetClient, api_base: str):
    client = stripe.StripeClient(
        "sk_test_proxy",
        base_addresses={"api": api_base},
        max_network_retries=0,
        http_client=http_client,
    )
    return client.v1.payment_intents.create(params={"amount": 8900, "currency": "cny"})


def test_calls_go_through_the_proxy_set_when_the_client_was_made(monkeypatch, stand_in):
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", stand_in.base)
    http_client = TimeBudgetClient(5, UNREACHABLE)
    monkeypatch.delenv("HTTP_PROXY")  # read once: a change later does not matter

    intent = create_intent(http_client, UNREACHABLE)

    assert intent.amount == 8900 and stand_in.seen == 1


def test_no_proxy_is_honoured_for_the_api_s_address(monkeypatch, stand_in):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    intent = create_intent(TimeBudgetClient(5, stand_in.base), stand_in.base)

    assert intent.amount == 8900 and stand_in.seen == 1


def test_each_thread_s_session_reads_nothing_from_the_environment(monkeypatch, stand_in):
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    http_client = TimeBudgetClient(5, stand_in.base)
    create_intent(http_client, stand_in.base)
    # Set after the client was made: a session that read the environment would send the
    # next call to this dead proxy and fail.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sessions = []

    def call():
        create_intent(http_client, stand_in.base)
        sessions.append(http_client._thread_session())

    for _ in range(2):
        thread = threading.Thread(target=call)
        thread.start()
        thread.join()
    create_intent(http_client, stand_in.base)

    assert stand_in.seen == 4
    assert len({id(session) for session in sessions}) == 2  # one per thread
    assert not any(session.trust_env for session in sessions)
