"""A job for the worker's metric tests: it sets a live gauge in its work horse."""

import os
from pathlib import Path

from prometheus_client import Gauge

# Not in the default registry: under PROMETHEUS_MULTIPROC_DIR a value is a file of this
# process (``gauge_livesum_<pid>.db``) whatever the registry.
HORSE_BUSY = Gauge(
    "sourcefront_test_horse_busy",
    "A gauge a work horse sets (tests only).",
    multiprocess_mode="livesum",
    registry=None,
)


def set_live_gauge(folder: str) -> dict:
    """Set the gauge; this horse's pid and whether its gauge file is there now."""
    HORSE_BUSY.set(1)
    pid = os.getpid()
    return {"pid": pid, "gauge_file": (Path(folder) / f"gauge_livesum_{pid}.db").exists()}
