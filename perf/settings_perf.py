"""Production settings plus the perf-only URLconf and the deliberate-regression switch.

The perf harnesses (``perf/``) and the in-process benchmarks use this module; production keeps
``config.settings.prod`` and ``config.urls``.
"""

from config import bootstrap

# Tooling, not production: the local servers (or embedded ones) unless the run names its own.
bootstrap.discover()

from config.settings.prod import *  # noqa: E402, F403
from config.settings.prod import INSTALLED_APPS, MIDDLEWARE, env  # noqa: E402

ROOT_URLCONF = "perf.urls"
# The harnesses seed their catalogs with its seed_catalog.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.devtools"]
# Load runs speak plain HTTP on loopback: no redirect to HTTPS.
SECURE_SSL_REDIRECT = False

# "sleep" (100 ms per uncached product list) or "nplusone" (one query per listed product), to
# show that a gate fails on a regression (perf/regressions.py); the gate's report names it.
PERF_INJECT_REGRESSION = env("PERF_INJECT_REGRESSION", default="")
# Outermost after prometheus's first: the injected cost shows in every latency the run measures.
MIDDLEWARE = [MIDDLEWARE[0], "perf.regressions.regression_injected", *MIDDLEWARE[1:]]
