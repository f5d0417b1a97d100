"""gunicorn's settings for the shop: ``gunicorn wsgi:app`` from the repository root reads
this file (elsewhere: ``gunicorn -c /path/to/gunicorn.conf.py wsgi:app``).

Threaded workers, because a request paying by card waits on Stripe: with sync workers a
few buyers during a Stripe slowdown took every worker and the rest of the shop waited
too. With threads, a request waiting on Stripe holds one thread and the worker's other
threads go on serving. Stripe calls give up after ``STRIPE_TIMEOUT_SECONDS`` (8 s),
well inside ``timeout`` below.

Environment (command-line flags override all of these):
  GUNICORN_BIND     address to listen on, default 127.0.0.1:8000 (a proxy in front)
  WEB_CONCURRENCY   worker processes, default 2 (one per core of a 2-core machine)
  GUNICORN_THREADS  threads per worker, default 8
``forwarded_allow_ips`` is left to gunicorn's own setting (``FORWARDED_ALLOW_IPS``,
default the loopback addresses): which proxy to trust is part of the proxy set-up.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# A worker silent this long is restarted; requests wait on Stripe for 8 s at most.
timeout = 30
# On a restart or deploy, requests under way get this long to finish.
graceful_timeout = 30
keepalive = 5  # seconds an idle connection from the proxy stays open

accesslog = "-"  # stdout, for the process manager's log
errorlog = "-"  # stderr
