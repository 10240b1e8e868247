"""Staff catalog writes: one product with its variants, or a list of prices, through the importers.

The write API validates and writes exactly as ``import_catalog`` and ``import_prices`` do (their
``validate`` and ``write``, one batch): the same rules, the same set-based upserts, the same cache
announcements on commit. A request is all or nothing: one bad field and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from apps.catalog.errors import CatalogWriteInvalid
from apps.catalog.imports import TAG_SEPARATOR, CatalogImporter
from apps.catalog.models import Product
from apps.catalog.price_imports import PriceImporter
from apps.core.bulk.report import RowError

# Importer columns as the API names them: product fields once, variant fields per variant.
PRODUCT_FIELDS = {
    "product_slug": "slug",
    "product_name": "name",
    "category_slug": "category",
    "description": "description",
    "tags": "tags",
}
VARIANT_FIELDS = {"sku": "sku", "variant_name": "name", "price": "price", "currency": "currency"}


@dataclass(frozen=True, slots=True)
class VariantInput:
    sku: str
    name: str
    price: str
    currency: str


@dataclass(frozen=True, slots=True)
class PriceInput:
    sku: str
    price: str


def product_upsert(
    *,
    slug: str,
    name: str,
    category: str,
    description: str,
    tags: Sequence[str],
    variants: Sequence[VariantInput],
) -> bool:
    """Create or update the product ``slug`` and its listed variants; return whether it is new.

    Variants not listed are left as they are. Raises ``CatalogWriteInvalid`` naming each bad
    field (``variants[i].price`` for a variant's), having written nothing.
    """
    joined_tags = TAG_SEPARATOR.join(tags)
    rows = [
        (index + 1, (v.sku, slug, name, category, v.name, v.price, v.currency, description,
                     joined_tags))
        for index, v in enumerate(variants)
    ]  # fmt: skip
    importer = CatalogImporter()
    valid, errors = importer.validate(rows)
    _refuse(errors, "variants")
    with transaction.atomic():
        created = not Product.objects.filter(slug=slug).exists()
        importer.write(valid)
    return created


def prices_set(prices: Sequence[PriceInput]) -> int:
    """Set the price of each SKU; return how many. Raises ``CatalogWriteInvalid`` for a bad
    price or an unknown SKU (``prices[i].sku``), having written nothing."""
    importer = PriceImporter()
    valid, errors = importer.validate([(i + 1, (p.sku, p.price)) for i, p in enumerate(prices)])
    _refuse(errors, "prices")
    with transaction.atomic():
        _refuse(importer.write(valid), "prices")  # unknown SKUs: the batch rolls back
    return len(valid)


def _refuse(errors: list[RowError], items: str) -> None:
    if not errors:
        return
    fields: dict[str, list[str]] = {}
    for line, column, reason in errors:
        if column in PRODUCT_FIELDS:
            key = PRODUCT_FIELDS[column]
        else:
            key = f"{items}[{line - 1}].{VARIANT_FIELDS.get(column, column)}"
        if reason not in fields.setdefault(key, []):
            fields[key].append(reason)
    first = next(iter(fields.items()))
    raise CatalogWriteInvalid(f"{first[0]}: {first[1][0]}", fields=fields)
