"""Development and tests only: localstripe, the offline Stripe, on the loopback interface.

``python -m shop.devstripe --port 8420 --webhook-url http://127.0.0.1:5000/stripe/webhook``

Unlike ``localstripe --port`` (which listens on every interface), this listens on
127.0.0.1 only, and registers the shop's webhook once it is up (localstripe's
``POST /_config/webhooks/<id>``), signed with the development webhook secret, so a
payment in the browser reaches the shop as a real signed event.
"""

import argparse
import threading
import time

import requests

from shop.config import DEV_STRIPE_KEYS

WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


def wait_until_up(base: str, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/js.stripe.com/v3/", timeout=1).status_code == 200:
                return True
        except requests.ConnectionError:
            time.sleep(0.1)
    return False


def register_webhook(base: str, url: str, secret: str, *, name: str = "sourcefront") -> None:
    """Point localstripe's webhook ``name`` at ``url`` (registering it again replaces it)."""
    requests.post(
        f"{base}/_config/webhooks/{name}",
        json={"url": url, "secret": secret, "events": WEBHOOK_EVENTS},
        timeout=5,
    ).raise_for_status()


def shorten_webhook_delay(seconds: float) -> None:
    """localstripe sleeps a fixed second before each delivery; give its webhook module an
    ``asyncio`` whose ``sleep`` waits at most ``seconds`` (nothing else changes)."""
    import asyncio
    import types

    from localstripe import webhooks

    def sleep(delay, *args, **kwargs):
        return asyncio.sleep(min(delay, seconds), *args, **kwargs)

    webhooks.asyncio = types.SimpleNamespace(
        **{name: getattr(asyncio, name) for name in dir(asyncio) if not name.startswith("__")},
    )
    webhooks.asyncio.sleep = sleep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook-url", help="the shop's /stripe/webhook to register")
    parser.add_argument("--secret", default=DEV_STRIPE_KEYS["STRIPE_WEBHOOK_SECRET"])
    parser.add_argument("--from-scratch", action="store_true", help="forget earlier runs")
    parser.add_argument(
        "--webhook-delay",
        type=float,
        help="seconds before each webhook is sent (localstripe waits 1; tests use less)",
    )
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe.resources import store
    from localstripe.server import app

    if not args.from_scratch:
        store.try_load_from_disk()
    if args.webhook_delay is not None:
        shorten_webhook_delay(args.webhook_delay)
    base = f"http://127.0.0.1:{args.port}"

    def register_when_up():
        if wait_until_up(base):
            register_webhook(base, args.webhook_url, args.secret)
            print(f"localstripe: webhook registered for {args.webhook_url}", flush=True)

    if args.webhook_url:
        threading.Thread(target=register_when_up, daemon=True).start()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
