"""Settings every test app starts from, and what production must set beyond them."""

from tests.redis_dbs import SHARED

TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "SERVER_NAME": "localhost",
    # Each window visit sent to Redis by its request, for the tests to read at once
    # (tests/resellers/test_visit_tally.py tries the timer).
    "WINDOW_VISITS_SEND_SECONDS": 0,
}

# What production must configure beyond the secret key (shop.config.check_settings).
PRODUCTION_SETTINGS = {
    "SHOP_ENV": "production",
    "STRIPE_SECRET_KEY": "sk_test_production_like",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_production_like",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_like",
    # Links in emails, and the one host production answers (the test client's).
    "SHOP_BASE_URL": "http://localhost",
    # Rate limits shared by every worker; Redis runs on loopback (tests/redis_dbs.SHARED).
    "REDIS_URL": SHARED,
    # No worker runs for these tests (tests/jobs/ start their own): jobs such as emails
    # run in-process after the commit, so the outbox has them.
    "JOBS_INLINE": "1",
}
