"""deploy/nginx.conf: nginx accepts it (``nginx -t``), and served for real — in front of
two stand-in instances that echo what they received — it passes the headers the shop's
TRUSTED_PROXY_COUNT=1 relies on, spreads requests over both instances and survives one
going down, serves every static file under its content-hashed name from disk with a
year's cache, keeps /metrics private and enforces the shop's own body limits.

The site file is used as written except for what cannot work in a test: the certificate
and log paths, the checkout's path, the listening ports and the instances' ports (each
replacement must find its text, so a changed site file fails here instead of passing
unchecked). A self-signed certificate for shop.example is made with openssl.
"""

import http.client
import json
import re
import runpy
import shutil
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shop.assets import build_manifest
from shop.catalog.csv_io import CSV_MAX_BYTES
from shop.config import default_settings
from shop.images import MAX_REQUEST_BYTES
from tests.localstripe_server import free_port
from tests.nginx_site import HOST, NGINX, ROOT, SITE, ShopConnection, nginx, prepared_site
from tests.processes import stop

pytestmark = pytest.mark.skipif(
    NGINX is None or shutil.which("openssl") is None,
    reason="nginx or openssl is not installed: deploy/nginx.conf cannot be checked here "
    "(apt-get install nginx-light openssl)",
)


# --- the site file, read -----------------------------------------------------------------


def directive(text: str, name: str) -> list[str]:
    """The values of every ``name ...;`` line in an nginx file (comments left out)."""
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    return [m.group(1) for line in lines if (m := re.match(rf"\s*{name}\s+([^;]+);", line))]


def kib(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmM]?)", value).groups()
    return int(number) * {"": 1 / 1024, "k": 1, "m": 1024}[unit.lower()]


def test_body_limits_match_the_shop_s():
    site = SITE.read_text()
    limits = [kib(value) for value in directive(site, "client_max_body_size")]
    app_wide = default_settings(Path("instance"))["MAX_CONTENT_LENGTH"] // 1024
    largest_route = (CSV_MAX_BYTES + 64 * 1024) // 1024  # shop/admin/products.py
    assert limits == [app_wide, largest_route]
    assert largest_route > MAX_REQUEST_BYTES // 1024  # the image uploads fit too


def test_timeouts_match_gunicorn_s():
    site = SITE.read_text()
    gunicorn = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert directive(site, "proxy_read_timeout") == [f"{gunicorn['timeout']}s"]
    assert directive(site, "proxy_send_timeout") == [f"{gunicorn['timeout']}s"]
    keepalive = directive(site, "keepalive_timeout")
    assert keepalive and int(keepalive[0].rstrip("s")) < gunicorn["keepalive"]


def test_two_or_more_instances_on_loopback():
    servers = directive(SITE.read_text(), "server")
    addresses = [value.split()[0] for value in servers]
    assert addresses == ["127.0.0.1:8001", "127.0.0.1:8002"]


# --- the site file, run ------------------------------------------------------------------


class Echo(BaseHTTPRequestHandler):
    """A stand-in instance: answers with its name, the path and the headers it got."""

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {
                "instance": self.server.name,
                "path": self.path,
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body_length": length,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


def start_instance(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_nginx_accepts_the_site(tmp_path):
    result = nginx(tmp_path, prepared_site(tmp_path), "-t", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.fixture
def proxy(tmp_path):
    """nginx with the site in front of two stand-in instances; → a request function."""
    instances = {"a": start_instance("a"), "b": start_instance("b")}
    ports = {
        "a": instances["a"].server_port,
        "b": instances["b"].server_port,
        "https": free_port(),
        "http": free_port(),
    }
    wrapper = prepared_site(tmp_path, ports=ports)
    process = nginx(tmp_path, wrapper, "-g", "daemon off;", start_new_session=True)
    context = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))

    def request(method, path, *, headers=None, body=None, tls=True):
        if tls:
            connection = ShopConnection("127.0.0.1", ports["https"], context=context, timeout=10)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=10)
        connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
        response = connection.getresponse()
        content = response.read()
        connection.close()
        return response, content

    try:
        for _ in range(100):
            try:
                request("GET", "/healthz")
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.05)
        else:
            pytest.fail("nginx did not start")
        if process.poll() is not None:
            pytest.fail(f"nginx stopped:\n{(tmp_path / 'error.log').read_text()}")
        request.instances = instances
        yield request
    finally:
        stop(process)
        for server in instances.values():
            server.shutdown()
            server.server_close()


def echoed(content: bytes) -> dict:
    return json.loads(content)


def test_the_instances_get_the_headers_trusted_proxy_count_1_expects(proxy):
    response, content = proxy(
        "GET",
        "/products?page=2",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "chosen-by-visitor"},
    )
    seen = echoed(content)
    assert response.status == 200
    assert seen["path"] == "/products?page=2"
    assert seen["headers"]["host"] == HOST
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"  # the visitor's claim dropped
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert re.fullmatch(r"[0-9a-f]{32}", seen["headers"]["x-request-id"])


def test_requests_are_spread_over_both_instances_and_survive_one_stopping(proxy):
    seen = {echoed(proxy("GET", f"/products/{n}")[1])["instance"] for n in range(6)}
    assert seen == {"a", "b"}
    proxy.instances["a"].shutdown()
    proxy.instances["a"].server_close()
    answers = [proxy("GET", f"/products/{n}") for n in range(6)]
    assert [response.status for response, _ in answers] == [200] * 6
    assert {echoed(content)["instance"] for _, content in answers} == {"b"}


def test_every_static_file_is_served_from_disk_under_its_hashed_name(proxy):
    manifest = build_manifest(ROOT / "static")
    assert manifest
    for name, (hashed, _mtime) in manifest.items():
        response, content = proxy("GET", f"/static/{hashed}")
        assert response.status == 200, hashed
        assert content == (ROOT / "static" / name).read_bytes(), hashed
        assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
        assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_a_plain_static_name_is_kept_an_hour_and_an_unknown_one_goes_to_the_shop(proxy):
    response, content = proxy("GET", "/static/css/shop.css")
    assert response.status == 200
    assert content == (ROOT / "static" / "css" / "shop.css").read_bytes()
    assert response.getheader("Cache-Control") == "public, max-age=3600"
    for missing in ("/static/css/gone.0123456789.css", "/static/css/gone.css"):
        response, content = proxy("GET", missing)
        assert echoed(content)["path"] == missing  # the shop answers (its 404)


def test_metrics_are_not_served_to_the_public_and_media_is_proxied(proxy):
    for path in ("/metrics", "/metrics?format=text", "/metrics/"):
        response, _ = proxy("GET", path)
        assert response.status == 403, path
    response, content = proxy("GET", "/media/products/ab.webp")
    assert echoed(content)["path"] == "/media/products/ab.webp"


def test_bodies_over_the_shop_s_limits_are_refused_before_the_shop(proxy):
    two_mib = b"x" * (2 * 1024 * 1024)
    response, _ = proxy("POST", "/cart/add", body=two_mib)
    assert response.status == 413
    response, content = proxy("POST", "/admin/csv", body=two_mib)
    assert echoed(content)["body_length"] == len(two_mib)
    response, _ = proxy("POST", "/admin/csv", body=b"x" * (CSV_MAX_BYTES + 65 * 1024))
    assert response.status == 413


def test_plain_http_is_redirected_to_https(proxy):
    response, _ = proxy("GET", "/products?page=2", tls=False)
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/products?page=2"
