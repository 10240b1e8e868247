"""Every write path, then a read through the full stack (L1, L2, cachalot, HTTP) sees the write.

Each test warms the cache first and checks the warm read was a hit, so a pass means the write
invalidated the cached layers, not that nothing was cached. Transactions really commit here
(``transactional_db``): invalidation runs after the commit, as in production.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.test import APIClient

from apps.catalog.models import Category, Variant
from apps.core.tests.commands import run_command
from apps.inventory.models import Stock
from apps.orders.payments import PaymentResult, TestProvider
from apps.orders.tests.shops import api_for, shop_build

pytestmark = pytest.mark.django_db(transaction=True)

LIST = "/api/v1/products/?ordering=name&page_size=100"


@pytest.fixture
def shop():
    return shop_build(units_per_warehouse=5)


def admin_session():
    """Let zeal pass the admin's repeated session loads (the admin's code, not ours)."""
    return override_settings(ZEAL_ALLOWLIST=[{"model": "sessions.Session", "field": "*"}])


@pytest.fixture
def reader():
    return APIClient()


def warm(reader, url: str) -> dict:
    """Read ``url`` twice; the second read must come from the cache."""
    reader.get(url)
    response = reader.get(url)
    assert response.status_code == 200
    assert response["X-Cache"].startswith("HIT"), response["X-Cache"]
    return response.json()


def summary(reader, slug: str) -> dict:
    body = reader.get(LIST).json()
    return next(p for p in body["results"] if p["slug"] == slug)


def available(reader, slug: str) -> int:
    return reader.get(f"/api/v1/products/{slug}/").json()["variants"][0]["available"]


def checkout(user, sku: str, quantity: int, key: str):
    return api_for(user).post(
        "/api/v1/checkout/",
        {"lines": [{"sku": sku, "quantity": quantity}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_an_admin_price_edit_shows_in_the_list_and_the_detail(shop, reader, client):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/thing-03/")
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456")
    with admin_session():
        client.force_login(admin)
    variant = shop.variants[3]

    with admin_session():
        response = client.post(
            f"/admin/catalog/variant/{variant.pk}/change/",
            {
                "product": variant.product_id,
                "sku": variant.sku,
                "name": variant.name,
                "price": "77.70",
                "currency": "EUR",
                "is_active": "on",
                "position": "0",
            },
        )

    assert response.status_code == 302, response.content[:2000]
    assert summary(reader, "thing-03")["price"] == "77.70"
    assert reader.get("/api/v1/products/thing-03/").json()["variants"][0]["price"] == "77.70"


def test_an_admin_category_rename_shows_in_categories_and_summaries(shop, reader, client):
    warm(reader, "/api/v1/categories/")
    warm(reader, LIST)
    category = shop.variants[0].product.category
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456")
    with admin_session():
        client.force_login(admin)

    with admin_session():
        response = client.post(
            f"/admin/catalog/category/{category.pk}/change/",
            {"name": "Renamed", "slug": category.slug, "parent": "", "position": "0"},
        )

    assert response.status_code == 302, response.content[:2000]
    names = {c["slug"]: c["name"] for c in reader.get("/api/v1/categories/").json()}
    assert names[category.slug] == "Renamed"
    assert summary(reader, "thing-00")["category"]["name"] == "Renamed"


def test_an_admin_stock_edit_to_zero_shows_as_sold_out(shop, reader):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/thing-04/")

    for row in Stock.objects.filter(variant=shop.variants[4]):  # what the admin's save does
        row.quantity = 0
        row.save()

    assert summary(reader, "thing-04")["in_stock"] is False
    assert available(reader, "thing-04") == 0


def test_a_price_feed_shows_in_the_list_and_the_detail(shop, reader, tmp_path):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/thing-05/")
    feed = tmp_path / "prices.csv"
    feed.write_text("sku,price,currency\nSKU-05,3.25,EUR\n")

    _, _, status = run_command("import_prices", str(feed))

    assert status == 0
    assert summary(reader, "thing-05")["price"] == "3.25"
    assert reader.get("/api/v1/products/thing-05/").json()["variants"][0]["price"] == "3.25"


def test_a_stock_feed_to_zero_shows_as_sold_out(shop, reader, tmp_path):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/thing-06/")
    feed = tmp_path / "stock.csv"
    feed.write_text("sku,warehouse,quantity\nSKU-06,main,0\nSKU-06,overflow,0\n")

    _, _, status = run_command("import_stock", str(feed))

    assert status == 0
    assert summary(reader, "thing-06")["in_stock"] is False
    assert available(reader, "thing-06") == 0


def test_a_catalog_import_rename_shows_in_the_list_and_in_a_name_search(shop, reader, tmp_path):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/?q=zeppelin")
    category = shop.variants[7].product.category.slug
    feed = tmp_path / "catalog.csv"
    feed.write_text(
        "sku,product_slug,product_name,category_slug,variant_name,price,currency,description,tags\n"
        f"SKU-07,thing-07,Zeppelin lamp,{category},Default,17.00,EUR,A lamp,\n"
    )

    _, _, status = run_command("import_catalog", str(feed))

    assert status == 0
    assert summary(reader, "thing-07")["name"] == "Zeppelin lamp"
    found = reader.get("/api/v1/products/?q=zeppelin").json()["results"]
    assert [p["slug"] for p in found] == ["thing-07"]


def test_a_sale_shows_in_the_detail_at_once_and_leaves_the_list_cached(shop, reader):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/thing-01/")

    assert checkout(shop.users[0], "SKU-01", 3, "sale-1").status_code == 201

    assert available(reader, "thing-01") == 7
    # Nothing in the list changed (no row crossed zero): it is still served from the cache.
    assert reader.get(LIST)["X-Cache"].startswith("HIT")


def test_the_last_unit_sold_shows_the_product_out_of_stock_everywhere(shop, reader):
    warm(reader, LIST)
    warm(reader, "/api/v1/products/?in_stock=true&page_size=100")
    warm(reader, "/api/v1/products/thing-02/")

    assert checkout(shop.users[0], "SKU-02", 10, "sale-all").status_code == 201

    assert summary(reader, "thing-02")["in_stock"] is False
    assert available(reader, "thing-02") == 0
    listed = reader.get("/api/v1/products/?in_stock=true&page_size=100").json()["results"]
    assert "thing-02" not in {p["slug"] for p in listed}


def test_a_cancellation_brings_the_units_and_in_stock_back(shop, reader):
    order = checkout(shop.users[1], "SKU-08", 10, "sale-cancel").json()
    warm(reader, LIST)
    warm(reader, "/api/v1/products/thing-08/")
    assert summary(reader, "thing-08")["in_stock"] is False

    response = api_for(shop.users[1]).post(f"/api/v1/orders/{order['number']}/cancel/")

    assert response.status_code == 200
    assert available(reader, "thing-08") == 10
    assert summary(reader, "thing-08")["in_stock"] is True


class ReadingProvider(TestProvider):
    """Decline, having read the product while the provider was asked (and cached that)."""

    seen: list[int] = []

    def authorize(self, *, order_number, amount, currency):
        self.seen.append(available(APIClient(), "thing-09"))
        return PaymentResult(ok=False, message="Card declined (test provider).")


def test_a_failed_payment_never_takes_the_units_from_the_detail(shop, reader, settings):
    settings.PAYMENT_PROVIDER = f"{__name__}.ReadingProvider"
    ReadingProvider.seen = []

    response = checkout(shop.users[2], "SKU-09", 4, "declined")

    assert response.status_code == 402
    assert ReadingProvider.seen == [10]  # the provider is asked before any unit is taken
    assert available(reader, "thing-09") == 10


def test_a_queryset_update_needs_an_explicit_invalidation(shop, reader):
    """Bulk ORM writes send no signals: the rule (docs/caching.md) is to call the invalidation."""
    from apps.catalog.cache import catalog_invalidate

    warm(reader, LIST)
    Variant.objects.filter(sku="SKU-10").update(price=Decimal("1.50"))
    assert summary(reader, "thing-10")["price"] != "1.50"  # the documented limit

    catalog_invalidate(listing=True)

    assert summary(reader, "thing-10")["price"] == "1.50"


def test_category_tree_changes_from_the_orm_show_in_categories(shop, reader):
    warm(reader, "/api/v1/categories/")
    Category.objects.create(slug="brand-new", name="Brand new", path="brand-new/", depth=0)
    assert "brand-new" in {c["slug"] for c in reader.get("/api/v1/categories/").json()}
