""".env.example lists every variable the shop and its gunicorn config read, and is itself a
configuration production starts with; the systemd units pass ``systemd-analyze verify``
and agree with the rest of deploy/; deploy/gunicorn.conf.py sizes, restarts and tidies up
its workers as its docstring says."""

import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask

from shop.config import ENV_SETTINGS, default_settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
UNITS = ROOT / "deploy" / "systemd"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
ENV_READ = re.compile(r"""os\.(?:environ\.get|environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")


def variables_read() -> set[str]:
    """Every variable named in ``shop.config.ENV_SETTINGS`` or read by name through
    ``os.environ``/``os.getenv`` anywhere in shop/ and in deploy/gunicorn.conf.py."""
    names = set(ENV_SETTINGS)
    for path in [*(ROOT / "shop").rglob("*.py"), GUNICORN_CONF]:
        names.update(ENV_READ.findall(path.read_text()))
    return names


def listed(text: str) -> dict[str, str | None]:
    """``NAME=value`` lines of an env file → {name: value, or None when commented out}."""
    found = {}
    for line in text.splitlines():
        if m := re.match(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line):
            commented, name, value = m.groups()
            if not (commented and name in found):
                found[name] = None if commented else value
    return found


def test_every_variable_the_shop_reads_is_in_env_example():
    names = variables_read()
    assert {"SECRET_KEY", "SHOP_ENV", "SHOP_INSTANCE_PATH", "WEB_CONCURRENCY"} <= names
    missing = sorted(names - set(listed(ENV_EXAMPLE.read_text())))
    assert missing == [], f"add these to .env.example, with a comment: {missing}"


def test_env_example_has_nothing_the_shop_does_not_read():
    """A listed name the shop ignores would be a setting someone trusts in vain (the AWS
    ones are boto3's, FORWARDED_ALLOW_IPS is gunicorn's own)."""
    others = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
    others |= {"FORWARDED_ALLOW_IPS"}
    unknown = sorted(set(listed(ENV_EXAMPLE.read_text())) - variables_read() - others)
    assert unknown == []


def test_env_example_once_filled_in_is_a_production_configuration(monkeypatch, tmp_path):
    filled = {
        "SECRET_KEY": "0" * 64,
        "STRIPE_SECRET_KEY": "sk_live_example",
        "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
        "STRIPE_WEBHOOK_SECRET": "whsec_example",
        "METRICS_TOKEN": "scrape-token",
    }
    for name in os.environ.keys() & variables_read():
        monkeypatch.delenv(name)
    for name, value in listed(ENV_EXAMPLE.read_text()).items():
        if value is not None:
            monkeypatch.setenv(name, filled.get(name, value))
    app = Flask("envcheck", instance_path=str(tmp_path))
    load_settings(app)
    assert app.config["SHOP_ENV"] == "production"
    assert app.config["TRUSTED_PROXY_COUNT"] == 1
    assert app.config["TRUSTED_HOSTS"] == ["shop.example"]
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_units_use_the_env_file_a_dedicated_user_and_restart():
    units = sorted(path.name for path in UNITS.glob("*.service"))
    assert units == [
        "sourcefront-scheduler.service",
        "sourcefront-web@.service",
        "sourcefront-worker.service",
    ]
    for name in units:
        text = (UNITS / name).read_text()
        assert "EnvironmentFile=/etc/sourcefront.env\n" in text, name
        assert "User=sourcefront\n" in text and "Group=sourcefront\n" in text, name
        assert re.search(r"^Restart=(always|on-failure)$", text, re.M), name
    web = (UNITS / "sourcefront-web@.service").read_text()
    assert "-c deploy/gunicorn.conf.py --bind 127.0.0.1:%i wsgi:app" in web
    assert "flask --app wsgi worker\n" in (UNITS / "sourcefront-worker.service").read_text()
    scheduler = (UNITS / "sourcefront-scheduler.service").read_text()
    assert "flask --app wsgi scheduler\n" in scheduler


def test_the_web_unit_waits_longer_than_gunicorn_s_graceful_stop():
    graceful = runpy.run_path(str(GUNICORN_CONF))["graceful_timeout"]
    web = (UNITS / "sourcefront-web@.service").read_text()
    assert int(re.search(r"^TimeoutStopSec=(\d+)$", web, re.M).group(1)) > graceful


def test_the_worker_unit_lets_the_job_under_way_finish():
    jobs_timeout = default_settings(Path("instance"))["JOBS_TIMEOUT_SECONDS"]
    worker = (UNITS / "sourcefront-worker.service").read_text()
    assert int(re.search(r"^TimeoutStopSec=(\d+)$", worker, re.M).group(1)) > jobs_timeout


def test_the_metrics_folder_the_units_make_is_the_one_env_example_names():
    folder = listed(ENV_EXAMPLE.read_text())["PROMETHEUS_MULTIPROC_DIR"]
    for path in UNITS.glob("*.service"):
        made = re.search(r"^RuntimeDirectory=(\S+)$", path.read_text(), re.M).group(1)
        assert f"/run/{made}" == folder, path.name


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed: the units cannot be verified here",
)
def test_systemd_analyze_verify_passes(tmp_path):
    """The units as written, with the checkout's path pointed at this one (verify checks
    that each ExecStart program exists). ``verify`` returns 0 on unknown keys and bad
    values, which it only prints; so any output is a failure."""
    for path in UNITS.glob("*.service"):
        text = path.read_text().replace("/srv/sourcefront", str(ROOT))
        # An instance of the template, as systemctl would start it.
        (tmp_path / path.name.replace("@.", "@8001.")).write_text(text)
    units = sorted(str(path) for path in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if "sourcefront" in line]
    assert problems == []


# --- deploy/gunicorn.conf.py -------------------------------------------------------------


def gunicorn_config(monkeypatch, **env) -> dict:
    for name in variables_read() & set(os.environ):
        if name.startswith(("GUNICORN_", "WEB_", "PROMETHEUS_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_workers_follow_the_cpus_unless_told(monkeypatch):
    assert gunicorn_config(monkeypatch)["workers"] == len(os.sched_getaffinity(0))
    assert gunicorn_config(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_workers_are_replaced_gracefully_with_jitter(monkeypatch):
    config = gunicorn_config(monkeypatch)
    assert (config["max_requests"], config["max_requests_jitter"]) == (10000, 1000)
    assert config["graceful_timeout"] >= config["timeout"] - 1
    off = gunicorn_config(monkeypatch, GUNICORN_MAX_REQUESTS="0")
    assert (off["max_requests"], off["max_requests_jitter"]) == (0, 0)


def test_the_control_socket_is_off_unless_a_path_is_given(monkeypatch):
    config = gunicorn_config(monkeypatch)
    assert config["control_socket_disable"] is True and "control_socket" not in config
    given = gunicorn_config(monkeypatch, GUNICORN_CONTROL_SOCKET="/run/x/web.ctl")
    assert given["control_socket"] == "/run/x/web.ctl"
    assert "control_socket_disable" not in given


class Worker:
    def __init__(self, pid: int):
        self.pid = pid


def test_child_exit_marks_a_dead_worker_only_in_multiprocess_mode(monkeypatch, tmp_path):
    assert "child_exit" not in gunicorn_config(monkeypatch)
    config = gunicorn_config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    live = tmp_path / "gauge_livesum_4242.db"
    live.write_bytes(b"")
    kept = tmp_path / "counter_4242.db"
    kept.write_bytes(b"")
    config["child_exit"](None, Worker(4242))
    assert not live.exists()  # the dead worker's live gauges are gone
    assert kept.exists()  # its counts still add up
