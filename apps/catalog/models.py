"""Catalog: a category tree, products with tags and attributes, and their variants (SKUs)."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone

# Listed: active with a sellable price. The partial indexes use this predicate.
LISTED = Q(is_active=True, price__isnull=False)
SEARCH_CONFIG = "english"


class Category(models.Model):
    """A node of the category tree; ``path`` (slugs from the root) finds a subtree in one query."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=1024, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ("path",)
        indexes = [
            # LIKE 'a/b/%' prefix scans need the pattern opclass under a non-C collation.
            models.Index(
                fields=["path"], name="category_path_like_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Keep ``path``/``depth`` in step with parent and slug; re-root descendants on a move."""
        old_path = self.path
        parent = self.parent
        if parent is not None and (
            parent.pk == self.pk or parent.path.startswith(old_path or "\0")
        ):
            raise ValueError("a category cannot be its own ancestor")
        self.path = self.build_path(parent.path if parent else None, self.slug)
        self.depth = parent.depth + 1 if parent else 0
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            category_reroot_descendants(old_path, self.path, self.depth)

    @staticmethod
    def build_path(parent_path: str | None, slug: str) -> str:
        return f"{parent_path or ''}{slug}/"


def category_reroot_descendants(old_path: str, new_path: str, new_depth: int) -> None:
    """Rewrite the paths of every descendant of a moved or renamed category in one UPDATE."""
    from django.db.models import Value
    from django.db.models.functions import Concat, Substr

    old_depth = old_path.count("/") - 1
    Category.objects.filter(path__startswith=old_path).exclude(path=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=models.F("depth") + (new_depth - old_depth),
    )


class Tag(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)

    class Meta:
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.slug


class Product(models.Model):
    """A sellable product; ``price``, ``currency``, ``in_stock`` are kept by database triggers."""

    slug = models.SlugField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")
    attributes = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Denormalized for the list endpoint (filter, order, keyset-paginate on indexed columns).
    # Written only by the triggers in inventory/migrations/0002: every write path keeps them exact.
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, editable=False)
    currency = models.CharField(max_length=3, blank=True, default="", editable=False)
    in_stock = models.BooleanField(default=False, editable=False)

    # Stored and always current: PostgreSQL recomputes it on every insert and update.
    search_vector = models.GeneratedField(
        expression=SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
        ]
        # One index per list ordering, alone and behind each equality filter; every one is added
        # in its own CONCURRENTLY migration (migrations_sql/, apps/devtools/migration_lint.py).
        indexes = [
            models.Index(
                fields=["-created_at", "-id"], condition=LISTED, name="product_listed_created_idx"
            ),
            # Price filters and orderings compare one currency at a time (the list's currency).
            models.Index(
                fields=["currency", "price", "id"], condition=LISTED, name="product_cur_price_idx"
            ),
            models.Index(fields=["name", "id"], condition=LISTED, name="product_listed_name_idx"),
            models.Index(
                fields=["category", "-created_at", "-id"],
                condition=LISTED,
                name="product_cat_created_idx",
            ),
            models.Index(
                fields=["category", "currency", "price", "id"],
                condition=LISTED,
                name="product_cat_cur_price_idx",
            ),
            models.Index(
                fields=["in_stock", "-created_at", "-id"],
                condition=LISTED,
                name="product_instock_created_idx",
            ),
            models.Index(
                fields=["in_stock", "currency", "price", "id"],
                condition=LISTED,
                name="product_instock_cur_price_idx",
            ),
            GinIndex(fields=["search_vector"], name="product_search_gin_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """A purchasable SKU of a product."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("position", "id")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_non_negative"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="variant_currency_iso4217"
            ),
            models.CheckConstraint(condition=~Q(sku=""), name="variant_sku_not_empty"),
        ]

    def __str__(self) -> str:
        return self.sku
