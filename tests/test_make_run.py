"""``make run PORT=… LOCALSTRIPE_PORT=…``: the shop, localstripe's webhook and the links in
the emails the shop writes all follow the ports given (emails used to say :5000 always)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shop.links import external_url

ROOT = Path(__file__).resolve().parent.parent


def dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # The Makefile's defaults, not whatever this shell happens to export.
    ours = ("SHOP_BASE_URL", "PORT", "HOST", "LOCALSTRIPE_PORT", "MAKEFLAGS")
    env = {name: value for name, value in os.environ.items() if name not in ours}
    done = subprocess.run(
        ["make", "-n", "run", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_make_run_serves_and_links_on_the_port_given(make_app):
    commands = dry_run("PORT=5099", "LOCALSTRIPE_PORT=8499")
    assert "--port 5099" in commands
    assert "--port 8499" in commands
    assert "--webhook-url http://127.0.0.1:5099/stripe/webhook" in commands
    [base] = re.findall(r"SHOP_BASE_URL=(\S+)", commands)
    assert base == "http://127.0.0.1:5099"
    assert "5000" not in commands and "8420" not in commands

    app = make_app(SHOP_BASE_URL=base, SERVER_NAME=None)
    with app.test_request_context("/", base_url="http://elsewhere.example"):
        link = external_url("orders.order_detail", number="SF-TEST")
    assert link.startswith("http://127.0.0.1:5099/orders/")


def test_make_run_keeps_the_usual_ports_by_default():
    commands = dry_run()
    assert "--port 5000" in commands and "SHOP_BASE_URL=http://127.0.0.1:5000" in commands
