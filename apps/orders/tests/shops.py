"""A stocked shop and its buyers, for tests and benchmarks (a plain module: importable)."""

from dataclasses import dataclass
from decimal import Decimal

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Variant
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from apps.inventory.models import Stock, Warehouse
from apps.inventory.tests.factories import WarehouseFactory


@dataclass
class Shop:
    variants: list[Variant]
    warehouses: list[Warehouse]
    users: list

    def sku(self, i: int) -> str:
        return self.variants[i].sku

    def stock(self, i: int) -> int:
        """Units of variant ``i`` over all warehouses, read fresh from the database."""
        return sum(
            Stock.objects.filter(variant=self.variants[i]).values_list("quantity", flat=True)
        )


def shop_build(units_per_warehouse: int = 5, skus: int = 12, buyers: int = 10) -> Shop:
    """Build SKU-00.. with ``units_per_warehouse`` in each of two warehouses, and buyers."""
    warehouses = [
        WarehouseFactory(code="main", priority=1),
        WarehouseFactory(code="overflow", priority=2),
    ]
    variants = []
    for i in range(skus):
        product = ProductFactory(slug=f"thing-{i:02d}", name=f"Thing {i:02d}")
        variants.append(
            VariantFactory(product=product, sku=f"SKU-{i:02d}", price=Decimal("10.00") + i)
        )
    Stock.objects.bulk_create(
        Stock(variant=v, warehouse=w, quantity=units_per_warehouse)
        for v in variants
        for w in warehouses
    )
    users = UserFactory.create_batch(buyers)
    Token.objects.bulk_create(Token(user=u, key=f"token-{u.pk:034d}") for u in users)
    return Shop(variants=variants, warehouses=warehouses, users=users)


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token token-{user.pk:034d}")
    return client
