"""The yardstick: the same files imported the way a first cut does it, one ``save()`` per row.

A competent first cut: categories and tags cached in dicts, then per row
``update_or_create`` for the product and the variant and ``tags.set()``, each row committing on
its own (Django's autocommit, as a plain management command loop runs). Never used by the app.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from django.utils.text import slugify

from apps.catalog.models import Category, Product, Tag, Variant
from apps.inventory.models import Stock, Warehouse


def catalog_save_loop(path: Path) -> int:
    """Import a catalog CSV row by row; return the number of rows."""
    categories: dict[str, Category] = {}
    tags: dict[str, Tag] = {}
    rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            slug = row["category_slug"]
            if slug not in categories:
                categories[slug], _ = Category.objects.get_or_create(
                    slug=slug, defaults={"name": slug.replace("-", " ").title()}
                )
            product, _ = Product.objects.update_or_create(
                slug=row["product_slug"],
                defaults={
                    "name": row["product_name"],
                    "description": row["description"],
                    "category": categories[slug],
                },
            )
            Variant.objects.update_or_create(
                sku=row["sku"],
                defaults={
                    "product": product,
                    "name": row["variant_name"],
                    "price": Decimal(row["price"]),
                    "currency": row["currency"],
                },
            )
            product_tags = []
            for name in filter(None, row["tags"].split("|")):
                if name not in tags:
                    tags[name], _ = Tag.objects.get_or_create(
                        slug=slugify(name), defaults={"name": name}
                    )
                product_tags.append(tags[name])
            product.tags.set(product_tags)
            rows += 1
    return rows


def stock_save_loop(path: Path) -> int:
    """Set stock quantities row by row; return the number of rows."""
    warehouses = {w.code: w for w in Warehouse.objects.all()}
    rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            variant = Variant.objects.get(sku=row["sku"])
            stock, created = Stock.objects.get_or_create(
                variant=variant,
                warehouse=warehouses[row["warehouse"]],
                defaults={"quantity": int(row["quantity"])},
            )
            if not created:
                stock.quantity = int(row["quantity"])
                stock.save(update_fields=["quantity"])
            rows += 1
    return rows


def price_save_loop(path: Path) -> int:
    """Set variant prices row by row; return the number of rows."""
    rows = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            variant = Variant.objects.get(sku=row["sku"])
            variant.price = Decimal(row["price"])
            variant.save(update_fields=["price"])
            rows += 1
    return rows
