"""A stand-in Stripe on 127.0.0.1 that holds every request until the test releases it.

It answers every request it holds, once released, with a PaymentIntent echoing the amount
and currency it was sent, so a shop that waits long enough places its order: a test that
expects the shop to give up sees the difference. A request is released by ``release()``
or, so that a shop that never gives up still ends the test, after ``hold_at_most``
seconds. ``held`` counts the requests waiting right now, ``seen`` and ``answered`` every
request so far; tests assert on those, never on time.
"""

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_ids = itertools.count(1)


class HeldStripe:
    def __init__(self, *, hold_at_most: float = 10.0):
        self.hold_at_most = hold_at_most
        self.seen = 0
        self.held = 0
        self.answered = 0
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # a client that gave up
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> "HeldStripe":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def release(self) -> None:
        """Answer every held request, and from now on every new one at once."""
        self._released.set()

    def wait_until_held(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until ``count`` requests are held at once; ``False`` if they never are."""
        with self._changed:
            return self._changed.wait_for(lambda: self.held >= count, timeout=timeout)

    def _hold(self) -> None:
        with self._changed:
            self.seen += 1
            self.held += 1
            self._changed.notify_all()
        self._released.wait(timeout=self.hold_at_most)
        with self._changed:
            self.held -= 1
            self.answered += 1
            self._changed.notify_all()


def _intent(path: str, form: dict[str, list[str]]) -> dict:
    """A PaymentIntent as Stripe would answer ``path``: created, updated or confirmed."""
    parts = urlsplit(path).path.strip("/").split("/")  # v1, payment_intents[, id[, verb]]
    intent_id = parts[2] if len(parts) > 2 else f"pi_held_{next(_ids)}"
    status = "succeeded" if parts[-1] == "confirm" else "requires_payment_method"
    number = form.get("metadata[order_number]", [""])[0]
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": int(form.get("amount", ["100"])[0]),
        "currency": form.get("currency", ["cny"])[0],
        "status": status,
        "client_secret": f"{intent_id}_secret_held",
        "metadata": {"order_number": number} if number else {},
        "last_payment_error": None,
    }


def _handler_for(stand_in: HeldStripe):
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode()) if length else {}
            stand_in._hold()
            body = json.dumps(_intent(self.path, form)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
            pass

    return Handler
