"""deploy/nginx.conf made runnable in a test: test paths, ports and a self-signed
certificate in place of the production ones (each replacement must find its text, so a
changed site file fails the tests instead of passing unchecked). Used by the nginx tests
(tests/deploy) and the stack test (tests/stack)."""

import http.client
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "deploy" / "nginx.conf"
HOST = "shop.example"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )


NGINX = nginx_binary()


def replace(text: str, old: str, new: str) -> str:
    assert old in text, f"deploy/nginx.conf no longer has {old!r}: update this test"
    return text.replace(old, new)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def prepared_site(folder: Path, *, ports: dict | None = None) -> Path:
    """The site file with test paths (and, given ``ports``, test ports); → the wrapper
    nginx.conf that includes it, as nginx's main file."""
    cert, key = make_certificate(folder)
    site = SITE.read_text()
    site = replace(site, "/etc/letsencrypt/live/shop.example/fullchain.pem", str(cert))
    site = replace(site, "/etc/letsencrypt/live/shop.example/privkey.pem", str(key))
    site = replace(site, "/var/log/nginx/", f"{folder}/")
    site = replace(site, "root /srv/sourcefront;", f"root {ROOT};")
    if ports:
        site = replace(site, "127.0.0.1:8001", f"127.0.0.1:{ports['a']}")
        site = replace(site, "127.0.0.1:8002", f"127.0.0.1:{ports['b']}")
        site = re.sub(r"\n\s*listen \[::\]:[^;]+;", "", site)  # no IPv6 needed here
        site = replace(site, "listen 443 ", f"listen 127.0.0.1:{ports['https']} ")
        site = replace(site, "listen 80", f"listen 127.0.0.1:{ports['http']}")
    (folder / "site.conf").write_text(site)
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    wrapper = folder / "nginx.conf"
    wrapper.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # workers read the test's own files
        + f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        + "events { worker_connections 64; }\nhttp {\n"
        + "    types { text/css css; application/javascript js; image/svg+xml svg; }\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        + f"    access_log {folder}/access.log;\n"
        + f"    include {folder}/site.conf;\n}}\n"
    )
    return wrapper


def nginx(folder: Path, wrapper: Path, *args: str, **kwargs):
    return (subprocess.run if "-t" in args else subprocess.Popen)(
        [NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(wrapper), *args],
        **kwargs,
    )


class ShopConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 that says it wants shop.example (SNI), as a browser would."""

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=HOST)
