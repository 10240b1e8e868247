"""Stampede protection: concurrent misses of one hot key cost one rebuild, not one per request.

Real threads, each with its own PostgreSQL connection and test client, all released at a barrier
against the real URL. The rebuild is slowed down so that the requests really overlap.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django_redis import get_redis_connection

from apps.catalog.tests import conftest as catalog_fixtures
from apps.core.caching import remote, responses
from apps.core.caching.local import l1_clear

catalog = catalog_fixtures.catalog  # the catalog app's fixture, shared here

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/v1/products/"
REQUESTS = 20
REBUILD_SECONDS = 0.2


class CountingRebuild:
    """Stand-in for ``responses._rebuild``: counts the calls and makes each one slow."""

    def __init__(self, real):
        self.real = real
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self._lock:
            self.calls += 1
        time.sleep(REBUILD_SECONDS)  # wider than the spread of 20 threads leaving a barrier
        return self.real(*args, **kwargs)


@pytest.fixture
def rebuilds(monkeypatch) -> CountingRebuild:
    counting = CountingRebuild(responses._rebuild)
    monkeypatch.setattr(responses, "_rebuild", counting)
    return counting


def get_all_at_once(url: str, count: int) -> list[tuple[int, str, bytes]]:
    """GET ``url`` from ``count`` threads released together; return (status, X-Cache, body)."""
    barrier = threading.Barrier(count)

    def get(_) -> tuple[int, str, bytes]:
        try:
            client = Client()
            barrier.wait(timeout=30)
            response = client.get(url)
            return response.status_code, response.get("X-Cache", ""), response.content
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(get, range(count)))


def get_within(client: Client, url: str, seconds: float):
    """GET ``url`` in a daemon thread; return the response, or None if it takes longer."""
    responses_: list = []

    def get() -> None:
        try:
            responses_.append(client.get(url))
        finally:
            connection.close()

    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    return responses_[0] if responses_ else None


def test_twenty_concurrent_misses_of_a_hot_key_make_one_rebuild_and_the_same_body(
    catalog, rebuilds
):
    results = get_all_at_once(LIST, REQUESTS)

    assert rebuilds.calls == 1
    assert [status for status, _, _ in results] == [200] * REQUESTS
    sources = sorted(source for _, source, _ in results)
    assert sources.count("MISS") == 1, sources
    assert set(sources) <= {"MISS", "HIT-L1", "HIT-L2"}, sources
    bodies = {body for _, _, body in results}
    assert len(bodies) == 1
    assert len(Client().get(LIST).json()["results"]) == 15


def test_without_the_rebuild_lock_concurrent_misses_rebuild_more_than_once(
    catalog, rebuilds, monkeypatch
):
    # The control: the measurement above can see more than one rebuild.
    monkeypatch.setattr(remote, "lock_acquire", lambda name, seconds: True)

    results = get_all_at_once(LIST, REQUESTS)

    assert rebuilds.calls > 1
    assert [status for status, _, _ in results] == [200] * REQUESTS


def test_a_waiter_rebuilds_by_itself_when_the_lock_holder_never_stores(catalog, rebuilds, settings):
    settings.CACHE_REBUILD_WAIT_SECONDS = 0.3
    client = Client()
    first = client.get(LIST)
    assert first["X-Cache"] == "MISS"
    digest = first["ETag"].strip('"')
    # A worker that took the lock and died: the lock stays, nothing is stored, L1 is empty.
    get_redis_connection("default").delete(remote.key("r:" + digest))
    l1_clear()
    assert remote.lock_acquire("lock:" + digest, 60)

    started = time.monotonic()
    second = get_within(client, LIST, seconds=5)
    waited = time.monotonic() - started

    assert second is not None, "the waiter is still waiting for a lock holder that never stores"
    assert second.status_code == 200 and second["X-Cache"] == "MISS"
    assert second.content == first.content
    assert rebuilds.calls == 2
    # It waited for the holder as long as allowed, then rebuilt (not until the lock expired).
    assert 0.3 <= waited < 0.3 + REBUILD_SECONDS + 1.5, waited


def test_concurrent_requests_for_a_missing_product_wait_for_nobody(catalog, rebuilds):
    # Half of eight parallel 404s took 2.01 s: they waited for a cached copy never written.
    started = time.monotonic()
    results = get_all_at_once("/api/v1/products/no-such-product/", 8)
    elapsed = time.monotonic() - started

    assert [status for status, _, _ in results] == [404] * 8
    assert rebuilds.calls == 1  # the others took the cached 404
    assert elapsed < REBUILD_SECONDS + 1.0, elapsed
    assert len({body for _, _, body in results}) == 1


def test_waiters_stop_waiting_when_the_rebuild_gives_an_answer_that_is_not_cached(
    catalog, rebuilds
):
    # A 400 (a malformed filter) is not cached: the waiters each answer it themselves at once.
    started = time.monotonic()
    results = get_all_at_once("/api/v1/products/?min_price=abc", 8)
    elapsed = time.monotonic() - started

    assert [status for status, _, _ in results] == [400] * 8
    assert elapsed < 3 * REBUILD_SECONDS + 1.0, elapsed  # not CACHE_REBUILD_WAIT_SECONDS (2 s)
