"""The ORM's bulk API as the write path of the same importers, to measure against COPY + SQL.

Same reading, validation, batching and transactions as the real importers; only ``write`` differs:
``bulk_create(update_conflicts=True, unique_fields=..., update_fields=...)`` for the catalog,
``bulk_update`` for stock and prices. ``perf/import_bench.py --compare`` times both on the same
files; docs/imports.md has the figures. Never used by the app.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import BooleanField, F, Sum
from django.db.models.expressions import RawSQL

from apps.catalog.imports import CatalogImporter, _resolve, announce_products
from apps.catalog.models import Category, Product, Tag, Variant
from apps.catalog.price_imports import PriceImporter
from apps.core.bulk.report import RowError, value_preview
from apps.inventory.feeds import StockFeed
from apps.inventory.locks import stock_lock_rows
from apps.inventory.models import Stock, StockMovement


class OrmCatalogImporter(CatalogImporter):
    def write(self, rows):
        products = {row.product_slug: row for row in rows}
        category_ids = _resolve(
            Category,
            {r.category_slug for r in products.values()},
            self.category_ids,
            self._new_category,
        )
        tag_ids = _resolve(
            Tag, {s for r in products.values() for s in r.tags}, self.tag_ids, self._new_tag
        )
        objects = [
            Product(
                slug=r.product_slug,
                name=r.product_name,
                description=r.description,
                category_id=category_ids[r.category_slug],
            )
            for r in sorted(products.values(), key=lambda r: r.product_slug)
        ]
        Product.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["slug"],
            update_fields=["name", "description", "category", "updated_at"],
        )
        ids = {p.slug: p.pk for p in objects}
        Variant.objects.bulk_create(
            [
                Variant(
                    product_id=ids[r.product_slug],
                    sku=r.sku,
                    name=r.variant_name,
                    price=r.price,
                    currency=r.currency,
                )
                for r in sorted(rows, key=lambda r: r.sku)
            ],
            update_conflicts=True,
            unique_fields=["sku"],
            update_fields=["product", "name", "price", "currency"],
        )
        through = Product.tags.through
        through.objects.filter(product_id__in=ids.values()).delete()
        through.objects.bulk_create(
            [
                through(product_id=ids[r.product_slug], tag_id=tag_ids[s])
                for r in products.values()
                for s in r.tags
            ],
            ignore_conflicts=True,
        )
        announce_products(set(ids.values()))
        self.written += len(rows)
        return []


class OrmStockFeed(StockFeed):
    def write(self, rows):
        variant_ids = dict(
            Variant.objects.filter(sku__in=[r.sku for r in rows]).values_list("sku", "id")
        )
        unknown = [
            RowError(r.line, "sku", f"unknown sku {value_preview(r.sku)}")
            for r in rows
            if r.sku not in variant_ids
        ]
        wanted = {
            (variant_ids[r.sku], r.warehouse_id): r.quantity for r in rows if r.sku in variant_ids
        }
        existing = {
            (v, w): pk
            for pk, v, w in Stock.objects.filter(variant_id__in={v for v, _ in wanted}).values_list(
                "pk", "variant_id", "warehouse_id"
            )
            if (v, w) in wanted
        }
        stock_lock_rows(existing.values())
        moved = defaultdict(int)
        moved.update(
            StockMovement.objects.filter(stock_id__in=existing.values())
            .alias(
                since=RawSQL("pg_snapshot_xmin(%s::pg_snapshot)::text::bigint", [self.snapshot]),
                unseen=RawSQL(
                    "NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot)",
                    [self.snapshot],
                    output_field=BooleanField(),
                ),
            )
            .filter(txid__gte=F("since"), unseen=True)
            .values_list("stock_id")
            .annotate(total=Sum("delta"))
            .values_list("stock_id", "total")
        )
        Stock.objects.bulk_update(
            [
                Stock(pk=pk, quantity=max(0, wanted[key] + moved[pk]))
                for key, pk in existing.items()
            ],
            ["quantity"],
        )
        Stock.objects.bulk_create(
            [
                Stock(variant_id=v, warehouse_id=w, quantity=q)
                for (v, w), q in wanted.items()
                if (v, w) not in existing
            ],
            ignore_conflicts=True,
        )
        return unknown


class OrmPriceImporter(PriceImporter):
    def write(self, rows):
        variants = {
            v.sku: v
            for v in Variant.objects.filter(sku__in=[r.sku for r in rows]).only(
                "id", "sku", "price"
            )
        }
        unknown = [
            RowError(r.line, "sku", f"unknown sku {value_preview(r.sku)}")
            for r in rows
            if r.sku not in variants
        ]
        changed = []
        for r in rows:
            variant = variants.get(r.sku)
            if variant is not None and variant.price != r.price:
                variant.price = r.price
                changed.append(variant)
        Variant.objects.bulk_update(changed, ["price"])
        self.written += len(rows)
        return unknown


ORM_IMPORTERS = {"catalog": OrmCatalogImporter, "stock": OrmStockFeed, "prices": OrmPriceImporter}
