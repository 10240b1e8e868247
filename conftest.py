"""Suite-wide gates: every test runs under both N+1 detectors and with a clean cache namespace."""

import pytest
from django.core.cache import cache, caches
from nplusone.core import profiler
from zeal import zeal_context

from apps.accounts.authentication import known_tokens_clear
from apps.core.caching.local import l1_clear
from apps.core.caching.versions import versions_reset

SCAN_STEP = 10_000


@pytest.fixture(autouse=True)
def n_plus_one_guard(request):
    """Raise on any N+1 inside a test (nplusone: lazy loads; zeal: repeated queries from one line).

    nplusone's middleware leaks listeners once it has raised inside a request, so each test gets
    its own profiler that is always torn down. The test's other fixtures are set up first: data
    builders (factories with get_or_create) are setup, not the code under test.
    """
    for name in request.fixturenames:
        if name != request.fixturename:
            request.getfixturevalue(name)
    with profiler.Profiler(), zeal_context():
        yield


@pytest.fixture(autouse=True)
def clean_cache():
    """Start each test with no cached keys under the test prefix (never FLUSHDB a shared Redis).

    Every layer: responses and versions, cachalot's query results, this process's L1 and tokens.
    """
    # SCAN walks the whole Redis, whoever's keys they are: in large steps (django-redis's default
    # of 10 keys a step made this a third of the suite's time with a dev cache of 20k keys).
    cache.delete_pattern("*", itersize=SCAN_STEP)
    caches["cachalot"].delete_pattern("*", itersize=SCAN_STEP)
    l1_clear()
    known_tokens_clear()
    versions_reset()
    yield
