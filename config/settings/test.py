"""Tests: real PostgreSQL and Redis, fast password hashing, N+1 raising."""

from config import bootstrap

# Before the base settings read DATABASE_URL and REDIS_URL: local servers, else embedded ones.
bootstrap.discover()

from .base import *  # noqa: E402, F403
from .base import (  # noqa: E402
    CACHES,
    DATABASES,
    INSTALLED_APPS,
    MIDDLEWARE,
    celery_transport_options,
    env,
)

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789"
PAYMENT_WEBHOOK_SECRET = "test-webhook-secret-0123456789"
# A worker started by the tests writes its emails here (one file per message).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=None)
# Hashing with the production work factor would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="shopfast-test")
CELERY_BROKER_TRANSPORT_OPTIONS = celery_transport_options(CACHES["default"]["KEY_PREFIX"])
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
# The same namespace as a production-settings server on the test database (tests/live_server.py):
# writes made here must void the ORM results it cached, and a rerun must not find the last run's.
_test_db = DATABASES["default"]["TEST"]["NAME"] or "test_" + DATABASES["default"]["NAME"]
# A worker started by the tests runs these settings on the test database itself: it is told the
# test process's namespace (tests/worker.py), or it would derive "test_test_..." and the two would
# never void each other's entries (an import wrote rows the test process then did not see).
CACHES["cachalot"]["KEY_PREFIX"] = env(
    "CACHALOT_KEY_PREFIX", default=f"{CACHES['default']['KEY_PREFIX']}:orm:{_test_db}"
)
# Cachalot stays on, as in production; conftest.py empties its store before each test.
CACHE_L2_TTL_SECONDS = 300

# Silk stays out whatever the environment says (PROFILING=1 exported in a shell): after a request
# that raised, its thread-local stays bound and adds an EXPLAIN to every later query in the thread,
# which breaks the query budgets. apps/core/tests/test_profiling.py turns it on in child processes.
PROFILING = False
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "silk"]
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("silk.")]

INSTALLED_APPS = [*INSTALLED_APPS, "apps.devtools", "nplusone.ext.django", "zeal"]
# The per-test profilers (root conftest.py) do the detecting; the middleware adds request coverage.
MIDDLEWARE = [*MIDDLEWARE, "zeal.middleware.zeal_middleware"]
NPLUSONE_RAISE = True
ZEAL_RAISE = True
