"""localstripe for the tests: ``shop.devstripe`` on a free loopback port, from scratch."""

import random
import socket
import subprocess
import sys
import time
from pathlib import Path

from shop import devstripe

WEBHOOK_SECRET = "whsec_sourcefront_tests"
# Not the seeded ``random``: test processes seeded alike would pick the same ports.
_UNSEEDED = random.SystemRandom()


def _ephemeral_ports() -> range:
    """The kernel's range for outgoing connections' local ports (Linux; a common default
    elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def free_port() -> int:
    """A loopback port free now, chosen below the kernel's ephemeral range.

    A port the kernel hands out (``bind(0)``) comes from the same range as the local ports
    of outgoing connections, and a server started seconds later (nginx in the stack test)
    can find one of those in its place: with both suites side by side, CI once did. Below
    the range, only another listener can take it, and each picks at random."""
    ephemeral = _ephemeral_ports()
    choices = range(20000, ephemeral.start) if ephemeral.start > 21000 else None
    for _ in range(200):
        port = _UNSEEDED.choice(choices) if choices else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free loopback port below the ephemeral range")


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
