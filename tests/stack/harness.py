"""The production shape on one machine, for the stack test: nginx (deploy/nginx.conf) in
front of two gunicorn instances of the shop (deploy/gunicorn.conf.py, production
settings), one RQ worker and the scheduler (``flask worker``/``flask scheduler``), over a
PostgreSQL cluster and a Redis of the test's own (so they can be stopped and started
without touching the machine's shared ones), with moto's S3 server as the object store and
localstripe as Stripe. Each process has its own instance folder: nothing another needs may
live there.

localstripe cannot speak TLS to a name it cannot resolve, so its webhooks enter through a
plain-HTTP listener added to the test's nginx in front of the same upstream — what a load
balancer that ends TLS before nginx would do. The buyers' plain HTTP client sends no CSRF
token (as in the chaos test), so the instances run with ``WTF_CSRF_ENABLED = False`` in
their instance config; everything else is the production configuration.

``Stack.start()`` brings everything up and migrates the database; ``stop()`` takes it all
down (always, also after a failure). Parts can be stopped, killed and started again while
the shop runs: ``instances[name].kill()``, ``redis.restart()``, ``postgres.stop()`` ...
"""

import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from tests import localstripe_server
from tests.localstripe_server import free_port
from tests.nginx_site import HOST, NGINX, ROOT, nginx, prepared_site
from tests.processes import stop
from tests.stack.cluster import PrivateCluster

GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
SECRET_KEY = "stack-test-secret-" + "x" * 40
BUCKET = "sourcefront-stack"


# Settings a test needs that no environment variable sets (the instance's config.py).
INSTANCE_CONFIG = """\
WTF_CSRF_ENABLED = False  # the buyers' plain HTTP client (see the module docstring)
JOBS_MAINTENANCE_SECONDS = 5  # a killed worker's job is requeued within seconds
JOBS_HEARTBEAT_GRACE_SECONDS = 15  # ... of its heartbeat lapsing (10 s + this, not + 60 s)
"""

# localstripe's way in: plain HTTP to the same instances (see the module docstring).
WEBHOOK_ENTRANCE = """
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://sourcefront;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host {host};
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Request-ID $request_id;
        proxy_next_upstream error timeout;
    }}
}}
"""


class PinnedHost(HTTPAdapter):
    """HTTPS to nginx on 127.0.0.1 that says it wants shop.example (SNI and certificate
    name), as a browser that resolved the shop's name would."""

    def __init__(self, cafile: Path):
        self.context = ssl.create_default_context(cafile=str(cafile))
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self.context
        kwargs["server_hostname"] = HOST
        kwargs["assert_hostname"] = HOST
        return super().init_poolmanager(*args, **kwargs)


@dataclass
class Process:
    """A server started in its own process group, restartable with the same command."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """``kill -9`` of the whole process group: no goodbye, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, size: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-size:]


@dataclass
class PrivateRedis:
    """A Redis of the test's own on a free port, keeping nothing on disk."""

    folder: Path
    port: int = field(default_factory=free_port)
    server: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.server is None:
            command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
            self.server = Process("redis", command, dict(os.environ), self.folder / "redis.log")
        self.server.start()
        wait_for(lambda: _redis_answers(self.url), 10, "Redis did not start")

    def stop(self) -> None:
        if self.server is not None:
            self.server.kill()

    def restart(self) -> None:
        self.stop()
        self.start()


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def wait_for(check, timeout: float, message: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise RuntimeError(message)


class Stack:
    def __init__(self, *, workers: int = 1, threads: int = 4, extra_env: dict | None = None):
        self.folder = Path(tempfile.mkdtemp(prefix="sourcefront-stack-"))
        self.workers, self.threads = workers, threads
        self.extra_env = extra_env or {}
        self.postgres = PrivateCluster()
        self.redis = PrivateRedis(self.folder)
        self.s3 = None
        self.instances: dict[str, Process] = {}
        self.proxy: subprocess.Popen | None = None
        self.ports = {"a": free_port(), "b": free_port(), "https": free_port(), "http": free_port()}
        self.ports["hooks"] = free_port()
        self.database_url = ""
        self.stripe_base = ""
        self.localstripe: subprocess.Popen | None = None
        self.worker: Process | None = None
        self.scheduler: Process | None = None

    # --- up and down ----------------------------------------------------------------------

    def start(self) -> "Stack":
        from moto.server import ThreadedMotoServer

        self.postgres.init().start()
        self.postgres.wait_until_ready()
        self.database_url = self.postgres.create_database("shop")
        self.redis.start()
        self.s3_port = free_port()
        self.s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=self.s3_port, verbose=False)
        self.s3.start()
        self._create_bucket()
        with open(self.folder / "localstripe.log", "w") as log:
            self.localstripe, self.stripe_base = localstripe_server.start(log)
        self.flask("db", "upgrade")
        for name in ("a", "b"):
            self.instances[name] = self._instance(name)
            self.instances[name].start()
        self.worker = self._command("worker", "worker")
        self.scheduler = self._command("scheduler", "scheduler")
        self.worker.start()
        self.scheduler.start()
        for name in ("a", "b"):
            self.wait_until_serving(name)
        wrapper = prepared_site(self.folder, ports=self.ports)
        # Room for many buyers: each keeps a connection to nginx and nginx some upstream.
        wrapper.write_text(
            wrapper.read_text().replace("worker_connections 64;", "worker_connections 1024;")
        )
        with open(self.folder / "site.conf", "a") as site:
            site.write(WEBHOOK_ENTRANCE.format(port=self.ports["hooks"], host=HOST))
        self.proxy = nginx(self.folder, wrapper, "-g", "daemon off;", start_new_session=True)
        wait_for(self._proxy_answers, 10, "nginx did not start")
        localstripe_server.register_webhook(
            self.stripe_base, f"http://127.0.0.1:{self.ports['hooks']}/stripe/webhook", name="stack"
        )
        return self

    def stop(self) -> None:
        """Take every part down, each whatever happened to the others; the folder (logs)
        goes too unless ``STACK_KEEP_LOGS=1``."""
        steps = [lambda: stop(self.proxy) if self.proxy is not None else None]
        steps += [process.stop for process in [*self.instances.values(), self.worker] if process]
        steps += [self.scheduler.stop] if self.scheduler else []
        steps += [self._stop_localstripe, self.redis.stop, self.postgres.remove]
        steps += [self.s3.stop] if self.s3 is not None else []
        for step in steps:
            try:
                step()
            except Exception as error:  # noqa: BLE001 - the next part must still stop
                print(f"stack: stopping failed: {error!r}")
        if os.environ.get("STACK_KEEP_LOGS") != "1":
            shutil.rmtree(self.folder, ignore_errors=True)

    def _stop_localstripe(self) -> None:
        if self.localstripe is not None:  # started in the test's own process group
            self.localstripe.terminate()
            self.localstripe.wait(timeout=10)

    # --- the parts ------------------------------------------------------------------------

    def env(self, name: str) -> dict[str, str]:
        instance = self.folder / f"instance-{name}"
        instance.mkdir(exist_ok=True)
        (instance / "config.py").write_text(INSTANCE_CONFIG)
        from tests.localstripe_server import WEBHOOK_SECRET

        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SHOP_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "SHOP_BASE_URL": f"https://{HOST}",
            "TRUSTED_PROXY_COUNT": "1",
            "SHOP_INSTANCE_PATH": str(instance),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "STORAGE_URL": f"s3://{BUCKET}/shop",
            "STORAGE_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "AWS_ACCESS_KEY_ID": "stack-test",
            "AWS_SECRET_ACCESS_KEY": "stack-test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "STRIPE_SECRET_KEY": "sk_test_stack",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_stack",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.stripe_base,
            "STRIPE_JS_URL": f"{self.stripe_base}/js.stripe.com/v3/",
            "SCHEDULE_EXPIRE_RESERVATIONS_SECONDS": "2",
            "SCHEDULE_RECONCILE_PAYMENTS_SECONDS": "3",
            "RECONCILE_MIN_AGE_MINUTES": "0",
            "JOBS_RETRY_INTERVALS": "1,1,2,2,5",
            "MAIL_OUTBOX": str(self.folder / "outbox"),
            "LOG_FORMAT": "json",
            **self.extra_env,
        }

    def _instance(self, name: str) -> Process:
        command = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)]
        command += ["--bind", f"127.0.0.1:{self.ports[name]}"]
        command += ["--workers", str(self.workers), "--threads", str(self.threads)]
        command += ["--error-logfile", str(self.folder / f"gunicorn-{name}.log"), "wsgi:app"]
        return Process(name, command, self.env(name), self.folder / f"gunicorn-{name}.out")

    def _command(self, name: str, *args: str) -> Process:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
        return Process(name, command, self.env(name), self.folder / f"{name}.out")

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """A ``flask --app wsgi ...`` command with the instances' settings."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            env=self.env("cli"),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def _create_bucket(self) -> None:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.s3_port}",
            aws_access_key_id="stack-test",
            aws_secret_access_key="stack-test",
            region_name="us-east-1",
        ).create_bucket(Bucket=BUCKET)

    # --- talking to it --------------------------------------------------------------------

    @property
    def base(self) -> str:
        """The shop through nginx (HTTPS; use a ``client()``)."""
        return f"https://127.0.0.1:{self.ports['https']}"

    def direct(self, name: str) -> str:
        """One instance, bypassing nginx (plain HTTP, as nginx itself talks to it)."""
        return f"http://127.0.0.1:{self.ports[name]}"

    def client(self) -> requests.Session:
        """A browser: its own cookies, talking to nginx as https://shop.example."""
        session = requests.Session()
        session.mount("https://", PinnedHost(self.folder / "fullchain.pem"))
        session.headers["Host"] = HOST
        # Flask-WTF checks, over HTTPS, that a form comes from a page of the same site.
        session.headers["Referer"] = f"https://{HOST}/"
        return session

    def wait_until_serving(self, name: str, timeout: float = 60) -> None:
        instance = self.instances[name]

        def serving() -> bool:
            if not instance.running():
                raise RuntimeError(f"instance {name} stopped:\n{instance.tail()}")
            try:
                answer = requests.get(
                    self.direct(name) + "/healthz", headers={"Host": HOST}, timeout=2
                )
                return answer.status_code == 200
            except requests.RequestException:
                return False

        wait_for(serving, timeout, f"instance {name} did not start:\n{instance.tail()}")

    def _proxy_answers(self) -> bool:
        if self.proxy.poll() is not None:
            error_log = (self.folder / "error.log").read_text(errors="replace")
            raise RuntimeError(f"nginx stopped:\n{error_log}")
        try:
            return self.client().get(self.base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False


def available() -> str | None:
    """Why the stack cannot run here, or ``None``."""
    from tests.stack.cluster import skip_reason

    if NGINX is None:
        return "nginx is not installed (apt-get install nginx): the stack test needs it"
    if subprocess.run(["which", "redis-server"], capture_output=True).returncode != 0:
        return "redis-server is not installed: the stack test starts a Redis of its own"
    return skip_reason()
