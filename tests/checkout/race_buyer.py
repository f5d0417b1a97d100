"""One buyer in a checkout race: its own test client (cookie, session, cart), ready at the
review page, then one POST to place the order. ``run_buyer`` is the body of a spawned
worker process, which builds its own app; ``prepare`` and ``place`` serve threads too.

Outcomes are plain dicts, so they cross a process boundary as they are.
"""

import time
import traceback

from tests.checkout_helpers import PICKUP, add_to_cart


def prepare(client, variant_id: int) -> None:
    """One piece in the cart, details given, review seen: everything but the click."""
    response = add_to_cart(client, variant_id, 1)
    assert response.status_code == 303, response.status_code
    response = client.post("/checkout", data=PICKUP)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/checkout/review"), response.headers
    response = client.get("/checkout/review")
    assert response.status_code == 200, response.status_code
    with client.session_transaction() as browser:
        browser.pop("_flashes", None)  # "Added 1 piece": not part of the outcome


def place(client) -> dict:
    """Click "Place order": the status, where it sent the buyer, and what it flashed."""
    response = client.post("/checkout/place")
    with client.session_transaction() as browser:
        flashes = [list(flash) for flash in browser.get("_flashes", [])]
    return {
        "status": response.status_code,
        "location": response.headers.get("Location", ""),
        "flashes": flashes,
    }


def run_buyer(settings: dict, variant_id: int, buyer: int, events, go, start_at) -> None:
    """Build an app, get to the review, say ready, wait for ``go`` and the common start
    time, place. Reports ``("ready", buyer)``, then ``("done", buyer, outcome)`` or, on any
    failure, ``("error", buyer, traceback)`` on the ``events`` queue."""
    from shop import create_app

    app = None
    try:
        app = create_app(settings)
        client = app.test_client()
        prepare(client, variant_id)
        events.put(("ready", buyer))
        if not go.wait(timeout=180):
            raise TimeoutError("the race never started")
        time.sleep(max(start_at.value - time.time(), 0))
        events.put(("done", buyer, place(client)))
    except Exception:  # the parent must hear of it, not wait for a timeout
        events.put(("error", buyer, traceback.format_exc()))
    finally:
        if app is not None:
            app.extensions["sa_engine"].dispose()
