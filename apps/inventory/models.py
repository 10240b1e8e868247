"""Inventory: warehouses and the sellable quantity of each variant in each of them."""

from django.db import models
from django.db.models import Q


class Warehouse(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    # Lower numbers are allocated from first when an order spans several warehouses.
    priority = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ("priority", "code")

    def __str__(self) -> str:
        return self.code


class Stock(models.Model):
    """Sellable units of one variant in one warehouse: the row a checkout locks and decrements."""

    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="stocks")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stocks")
    quantity = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "warehouse"], name="stock_variant_warehouse_uniq"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="stock_quantity_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.warehouse_id}: {self.quantity}"
