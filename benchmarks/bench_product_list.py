"""Product list, in process: ours against the DRF ``ModelViewSet`` in perf/baseline.py.

The suite runs each benchmark once as a smoke test (``--benchmark-disable`` in addopts); measure
with ``uv run pytest benchmarks/bench_product_list.py --benchmark-enable``. Those figures carry the
test settings' N+1 detector patches, which tax the ORM-heavy baseline far more than ours, so the
pass/fail gate times both on production settings in a child process instead: a ratio of two
interleaved timings from one run, never an absolute time (shared machines are noisy).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from nplusone.core import signals

from benchmarks.conftest import BASELINE_URL, OURS_UNCACHED_URL, OURS_URL, PERF_URLCONF
from config.bootstrap import database_url_of

pytestmark = pytest.mark.benchmark_suite

PAGE_SIZE = 24
# The goal is 4x; the gate sits lower so that noise on a shared machine does not fail the build.
MIN_SPEEDUP = 2.5
WARMUP_ROUNDS = 5
TIMED_ROUNDS = 30
BASE_DIR = Path(__file__).resolve().parent.parent
TIMING_SCRIPT = (
    "import json, sys; import django; django.setup(); "
    "from django.test import Client; "
    "from benchmarks.bench_product_list import best_times; "
    "print(json.dumps(best_times(Client(), sys.argv[1:])))"
)
CONTRACT_FIELDS = ("slug", "name", "category", "price", "currency", "in_stock", "tags")


@pytest.fixture
def perf_client(settings, bench_catalog) -> Client:
    settings.ROOT_URLCONF = PERF_URLCONF
    return Client()


def get_page(client: Client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert len(body["results"]) == PAGE_SIZE
    return body


def contract_view(item: dict) -> dict:
    """Keep only the contract's summary fields; tag order is not part of the contract."""
    view = {field: item[field] for field in CONTRACT_FIELDS}
    view["category"] = {"slug": item["category"]["slug"], "name": item["category"]["name"]}
    view["tags"] = sorted(item["tags"])
    return view


@contextlib.contextmanager
def n_plus_one_listeners_paused() -> Iterator[None]:
    """Disconnect nplusone's listeners while the same request repeats, then reconnect them.

    Each test first makes its request once under the suite's N+1 guard. Repeats add no coverage,
    but the profiler keeps every loaded instance alive until the test ends, so hundreds of repeats
    would measure its bookkeeping and GC pressure rather than the endpoints (zeal stays on).
    """
    with contextlib.ExitStack() as stack:
        for signal in (
            signals.load,
            signals.ignore_load,
            signals.lazy_load,
            signals.eager_load,
            signals.touch,
        ):
            stack.enter_context(signals.ignore(signal))
        yield


def time_request(client: Client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed


@pytest.mark.benchmark(group="product-list")
def test_ours_lists_the_newest_24_products(benchmark, perf_client, bench_catalog):
    get_page(perf_client, OURS_URL)
    with n_plus_one_listeners_paused():
        body = benchmark(get_page, perf_client, OURS_URL)
    assert [item["slug"] for item in body["results"]] == bench_catalog[:PAGE_SIZE]


@pytest.mark.benchmark(group="product-list")
def test_baseline_lists_the_newest_24_products(benchmark, perf_client, bench_catalog):
    get_page(perf_client, BASELINE_URL)
    with n_plus_one_listeners_paused():
        body = benchmark(get_page, perf_client, BASELINE_URL)
    assert [item["slug"] for item in body["results"]] == bench_catalog[:PAGE_SIZE]


def test_ours_and_the_baseline_return_the_same_summaries(perf_client, bench_catalog):
    ours = [contract_view(item) for item in get_page(perf_client, OURS_URL)["results"]]
    baseline = [contract_view(item) for item in get_page(perf_client, BASELINE_URL)["results"]]
    assert ours == baseline
    # The fixture mixes sold-out and available products, so in_stock is really compared.
    assert {item["in_stock"] for item in ours} == {True, False}


def test_baseline_lists_a_page_in_a_fixed_number_of_queries(
    perf_client, bench_catalog, django_assert_num_queries
):
    # Products with their category, then tags, variants and stock: what a competent first cut costs.
    with django_assert_num_queries(4):
        get_page(perf_client, BASELINE_URL)


def best_times(client: Client, urls: list[str]) -> dict[str, float]:
    """Warm up, then time the URLs in turn, alternating who goes first; keep each one's best."""
    for _ in range(WARMUP_ROUNDS):
        for url in urls:
            get_page(client, url)
    timings: dict[str, list[float]] = {url: [] for url in urls}
    for n in range(TIMED_ROUNDS):
        # Alternate the order so neither always runs right after the other's garbage.
        for url in urls if n % 2 == 0 else reversed(urls):
            timings[url].append(time_request(client, url))
    return {url: min(samples) for url, samples in timings.items()}


def production_env() -> dict[str, str]:
    """Environment for a child process on production settings, reading this test's database."""
    url = database_url_of(connection.settings_dict)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "perf.settings_perf",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "CACHE_KEY_PREFIX": f"{django_settings.CACHES['default']['KEY_PREFIX']}-timing",
    }


def test_ours_is_at_least_2_5x_faster_than_the_baseline(
    transactional_db, bench_catalog, record_property
):
    # Test settings install nplusone's and zeal's ORM patches for every test; they slow the
    # ORM-heavy baseline by more than half and not ours, which would flatter the ratio. So the
    # timing runs in a child process on production settings (the perf URLconf), reading this
    # test's committed catalog; the requests themselves are N+1-checked by the tests above.
    # Ours uncached: a cache hit (0.2 ms) would time the cache, not the code.
    done = subprocess.run(
        [sys.executable, "-c", TIMING_SCRIPT, OURS_UNCACHED_URL, BASELINE_URL],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    best = json.loads(done.stdout.strip().splitlines()[-1])
    best_ours, best_baseline = best[OURS_UNCACHED_URL], best[BASELINE_URL]

    ratio = best_baseline / best_ours
    record_property("product_list_speedup", round(ratio, 2))
    summary = (
        f"product list, production settings, best of {TIMED_ROUNDS}: "
        f"ours (uncached) {best_ours * 1000:.2f} ms, baseline {best_baseline * 1000:.2f} ms, "
        f"ours is {ratio:.2f}x faster"
    )
    print(summary)
    assert ratio >= MIN_SPEEDUP, summary
