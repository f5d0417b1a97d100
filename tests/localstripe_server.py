"""localstripe for the tests: started once per session on a free loopback port.

Not ``localstripe --port``: that binds every interface and reloads the state the last run
pickled to a shared file. This runs its aiohttp app on 127.0.0.1 from scratch.
"""

import json
import socket
import subprocess
import sys
import time
import urllib.request

RUNNER = (
    "import sys; from aiohttp import web; from localstripe.server import app; "
    "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)"
)
WEBHOOK_SECRET = "whsec_sourcefront_tests"
WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(log) -> tuple[subprocess.Popen, str]:
    """Start localstripe writing to the open file ``log``; wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited; see {log.name}")
        try:
            with urllib.request.urlopen(base + "/js.stripe.com/v3/", timeout=1) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"localstripe did not start; see {log.name}")


def register_webhook(base: str, url: str, *, name: str = "sourcefront-tests") -> None:
    """Point localstripe's webhook at ``url`` (re-registering the same name replaces it)."""
    body = json.dumps({"url": url, "secret": WEBHOOK_SECRET, "events": WEBHOOK_EVENTS})
    request = urllib.request.Request(
        f"{base}/_config/webhooks/{name}",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
