"""Prometheus counters of the cache layers (multiprocess-safe under ``serve``)."""

from prometheus_client import Counter

REQUESTS = Counter(
    "shopfast_cache_requests_total",
    "Cache lookups per layer (l1, l2, http for 304s, orm for cachalot) and result (hit, miss).",
    ["layer", "result"],
)
# Children bound once: .labels() per request is a measurable share of a cache hit.
L1_HIT = REQUESTS.labels("l1", "hit")
L1_MISS = REQUESTS.labels("l1", "miss")
L2_HIT = REQUESTS.labels("l2", "hit")
L2_MISS = REQUESTS.labels("l2", "miss")
HTTP_HIT = REQUESTS.labels("http", "hit")
ORM_HIT = REQUESTS.labels("orm", "hit")
ORM_MISS = REQUESTS.labels("orm", "miss")

# Product pages that do not exist, answered from the cache (hit) or the database (miss): counted
# apart from the layers above, whose hit ratio they would drag down while the cache works.
NOT_FOUND = Counter(
    "shopfast_cache_not_found_total", "404 answers of cached endpoints, by result.", ["result"]
)
NOT_FOUND_HIT = NOT_FOUND.labels("hit")
NOT_FOUND_MISS = NOT_FOUND.labels("miss")

REBUILDS = Counter("shopfast_cache_rebuilds_total", "Responses rebuilt from the database.")
BYPASSES = Counter(
    "shopfast_cache_bypass_total", "Requests served from the database because Redis was away."
)
CACHE_ERRORS = Counter("shopfast_cache_errors_total", "Redis calls that failed.")
INVALIDATIONS = Counter(
    "shopfast_cache_invalidations_total", "Version bumps by scope (listing, product).", ["scope"]
)
