"""gunicorn's settings for the shop: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` from
the repository root (gunicorn reads ``./gunicorn.conf.py`` on its own only; this file must
be named). The systemd unit ``deploy/sourcefront-web@.service`` runs one instance per port.

Threaded workers, because a request paying by card waits on Stripe: with sync workers a
few buyers during a Stripe slowdown took every worker and the rest of the shop waited
too. With threads, a request waiting on Stripe holds one thread and the worker's other
threads go on serving. Stripe calls give up after ``STRIPE_TIMEOUT_SECONDS`` (8 s),
well inside ``timeout`` below.

Environment (command-line flags override all of these):
  GUNICORN_BIND          address to listen on, default 127.0.0.1:8000 (a proxy in front)
  WEB_CONCURRENCY        worker processes, default one per CPU this process may use; with
                         several instances on one machine give each its share (cores ÷ N)
  GUNICORN_THREADS       threads per worker, default 8
  GUNICORN_MAX_REQUESTS  a worker is replaced, gracefully, after about this many requests
                         (default 10000, plus up to 10 % jitter so workers do not all
                         restart at once); 0 never replaces them
  GUNICORN_CONTROL_SOCKET  gunicorn 25.1+'s control socket (``gunicornc``); unset: none,
                         since systemd manages the processes and one default path per
                         user would be shared by every instance on the machine
  PROMETHEUS_MULTIPROC_DIR  set (one folder per machine, shared by every process of the
                         shop): ``child_exit`` below tells prometheus_client that a worker
                         is gone, so /metrics stops counting a dead worker's live gauges
``forwarded_allow_ips`` is left to gunicorn's own setting (``FORWARDED_ALLOW_IPS``,
default the loopback addresses): which proxy to trust is part of the proxy set-up
(``TRUSTED_PROXY_COUNT`` for the shop itself).

The timeouts below are matched in ``deploy/nginx.conf`` (tests/deploy checks): change them
together.
"""

import os


def _cpu_count() -> int:
    """The CPUs this process may run on (a container's or cgroup's share, if pinned)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# One process per core: the threads cover the waiting (Stripe, the database, Redis).
workers = int(os.environ.get("WEB_CONCURRENCY") or _cpu_count())
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# A worker silent this long is restarted; requests wait on Stripe for 8 s at most.
timeout = 30
# On a restart (SIGHUP, a deploy, max_requests) requests under way get this long to finish.
graceful_timeout = 30
keepalive = 5  # seconds an idle connection from the proxy stays open (nginx: 4 s)

# Graceful restarts: a worker that has served this many requests finishes them and is
# replaced, so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10

if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True  # gunicorn 25.1+; older versions ignore the name

# No access log of gunicorn's own: the shop writes one line per request itself (JSON in
# production, with the request id nginx sent: shop/logs.py). --access-logfile turns it on.
accesslog = None
errorlog = "-"  # stderr


def _multiprocess_metrics():
    """prometheus_client's multiprocess module when /metrics aggregates worker files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return None
    return multiprocess


_metrics = _multiprocess_metrics()

if _metrics is not None:

    def child_exit(server, worker):
        """A worker exited: drop its live gauges from the multiprocess files."""
        _metrics.mark_process_dead(worker.pid)
