"""Stopping the servers tests start in their own process groups (gunicorn, localstripe)."""

import os
import signal
import subprocess


def stop(process: subprocess.Popen) -> None:
    """Stop a process started with ``start_new_session=True`` and every child it has."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)  # quick shutdown of master and workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
