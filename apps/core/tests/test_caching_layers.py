"""Cache layers one by one: versions, L1, zero-query hits, validators, headers, metrics, keys."""

import time

import pytest
from cachalot.api import cachalot_disabled
from django.core.cache import caches
from django.test import Client
from django_redis import get_redis_connection
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from apps.accounts.tests.factories import PASSWORD
from apps.catalog.cache import LISTING, product_version
from apps.catalog.models import Product
from apps.catalog.tests import conftest as catalog_fixtures
from apps.core.caching import remote
from apps.core.caching.local import l1_clear
from apps.orders.tests.shops import api_for, shop_build

catalog = catalog_fixtures.catalog  # the catalog app's fixture, shared here

LIST = "/api/v1/products/"
DETAIL = "/api/v1/products/item-02/"
CATEGORIES = "/api/v1/categories/"
CATALOG_URLS = [LIST, DETAIL, CATEGORIES]
PUBLIC = "public, max-age=0, stale-while-revalidate=0"
PRIVATE = "private, no-store"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def version(name: str) -> int:
    return remote.versions_get([name])[0]


def stored_body_delete(etag: str) -> None:
    """Drop the L2 body stored under ``etag`` (the ETag is the response's cache key)."""
    get_redis_connection("default").delete(remote.key("r:" + etag.strip('"')))


def cache_counts(client: APIClient) -> dict[tuple[str, str], float]:
    """Read shopfast_cache_requests_total from /metrics, per (layer, result)."""
    text = client.get("/metrics").content.decode()
    return {
        (sample.labels["layer"], sample.labels["result"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "shopfast_cache_requests_total"
    }


def not_found_counts(client) -> dict[str, float]:
    text = client.get("/metrics").content.decode()
    found = {"hit": 0.0, "miss": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "shopfast_cache_not_found_total":
                found[sample.labels["result"]] = sample.value
    return found


def counted_since(before: dict, after: dict) -> dict[tuple[str, str], float]:
    return {
        key: after[key] - before.get(key, 0.0) for key in after if after[key] != before.get(key)
    }


# --- Versions in Redis ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lost_version_restarts_from_the_clock_and_never_repeats_an_old_one():
    seen = set()
    for _ in range(3):
        seen.add(version(LISTING))
        remote.versions_bump([LISTING])
    seen.add(version(LISTING))
    assert len(seen) == 4

    get_redis_connection("default").delete(remote.key("v:" + LISTING))  # Redis lost it
    fresh = version(LISTING)

    assert fresh not in seen and fresh > max(seen)
    assert abs(fresh - time.time_ns() // 1000) < 60_000_000  # microseconds since the epoch


@pytest.mark.django_db
def test_bumping_a_version_that_does_not_exist_starts_it_from_the_clock():
    remote.versions_bump([product_version("never-seen")])
    assert abs(version(product_version("never-seen")) - time.time_ns() // 1000) < 60_000_000


@pytest.mark.django_db
def test_a_bump_moves_the_names_it_is_given_and_no_other():
    names = [LISTING, product_version("a"), product_version("b")]
    before = remote.versions_get(names)

    remote.versions_bump([LISTING, product_version("a")])

    after = remote.versions_get(names)
    assert after[0] > before[0] and after[1] > before[1]
    assert after[2] == before[2]


# --- L1 -------------------------------------------------------------------------------------------


def test_l1_holds_no_more_entries_than_configured(catalog, client, settings):
    settings.CACHE_L1_MAX_ENTRIES = 3
    urls = [f"/api/v1/products/item-{i:02d}/" for i in range(5)]
    assert [client.get(url)["X-Cache"] for url in urls] == ["MISS"] * 5

    # The three stored last are in L1; the first two were pushed out but are still in Redis.
    sources = [client.get(url)["X-Cache"] for url in reversed(urls)]

    assert sources == ["HIT-L1"] * 3 + ["HIT-L2"] * 2


def test_a_bump_is_never_answered_from_l1(catalog, client):
    before = client.get(LIST)
    assert before["X-Cache"] == "MISS"
    Product.objects.filter(slug="item-00").update(name="Renamed lamp")  # no invalidation by itself
    assert client.get(LIST)["X-Cache"] == "HIT-L1"  # L1 does hold the old body

    remote.versions_bump([LISTING])
    after = client.get(LIST)

    assert after["X-Cache"] == "MISS"
    assert b"Renamed lamp" in after.content and b"Renamed lamp" not in before.content


# --- Zero queries and HTTP validators -------------------------------------------------------------


@pytest.mark.parametrize("url", CATALOG_URLS)
def test_a_cache_hit_makes_no_database_query(catalog, client, url, django_assert_num_queries):
    miss = client.get(url)
    assert miss["X-Cache"] == "MISS"

    # Cachalot off: a hit must not reach the ORM at all, not merely have cachalot answer it.
    with cachalot_disabled(), django_assert_num_queries(0):
        from_l1 = client.get(url)
    l1_clear()
    with cachalot_disabled(), django_assert_num_queries(0):
        from_l2 = client.get(url)

    assert (from_l1["X-Cache"], from_l2["X-Cache"]) == ("HIT-L1", "HIT-L2")
    assert from_l1.content == from_l2.content == miss.content


@pytest.mark.parametrize("url", CATALOG_URLS)
def test_a_current_etag_gets_a_304_from_the_versions_alone_without_a_query(
    catalog, client, url, django_assert_num_queries
):
    etag = client.get(url)["ETag"]
    l1_clear()
    stored_body_delete(etag)  # no layer holds the body: only the versions can answer

    with cachalot_disabled(), django_assert_num_queries(0):
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag and response.content == b""


def test_a_bump_changes_the_etag_of_every_response_that_depends_on_it(catalog, client):
    list_etag = client.get(LIST)["ETag"]
    detail_etag = client.get(DETAIL)["ETag"]

    remote.versions_bump([product_version("item-02")])
    assert client.get(LIST)["ETag"] == list_etag  # a product's own version leaves the list alone
    detail = client.get(DETAIL, HTTP_IF_NONE_MATCH=detail_etag)
    assert detail.status_code == 200 and detail["ETag"] != detail_etag

    remote.versions_bump([LISTING])
    listing = client.get(LIST, HTTP_IF_NONE_MATCH=list_etag)
    assert listing.status_code == 200 and listing["ETag"] != list_etag
    assert client.get(DETAIL)["ETag"] not in (detail_etag, detail["ETag"])


# --- Cache-Control --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", CATALOG_URLS)
def test_catalog_gets_are_public_on_a_miss_a_hit_and_a_304(catalog, client, url):
    miss = client.get(url)
    hit = client.get(url)
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=hit["ETag"])

    assert (miss["X-Cache"], hit["X-Cache"], not_modified.status_code) == ("MISS", "HIT-L1", 304)
    assert [r["Cache-Control"] for r in (miss, hit, not_modified)] == [PUBLIC] * 3


def test_catalog_cache_control_follows_the_settings(catalog, client, settings):
    settings.CATALOG_CACHE_MAX_AGE = 30
    settings.CATALOG_CACHE_STALE_WHILE_REVALIDATE = 60
    expected = "public, max-age=30, stale-while-revalidate=60"
    assert client.get(LIST)["Cache-Control"] == expected
    assert client.get(LIST)["Cache-Control"] == expected


def test_carts_checkouts_orders_auth_and_errors_are_private_and_never_stored(db):
    shop = shop_build(skus=2, buyers=1)
    buyer, anonymous = api_for(shop.users[0]), APIClient()
    line = {"sku": shop.sku(0), "quantity": 1}
    checkout = buyer.post(
        "/api/v1/checkout/", {"lines": [line]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert checkout.status_code == 201, checkout.content
    answers = {
        "cart": buyer.get("/api/v1/cart/"),
        "cart line": buyer.post("/api/v1/cart/lines/", line, format="json"),
        "checkout": checkout,
        "orders": buyer.get("/api/v1/orders/"),
        "order": buyer.get(f"/api/v1/orders/{checkout.json()['number']}/"),
        "token": anonymous.post(
            "/api/v1/auth/token/",
            {"username": shop.users[0].username, "password": PASSWORD},
            format="json",
        ),
        "register": anonymous.post(
            "/api/v1/auth/register/",
            {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD},
            format="json",
        ),
        "anonymous cart": anonymous.get("/api/v1/cart/"),
        "unknown product": anonymous.get("/api/v1/products/no-such-thing/"),
        "bad list filter": anonymous.get(LIST, {"min_price": "abc"}),
    }

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {
        "cart": 200,
        "cart line": 201,
        "checkout": 201,
        "orders": 200,
        "order": 200,
        "token": 200,
        "register": 201,
        "anonymous cart": 401,
        "unknown product": 404,
        "bad list filter": 400,
    }
    assert {name: answer["Cache-Control"] for name, answer in answers.items()} == {
        name: PRIVATE for name in answers
    }


# --- Metrics --------------------------------------------------------------------------------------


def test_hits_and_misses_per_layer_appear_in_metrics(catalog, client):
    before = cache_counts(client)
    first = client.get(LIST)  # L1 miss, L2 miss
    client.get(LIST)  # L1 hit
    l1_clear()
    client.get(LIST)  # L1 miss, L2 hit
    client.get(LIST, HTTP_IF_NONE_MATCH=first["ETag"])  # a 304

    counted = counted_since(before, cache_counts(client))

    assert {key: value for key, value in counted.items() if key[0] != "orm"} == {
        ("l1", "miss"): 2,
        ("l1", "hit"): 1,
        ("l2", "miss"): 1,
        ("l2", "hit"): 1,
        ("http", "hit"): 1,
    }


@pytest.mark.django_db(transaction=True)
def test_orm_cache_hits_and_misses_appear_in_metrics(
    catalog, client, settings, django_assert_num_queries
):
    # Outside a transaction, as in production: inside one, cachalot keeps entries in memory.
    settings.CACHE_RESPONSES = False  # every request runs the view's queries
    # The fixture's writes stamped the catalog tables CACHALOT_SETTLE_SECONDS ahead (nothing is
    # served from cachalot that soon after a write, by design): start after that window.
    caches["cachalot"].delete_pattern("*")

    before = cache_counts(client)
    with django_assert_num_queries(2) as first:  # the categories and their product counts
        client.get(CATEGORIES)
    queries = len(first.captured_queries)  # before the next request resets the query log
    between = cache_counts(client)
    with django_assert_num_queries(0):
        client.get(CATEGORIES)
    after = cache_counts(client)

    assert counted_since(before, between) == {("orm", "miss"): queries}
    assert counted_since(between, after) == {("orm", "hit"): queries}


# --- The list's cache identity --------------------------------------------------------------------


def test_the_list_cache_key_ignores_unknown_parameters_and_their_order(catalog, client):
    first = client.get(LIST + "?page_size=2&foo=1&ordering=price")
    assert first["X-Cache"] == "MISS"

    same = [
        client.get(LIST + "?ordering=price&page_size=2"),
        client.get(LIST + "?utm_source=mail&ordering=price&page_size=2&foo=2"),
        client.get(LIST + "?page_size=9&ordering=price&page_size=2"),  # the last value counts
    ]

    assert [r["X-Cache"] for r in same] == ["HIT-L1"] * 3
    assert {r.content for r in same} == {first.content}
    assert {r["ETag"] for r in same} == {first["ETag"]}


@pytest.mark.parametrize(
    "query",
    [
        "?ordering=-price&page_size=2",
        "?ordering=price&page_size=3",
        "?ordering=price&page_size=2&category=books",
    ],
)
def test_different_known_list_parameters_are_different_entries(catalog, client, query):
    first = client.get(LIST + "?page_size=2&ordering=price")
    other = client.get(LIST + query)

    assert (first["X-Cache"], other["X-Cache"]) == ("MISS", "MISS")
    assert other.content != first.content and other["ETag"] != first["ETag"]


@pytest.mark.django_db(transaction=True)
def test_a_client_that_does_not_take_json_gets_406_whatever_the_cache_holds(catalog):
    client = Client()
    url = "/api/v1/products/?page_size=8"
    html_first = client.get(url, HTTP_ACCEPT="text/html")
    json_answer = client.get(url, HTTP_ACCEPT="application/json")
    again = client.get(url, HTTP_ACCEPT="application/json")
    html_after = client.get(url, HTTP_ACCEPT="text/html")

    assert json_answer.status_code == 200 and again["X-Cache"] == "HIT-L1"
    for refused in (html_first, html_after):
        assert refused.status_code == 406, refused.get("X-Cache")
        assert refused.json()["code"] == "not_acceptable"
    assert client.get(url, HTTP_ACCEPT="text/html, */*;q=0.1")["X-Cache"] == "HIT-L1"


@pytest.mark.django_db(transaction=True)
def test_a_missing_product_is_cached_briefly_and_counted_apart_from_pages(catalog, settings):
    client = Client()
    url = "/api/v1/products/no-such-product/"
    before = cache_counts(client)
    not_found_before = not_found_counts(client)
    first, second = client.get(url), client.get(url)

    assert (first.status_code, first["X-Cache"]) == (404, "MISS")
    assert (second.status_code, second["X-Cache"]) == (404, "HIT-L1")
    assert first.json() == second.json() == {"code": "not_found", "detail": "Not found."}
    pages = {key: value for key, value in counted_since(before, cache_counts(client)).items()}
    assert not [key for key in pages if key[0] != "orm"], pages  # the page layers saw none
    after = not_found_counts(client)
    assert after["miss"] - not_found_before["miss"] == 1
    assert after["hit"] - not_found_before["hit"] == 1
    redis = get_redis_connection("default")
    ttls = [redis.ttl(name) for name in redis.scan_iter(remote.key("r:") + "*")]
    assert len(ttls) == 1 and 0 < ttls[0] <= settings.CACHE_NOT_FOUND_TTL_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_cached_404_gives_way_to_the_product_once_it_is_created(catalog):
    client = Client()
    url = "/api/v1/products/arrives-later/"
    assert client.get(url).status_code == 404
    assert client.get(url)["X-Cache"] == "HIT-L1"

    product = Product.objects.get(slug="item-03")
    product.slug = "arrives-later"
    product.save()  # the admin's path

    assert client.get(url).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_response_asked_for_once_holds_redis_briefly_one_asked_again_its_full_life(
    catalog, settings
):
    # 500 distinct filter values grew Redis by 20 MB, each entry kept for an hour.
    client = Client()
    redis = get_redis_connection("default")
    for price in range(40):
        assert client.get(f"/api/v1/products/?min_price={price}").status_code == 200
    names = list(redis.scan_iter(remote.key("r:") + "*"))
    ttls = [redis.ttl(name) for name in names]

    assert len(names) == 40
    assert 0 < max(ttls) <= settings.CACHE_L2_NEW_TTL_SECONDS < settings.CACHE_L2_TTL_SECONDS

    l1_clear()
    again = client.get("/api/v1/products/?min_price=3")  # an L2 hit: someone wants it
    assert again["X-Cache"] == "HIT-L2"
    refreshed = max(redis.ttl(name) for name in redis.scan_iter(remote.key("r:") + "*"))
    assert refreshed > settings.CACHE_L2_NEW_TTL_SECONDS
