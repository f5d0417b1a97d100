"""The ``JOBS_*`` and ``SCHEDULE_*`` settings, read once when the app is made."""

from shop.config import ConfigError

# name: (default, meaning) - whole numbers of seconds unless said otherwise.
WHOLE_NUMBERS = {
    "JOBS_TIMEOUT_SECONDS": "how long one run of a job may take before RQ stops it",
    "JOBS_RESULT_TTL_SECONDS": "how long a finished job (its result, its key) is kept",
    "JOBS_FAILURE_TTL_SECONDS": "how long a failed job is kept in RQ's failed registry",
    "JOBS_MAINTENANCE_SECONDS": "how often a worker requeues jobs of workers that died",
    "JOBS_HEARTBEAT_GRACE_SECONDS": "how long a job's heartbeat may be late before it is dead",
    "SCHEDULE_EXPIRE_RESERVATIONS_SECONDS": "the scheduler's period for expire-reservations",
    "SCHEDULE_RECONCILE_PAYMENTS_SECONDS": "the scheduler's period for reconcile-payments",
    "SCHEDULE_APPROVE_COMMISSIONS_SECONDS": "the scheduler's period for approve-commissions",
    "SCHEDULE_CLOSE_CAMPAIGNS_SECONDS": "the scheduler's period for close-campaigns",
    "SCHEDULE_EXPIRE_CAMPAIGN_PLACES_SECONDS": "the scheduler's period for expire-campaign-places",
    "SCHEDULE_FOLD_WINDOW_VISITS_SECONDS": "the scheduler's period for fold-window-visits",
    "SCHEDULE_PRUNE_FACETS_SECONDS": "the scheduler's period for prune-facets",
    "RECONCILE_MIN_AGE_MINUTES": "reconcile-payments leaves payments younger than this alone",
}


def check_job_settings(config) -> None:
    """Turn the settings (numbers from the environment arrive as text) into numbers."""
    for name, meaning in WHOLE_NUMBERS.items():
        value = str(config.get(name, "")).strip()
        if not value.isdigit():
            raise ConfigError(f"{name} ({meaning}) must be a whole number, not {value!r}.")
        config[name] = int(value)
    for name in [name for name in WHOLE_NUMBERS if name.startswith("SCHEDULE_")]:
        if config[name] < 1:
            raise ConfigError(f"{name} must be at least 1 second.")
    config["JOBS_RETRY_INTERVALS"] = retry_intervals(config.get("JOBS_RETRY_INTERVALS"))
    inline = config.get("JOBS_INLINE")
    if isinstance(inline, str):
        inline = inline.strip().lower() in ("1", "true", "yes", "on")
    config["JOBS_INLINE"] = bool(inline)


def retry_intervals(value) -> tuple[int, ...]:
    """``"10,30,120"`` or ``(10, 30, 120)``: one retry per number, after that many whole
    seconds (RQ's scheduled registry counts in seconds; 0 retries at once); empty: none."""
    parts = value.split(",") if isinstance(value, str) else list(value or ())
    try:
        intervals = tuple(int(str(part).strip()) for part in parts if str(part).strip())
    except ValueError:
        intervals = None
    if intervals is None or any(interval < 0 for interval in intervals):
        raise ConfigError(
            "JOBS_RETRY_INTERVALS must be seconds between retries, like 10,30,120,600,1800."
        )
    return intervals
