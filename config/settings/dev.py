"""Local development: DEBUG on unless the environment says otherwise, the debug toolbar with it."""

from importlib.util import find_spec

from config import bootstrap

# Before the base settings read DATABASE_URL and REDIS_URL: local servers, else embedded ones.
bootstrap.discover()

from .base import *  # noqa: E402, F403
from .base import INSTALLED_APPS, MIDDLEWARE, env  # noqa: E402

DEBUG = env.bool("DEBUG", default=True)

# Confirmation emails go to the worker's console; webhooks of the deferred provider are signed
# with a known secret, so a demo can sign its own (README, "Payments that take time").
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
PAYMENT_WEBHOOK_SECRET = env("PAYMENT_WEBHOOK_SECRET", default="dev-webhook-secret-change-me")

# Demo data, `serve` and the migration lint: never in production settings.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.devtools"]

# django-debug-toolbar comes with the dev dependency group only: without it these settings still
# work. Only with DEBUG on (`manage.py serve` runs its workers with DEBUG off unless --debug), so
# the app, its middleware and its URLs are absent whenever it could not show anyway. It draws on
# HTML pages (admin, Swagger UI); the API's JSON responses have no <body> to draw into.
DEBUG_TOOLBAR = (
    DEBUG and env.bool("DEBUG_TOOLBAR", default=True) and bool(find_spec("debug_toolbar"))
)
if DEBUG_TOOLBAR:
    INSTALLED_APPS = [*INSTALLED_APPS, "debug_toolbar"]
    # As early as possible (it wraps everything after it), inside prometheus's Before/After pair.
    MIDDLEWARE = [MIDDLEWARE[0], "debug_toolbar.middleware.DebugToolbarMiddleware", *MIDDLEWARE[1:]]
    INTERNAL_IPS = ["127.0.0.1", "::1"]
    DEBUG_TOOLBAR_CONFIG = {
        # In Redis rather than per process: the panels of a page are fetched in later requests,
        # which granian's other worker may answer.
        "TOOLBAR_STORE_CLASS": "debug_toolbar.store.CacheStore",
    }
