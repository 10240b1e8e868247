"""Settings shared by every environment; values come from the environment (12-factor).

``DATABASE_URL`` and ``REDIS_URL`` are required here: production never guesses a database. The
dev and test settings find local or embedded servers first (``config.bootstrap.discover``).
"""

from importlib.util import find_spec
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _required(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Production settings take PostgreSQL and Redis from DATABASE_URL "
            "and REDIS_URL only; config.settings.dev and the test settings find local ones."
        )
    return value


SECRET_KEY = env("SECRET_KEY", default="dev-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "cachalot",
    "apps.core",
    "apps.catalog",
    "apps.inventory",
    "apps.accounts",
    "apps.cart",
    "apps.orders",
    "apps.payments",
    "apps.jobs",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "apps.core.middleware.body_bounded",
    "apps.core.middleware.DatabaseOutageMiddleware",
    "apps.core.routing.read_routing",
    "apps.core.middleware.content_security_policy",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.core.middleware.private_by_default",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.admin_login_guarded",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASES = {"default": env.db_url_config(_required("DATABASE_URL"))}
DATABASES["default"].update(
    {
        # django-prometheus's backend (statements, errors, connections and query time for /metrics,
        # about 15 us per statement, measured) with a health check that needs no round trip.
        "ENGINE": "apps.core.database",
        # Persistent connections vs psycopg's pool (DB_POOL=1), product list, wrk, 2 workers:
        # 995 vs 1,054 req/s, within run-to-run noise. Persistent kept: nothing to size per worker,
        # and pgbouncer does the pooling in production.
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        # Server-side cursors break behind pgbouncer in transaction pooling mode.
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "TEST": {"NAME": env("TEST_DATABASE_NAME", default=None)},
    }
)
DATABASES["default"].setdefault("OPTIONS", {})
if not DATABASES["default"]["HOST"] and "host" in DATABASES["default"]["OPTIONS"]:
    # libpq's "?host=/socket/dir" form (the embedded server): make it the HOST Django reports.
    DATABASES["default"]["HOST"] = DATABASES["default"]["OPTIONS"].pop("host")
DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
if env.bool("DB_POOL", default=False):
    # psycopg's pool is exclusive with persistent connections (Django raises otherwise).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=2),
        "max_size": env.int("DB_POOL_MAX", default=8),
    }
# A streaming replica for catalog and order-history reads (apps/core/routing.py); unset: one
# database. Same options as the primary; it is skipped when it lags, stops streaming or is away.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=2.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1.0)
# How long a client's reads stay on the primary after it wrote (read-your-writes).
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=5)
if DATABASE_REPLICA_URL:
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"] = {
        **DATABASES["default"],
        **{key: _replica[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
        "OPTIONS": {
            **DATABASES["default"]["OPTIONS"],
            # A replica that does not answer is skipped, not waited for.
            "connect_timeout": env.int("DB_REPLICA_CONNECT_TIMEOUT", default=1),
        },
        # Tests: the replica serves the test database under the test database's name.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["apps.core.routing.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (Redis via django-redis; hiredis is picked up by redis-py when installed) --------------
REDIS_URL = _required("REDIS_URL")
CACHES = {
    "default": {
        # django-redis behind the breaker, a per-process memory cache while Redis is away.
        "BACKEND": "apps.core.caching.backend.GuardedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shopfast"),
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            # Both backends send errors to the breaker instead (apps/core/caching/).
            "IGNORE_EXCEPTIONS": False,
        },
    }
}
# django-cachalot's store: the same Redis, its own prefix per database (two databases served from
# one Redis must not share query results: cachalot keys by alias, not by database name).
CACHES["cachalot"] = {
    **CACHES["default"],
    "BACKEND": "apps.core.caching.orm.CountingRedisCache",
    "KEY_PREFIX": f"{CACHES['default']['KEY_PREFIX']}:orm:{DATABASES['default']['NAME']}",
}
# The breaker logs an outage once per interval; a traceback per failed call was a log storm.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
# A subclass of django-redis's backend (it counts hits): cachalot only knows the parent by name.
SILENCED_SYSTEM_CHECKS = ["cachalot.W001"]

# --- Cache layers (docs/caching.md) ---------------------------------------------------------------
# Catalog responses: L1 per process, then Redis, under versioned keys bumped on every commit.
CACHE_RESPONSES = env.bool("CACHE_RESPONSES", default=True)
CACHE_RELEASE = "2"  # change when a cached body's format changes
CACHE_L1_MAX_ENTRIES = env.int("CACHE_L1_MAX_ENTRIES", default=1024)
CACHE_L1_TTL_SECONDS = env.float("CACHE_L1_TTL_SECONDS", default=30.0)  # memory, not staleness
CACHE_L2_TTL_SECONDS = env.int("CACHE_L2_TTL_SECONDS", default=3600)
# What a response no one has asked for twice may hold Redis: what one client can make the cache
# hold is bounded by its request rate times this, not times CACHE_L2_TTL_SECONDS.
CACHE_L2_NEW_TTL_SECONDS = env.int("CACHE_L2_NEW_TTL_SECONDS", default=60)
# A 404 is exact under its versioned key too; short-lived so that random slugs cannot pile up.
CACHE_NOT_FOUND_TTL_SECONDS = env.int("CACHE_NOT_FOUND_TTL_SECONDS", default=60)
CACHE_REBUILD_LOCK_SECONDS = env.float("CACHE_REBUILD_LOCK_SECONDS", default=5.0)
CACHE_REBUILD_WAIT_SECONDS = env.float("CACHE_REBUILD_WAIT_SECONDS", default=2.0)
# Each process keeps the versions pushed to it; it re-reads them from Redis at least this often,
# which bounds staleness when Redis stops answering without closing connections (a partition).
CACHE_VERSION_LEASE_SECONDS = env.float("CACHE_VERSION_LEASE_SECONDS", default=1.0)
# After a failed Redis call, serve from PostgreSQL this long before trying Redis again.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=1.0)
# An outage is logged when it starts, then once per this interval with a count, then on recovery.
CACHE_OUTAGE_LOG_SECONDS = env.float("CACHE_OUTAGE_LOG_SECONDS", default=60.0)
# django-cachalot, catalog tables only: stock, orders, carts and keys change on every sale.
CACHALOT_ENABLED = env.bool("CACHALOT_ENABLED", default=True)
CACHALOT_CACHE = "cachalot"
# cachalot recognises backends by their ENGINE path; ours (apps.core.database) is PostgreSQL's.
CACHALOT_ADDITIONAL_SUPPORTED_DATABASES = ["apps.core.database"]
CACHALOT_ONLY_CACHABLE_APPS = ("catalog",)
CACHALOT_TIMEOUT = env.int("CACHALOT_TIMEOUT", default=86400)
# A write on the primary voids what was cached from the replica: one stamp per table, not per alias.
CACHALOT_TABLE_KEYGEN = "apps.core.routing.cachalot_table_key"
# After a write cachalot cannot see, its tables are uncached this long (apps/core/caching/orm.py).
CACHALOT_SETTLE_SECONDS = env.float("CACHALOT_SETTLE_SECONDS", default=2.0)

# --- Request bounds -------------------------------------------------------------------------------
# Largest request body any endpoint reads (bytes); a longer declared body is a 413 before reading.
# The API's largest is a 50-line checkout (about 4 KB); the admin's forms are larger.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
# Longest path plus query string (characters) the app reads; every real URL is far shorter.
REQUEST_URL_MAX_BYTES = env.int("REQUEST_URL_MAX_BYTES", default=8192)
# While PostgreSQL is unreachable requests answer 503 with this Retry-After (seconds).
DATABASE_RETRY_AFTER_SECONDS = env.int("DATABASE_RETRY_AFTER_SECONDS", default=2)

# Scripts, fonts and connections from this origin only, inline scripts never. Inline and blob:
# styles and blob: workers are allowed (the admin's and Swagger UI's markup uses style
# attributes; ReDoc builds its styles and a search worker at run time); drf-spectacular's ReDoc
# page takes its fonts from Google Fonts and its footer logo from ReDoc's CDN. Tested in headless
# Chromium (tests/test_browser.py). Empty: no header.
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; "
        "style-src 'self' 'unsafe-inline' blob: https://fonts.googleapis.com; "
        "worker-src 'self' blob:; img-src 'self' data: https://cdn.redoc.ly; "
        "font-src 'self' data: https://fonts.gstatic.com; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'; report-uri /csp-report"
    ),
)

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = ["apps.accounts.backends.KnownUsersBackend"]
# What password guessing may cost (apps/accounts/guard.py): failures per account and per address
# in a window, refused before any hashing; hashing threads per process (the rest serve the API).
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
PASSWORD_HASHING_CONCURRENCY = env.int("PASSWORD_HASHING_CONCURRENCY", default=1)
PASSWORD_HASHING_WAIT_SECONDS = env.float("PASSWORD_HASHING_WAIT_SECONDS", default=5.0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# --- DRF ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["apps.core.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.ORJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.accounts.authentication.CachedTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.schemas.ShopAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "register": env("THROTTLE_REGISTER", default="120/min"),
        "token": env("THROTTLE_TOKEN", default="120/min"),
        "checkout": env("THROTTLE_CHECKOUT", default="30/min"),
    },
    "UNAUTHENTICATED_USER": None,
    # Proxies in front of the app: throttles key on the client address behind them.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=None),
}

SPECTACULAR_SETTINGS = {
    # Two "status" choice sets, an order's and a job's: named, or drf-spectacular warns.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": [
            "placed",
            "pending_payment",
            "paid",
            "fulfilled",
            "cancelled",
            "payment_failed",
            "expired",
        ],
        "JobStatusEnum": ["queued", "running", "done", "failed"],
    },
    "TITLE": "shopfast API",
    "DESCRIPTION": (
        "Catalog, cart, checkout and orders for a high-traffic shop.\n\n"
        "**Authentication.** Catalog reads are public. Cart, checkout and orders need "
        "`Authorization: Token <key>`; get a key from `POST /api/v1/auth/register/` or "
        "`POST /api/v1/auth/token/`.\n\n"
        '**Errors.** Every 4xx is `{"code", "detail"}` with a snake_case `code`; '
        "validation errors (`code: invalid`) add `fields`, messages per input field. "
        "A throttled request is a `429` with `Retry-After`.\n\n"
        "**Lists** are keyset-paginated: follow `next` and `previous` (URLs with an opaque "
        "`cursor`), `page_size` 1-100 (larger values are clamped to 100).\n\n"
        "**Caching.** Catalog responses carry an `ETag`; send it back in `If-None-Match` for "
        "a `304`. They change as soon as a sale, import or cancellation has committed.\n\n"
        '**Money** is a string with two decimals (`"19.99"`) beside a `currency` code.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH /cart/lines/<id>/ requires its one field: a "Patched" copy would mark it optional.
    "COMPONENT_SPLIT_PATCH": False,
    "TAGS": [
        {"name": "catalog", "description": "Public product catalog: categories, lists, detail."},
        {"name": "accounts", "description": "Register a user, exchange credentials for a token."},
        {"name": "cart", "description": "The signed-in user's one open cart."},
        {"name": "checkout", "description": "Place an order, idempotently."},
        {"name": "orders", "description": "The signed-in user's orders."},
        {"name": "payments", "description": "Webhooks of the payment provider (signed)."},
        {"name": "imports", "description": "Staff: catalog, stock and price files as jobs."},
        {"name": "admin", "description": "Staff: catalog writes (products, variants, prices)."},
        {"name": "ops", "description": "Probes for load balancers and orchestrators."},
    ],
}

# --- Catalog --------------------------------------------------------------------------------------
CATALOG_PAGE_SIZE = env.int("CATALOG_PAGE_SIZE", default=24)
CATALOG_MAX_PAGE_SIZE = env.int("CATALOG_MAX_PAGE_SIZE", default=100)
CATALOG_MAX_QUERY_LENGTH = env.int("CATALOG_MAX_QUERY_LENGTH", default=200)
# Browsers and CDNs may keep a catalog response this long (and serve it stale while revalidating
# this long): 0 keeps them exact, as the contract's freshness rule needs; they revalidate with
# If-None-Match, which costs a 304 from the versions alone.
CATALOG_CACHE_MAX_AGE = env.int("CATALOG_CACHE_MAX_AGE", default=0)
CATALOG_CACHE_STALE_WHILE_REVALIDATE = env.int("CATALOG_CACHE_STALE_WHILE_REVALIDATE", default=0)

# --- Cart, checkout and orders ------------------------------------------------------------------
SHOP_CURRENCY = env("SHOP_CURRENCY", default="EUR")  # shown for an empty cart
CART_MAX_LINE_QUANTITY = env.int("CART_MAX_LINE_QUANTITY", default=100)
CART_MAX_LINES = env.int("CART_MAX_LINES", default=50)
# instant (answers at once), deferred (answers later, by webhook) or a provider class's path.
PAYMENT_PROVIDER = env("PAYMENT_PROVIDER", default="instant")
# How long a pending payment holds its units; the expiry task returns them within a minute after.
PAYMENT_RESERVATION_SECONDS = env.int("PAYMENT_RESERVATION_SECONDS", default=900)
# The HMAC-SHA256 key of the provider's webhooks (X-Shopfast-Signature: sha256=<hex>).
PAYMENT_WEBHOOK_SECRET = env("PAYMENT_WEBHOOK_SECRET", default="")
# The expiry task's batch: orders expired per transaction, rows locked with SKIP LOCKED.
PAYMENT_EXPIRY_BATCH = env.int("PAYMENT_EXPIRY_BATCH", default=500)
# A checkout that finds its Idempotency-Key in flight waits this long for the first one's answer.
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0)
# purge_idempotency_keys deletes keys older than this; until then a key replays its response.
IDEMPOTENCY_KEY_TTL_HOURS = env.float("IDEMPOTENCY_KEY_TTL_HOURS", default=24.0)
# A cart nobody touched for this long is deleted by the scheduled purge.
CART_ABANDONED_DAYS = env.float("CART_ABANDONED_DAYS", default=30.0)
# Confirmation emails: Django's email API (console in dev; SMTP or any backend in production).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="shop@localhost")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Profiling (docs/profiling.md) ---------------------------------------------------------------
# django-silk, switched on by PROFILING=1: each sampled request is stored with its SQL (plus an
# EXPLAIN of each query) and a cProfile, readable by staff at /silk/. Off by default: it costs a few
# writes and one EXPLAIN per query on every sampled request. Test settings force it off whatever
# the environment says (after a request that raised, its thread-local keeps adding EXPLAINs).
PROFILING = env.bool("PROFILING", default=False)
if PROFILING and not find_spec("silk"):
    raise ImproperlyConfigured(
        "PROFILING=1 needs django-silk, a dev dependency: uv sync (not --no-dev)"
    )
if PROFILING:
    INSTALLED_APPS.append("silk")
    # Right after auth: silk's docs want it after sessions and auth, nothing before it answers
    # without calling the next middleware (so it sees every request), and it stays inside
    # prometheus's Before/After pair, so the request metrics include what profiling costs.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "silk.middleware.SilkyMiddleware",
    )
SILKY_INTERCEPT_PERCENT = env.float("PROFILING_SAMPLE_PERCENT", default=100.0)
SILKY_PYTHON_PROFILER = env.bool("PROFILING_PYTHON", default=True)  # cProfile of each request
SILKY_MAX_RECORDED_REQUESTS = env.int("PROFILING_MAX_REQUESTS", default=10_000)
SILKY_MAX_RECORDED_REQUESTS_CHECK_PERCENT = 10  # share of saves that trim the table to the bound
SILKY_MAX_REQUEST_BODY_SIZE = 64 * 1024  # bytes; larger bodies are not stored
SILKY_MAX_RESPONSE_BODY_SIZE = 64 * 1024
# Scrapes and probes would crowd out the requests worth reading.
SILKY_IGNORE_PATHS = ["/metrics", "/healthz", "/readyz"]
# /silk/ shows request bodies, headers and SQL: staff only. An anonymous visitor is sent to the
# admin's login page (which admits staff only too), a logged-in non-staff user gets a 403.
SILKY_AUTHENTICATION = True
SILKY_AUTHORISATION = True
LOGIN_URL = "admin:login"


def _silk_permitted(user) -> bool:
    return user.is_staff


SILKY_PERMISSIONS = _silk_permitted

# --- Metrics --------------------------------------------------------------------------------------
PROMETHEUS_EXPORT_MIGRATIONS = False
# /metrics: with a token, "Authorization: Bearer <token>" from anywhere; without one, only these
# networks (loopback: a Prometheus on the same host). Behind a reverse proxy on the same host every
# client looks like loopback: set the token (prod's deploy check says so) or block the path there.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "config.logs.CurrentStderrHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The embedded PostgreSQL narrates its start and stop at INFO; its stop runs at exit,
        # after pytest has closed the stream the handler writes to ("I/O operation on closed
        # file" tracebacks after every bare-machine test run).
        "pgserver": {"level": "WARNING"},
        # The worker's per-task lines ("received", "succeeded", beat's "sending") every few
        # seconds; failures and retries still log at ERROR and WARNING.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
    },
}

# --- Background work (Celery, docs/background.md) -------------------------------------------------
# `celery -A config worker -B`: the worker and its schedule. Redis is the broker and the result
# store (the same server as the cache; its keys under a prefix of their own).


def celery_redis_url(url: str) -> str:
    """Return ``url`` as kombu spells it: a Unix socket (embedded Redis) is redis+socket://."""
    if url.startswith("unix://"):
        path, _, query = url.removeprefix("unix://").partition("?")
        db = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("db", "0")
        return f"redis+socket://{path}?virtual_host={db}"
    return url


def celery_transport_options(prefix: str) -> dict:
    """Keep Celery's keys apart per deployment (and per test run) on a shared Redis, and never
    wait long for a Redis that is away (a web request sends tasks)."""
    return {
        "global_keyprefix": f"{prefix}:celery:",
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # kombu's own reconnect loop when a channel is opened (unbounded by default: a send
        # with Redis away blocked a request for 76 s).
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }


CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=celery_redis_url(REDIS_URL))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = celery_transport_options(CACHES["default"]["KEY_PREFIX"])
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = CELERY_BROKER_TRANSPORT_OPTIONS
CELERY_RESULT_EXPIRES = 3600  # seconds; nobody waits on a result longer
CELERY_TASK_IGNORE_RESULT = True  # the tasks' effects are in the database, not in results
# A task is acknowledged when it has run, so one whose worker died runs again elsewhere: every
# task is idempotent (each re-reads the database under row locks).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # short tasks; a busy worker should not hoard the queue
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request sending a task waits at most about this for a broker that is away.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.2,
}
TASK_SEND_FAILURE_LOG_SECONDS = env.int("TASK_SEND_FAILURE_LOG_SECONDS", default=60)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # LOGGING above configures the worker too
# Its handler writes to the current sys.stderr: redirected into logging, each line would loop.
CELERY_WORKER_REDIRECT_STDOUTS = False
CELERY_TIMEZONE = "UTC"
# Beat keeps its last-run times here (not in the working directory, which may be read-only).
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME",
    default=str(Path(env("SHOPFAST_DATA_DIR", default=str(BASE_DIR / ".data"))) / "celerybeat"),
)
# Every schedule entry is a thin task over a service; each is safe to run twice or late.
PAYMENT_EXPIRY_INTERVAL_SECONDS = env.float("PAYMENT_EXPIRY_INTERVAL_SECONDS", default=10.0)
ORDER_EMAIL_INTERVAL_SECONDS = env.float("ORDER_EMAIL_INTERVAL_SECONDS", default=10.0)
PAYMENT_VOID_INTERVAL_SECONDS = env.float("PAYMENT_VOID_INTERVAL_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE = {
    "reservations-expire": {
        "task": "apps.payments.tasks.reservations_expire",
        "schedule": PAYMENT_EXPIRY_INTERVAL_SECONDS,
    },
    "order-confirmations-send": {
        "task": "apps.orders.tasks.order_confirmations_send",
        "schedule": ORDER_EMAIL_INTERVAL_SECONDS,
    },
    "payments-void": {
        "task": "apps.orders.tasks.payments_void",
        "schedule": PAYMENT_VOID_INTERVAL_SECONDS,
    },
    "idempotency-keys-purge": {
        "task": "apps.orders.tasks.idempotency_keys_purge",
        "schedule": 3600.0,
    },
    "carts-purge": {"task": "apps.cart.tasks.carts_purge", "schedule": 3600.0},
    "jobs-reap": {
        "task": "apps.jobs.tasks.jobs_reap",
        "schedule": env.float("IMPORT_REAP_INTERVAL_SECONDS", default=30.0),
    },
}

# --- Staff jobs (imports over the API) ------------------------------------------------------------
# Uploads are streamed here and read by the worker: a folder both see (the same host, or a shared
# volume). The rejected rows of each job stay beside them as <id>.errors.csv.
IMPORT_DIR = env(
    "IMPORT_DIR",
    default=str(Path(env("SHOPFAST_DATA_DIR", default=str(BASE_DIR / ".data"))) / "imports"),
)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=1 << 30)  # a 1 GiB upload at most
# A running job that has not reported progress for this long lost its worker: it is failed.
IMPORT_STALE_SECONDS = env.int("IMPORT_STALE_SECONDS", default=120)
IMPORT_TIME_LIMIT_SECONDS = env.int("IMPORT_TIME_LIMIT_SECONDS", default=3600)
# A sales report is one query: past this its worker stops it, and the reaper fails it.
REPORT_TIME_LIMIT_SECONDS = env.int("REPORT_TIME_LIMIT_SECONDS", default=600)
# Rows per transaction of an import job (0: the importer's own, as the commands use).
IMPORT_BATCH_SIZE = env.int("IMPORT_BATCH_SIZE", default=0)
# Bodies larger than REQUEST_BODY_MAX_BYTES are refused before they are read, but for these paths.
REQUEST_BODY_MAX_BYTES_BY_PATH = {"/api/v1/imports/": IMPORT_MAX_BYTES}
