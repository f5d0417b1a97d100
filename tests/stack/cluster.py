"""A private PostgreSQL cluster for tests that stop and start the database.

The machine's shared PostgreSQL (127.0.0.1:5432) must never be restarted by a test: other
test runs and sessions use it. A test that needs an outage gets a cluster of its own,
``initdb``'d in a temporary folder and listening on a free loopback port, run by the
``postgres`` user (PostgreSQL refuses to run as root). It trusts local connections, like
the development set-up.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.localstripe_server import free_port

SERVER_USER = "postgres"


def postgres_bin() -> Path | None:
    """The folder of the newest installed PostgreSQL's server programs, if any."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


def skip_reason() -> str | None:
    """Why a private cluster cannot run here, or ``None``."""
    if postgres_bin() is None:
        return "PostgreSQL's server programs are not installed (/usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as its own user"
    return None


class PrivateCluster:
    """``start()``, ``stop()`` (fast: as an outage), ``url(database)``; ``remove()``."""

    def __init__(self):
        # Its own folder under /tmp, not pytest's tmp_path: the server's user must be able
        # to reach it, and pytest's folders are private to root.
        self.folder = Path(tempfile.mkdtemp(prefix="sourcefront-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgresql.log"
        self.port = free_port()
        self.bin = postgres_bin()

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed: {done.stderr or done.stdout}")
        return done

    def init(self) -> "PrivateCluster":
        if os.geteuid() == 0:
            shutil.chown(self.folder, SERVER_USER)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop at once (``-m fast``): open connections are cut, as in an outage."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def wait_until_ready(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self._run(
                "pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q", check=False
            )
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
