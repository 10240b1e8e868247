"""Production settings serving the perf-only URLconf (hello-world and the DRF baseline).

Only ``perf/http_compare.py`` uses this module; production keeps ``config.urls``.
"""

from config import bootstrap

# Tooling, not production: the local servers (or embedded ones) unless the run names its own.
bootstrap.discover()

from config.settings.prod import *  # noqa: E402, F403

ROOT_URLCONF = "config.urls_perf"
# Load runs speak plain HTTP on loopback: no redirect to HTTPS.
SECURE_SSL_REDIRECT = False
