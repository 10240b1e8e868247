"""Inventory: warehouses and the sellable quantity of each variant in each of them."""

from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now


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


class StockMovement(models.Model):
    """One change the shop made to a Stock row (a sale or a return): the inventory ledger.

    Cancellation reads it to return units to the warehouses they came from, and a stock feed reads
    it to re-apply the movements that committed while the feed ran (see ``feeds``). ``order_id`` is
    a plain id, not a foreign key: inventory does not depend on the orders app.
    """

    class Reason(models.TextChoices):
        SALE = "sale"
        CANCEL = "cancel"
        PAYMENT_FAILED = "payment_failed"
        EXPIRED = "expired"

    stock = models.ForeignKey(Stock, on_delete=models.CASCADE, related_name="movements")
    delta = models.IntegerField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    order_id = models.BigIntegerField(null=True, blank=True)
    # The writing transaction's id (pg_current_xact_id): lets a feed tell, against a snapshot taken
    # when it started, exactly which movements committed after that moment.
    txid = models.BigIntegerField(db_default=RawSQL("pg_current_xact_id()::text::bigint", ()))
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [
            models.Index(fields=["order_id"], name="stockmove_order_idx"),
            models.Index(fields=["stock", "txid"], name="stockmove_stock_txid_idx"),
        ]
        constraints = [
            # The database's own guarantee that an order's units come back at most once per row.
            models.UniqueConstraint(
                fields=["order_id", "stock"],
                condition=Q(delta__gt=0),
                name="stockmove_one_return_per_row",
            ),
            models.CheckConstraint(condition=~Q(delta=0), name="stockmove_delta_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.delta:+d} on stock {self.stock_id}"
