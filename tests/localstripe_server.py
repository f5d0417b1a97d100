"""localstripe for the tests: ``shop.devstripe`` on a free loopback port, from scratch."""

import socket
import subprocess
import sys
import time

from shop import devstripe

WEBHOOK_SECRET = "whsec_sourcefront_tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(log) -> tuple[subprocess.Popen, str]:
    """Start localstripe writing to the open file ``log``; wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shop.devstripe",
            "--port",
            str(port),
            "--from-scratch",
            "--webhook-delay",
            "0.1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    if devstripe.wait_until_up(base):
        return process, base
    process.kill()
    time.sleep(0.1)
    raise RuntimeError(f"localstripe did not start; see {log.name}")


def register_webhook(base: str, url: str, *, name: str = "sourcefront-tests") -> None:
    """Point localstripe's webhook at ``url`` (re-registering the same name replaces it)."""
    devstripe.register_webhook(base, url, WEBHOOK_SECRET, name=name)


def payment_intents(app) -> list:
    """Every PaymentIntent localstripe has (it keeps those of earlier tests), paged."""
    from shop.payments.stripe_gateway import gateway

    with app.app_context():
        client = gateway().client
        intents, after = [], None
        while True:
            params = {"limit": 100, **({"starting_after": after} if after else {})}
            page = client.v1.payment_intents.list(params=params)
            intents.extend(page.data)
            if not page.has_more or not page.data:
                return intents
            after = page.data[-1].id
