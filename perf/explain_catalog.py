"""EXPLAIN ANALYZE the product-list queries, one per filter/ordering combination.

It explains their ORM form (``selectors.product_list_queryset``): ``apps/catalog/listing.py`` sends
the same predicates and order, assembled by hand, and runs the unfiltered forward pages inside
``catalog_product_page()`` (whose inner plans only ``auto_explain`` shows).

Usage (against a seeded catalog, e.g. ``seed_catalog --products 100000``):
    uv run python -m perf.explain_catalog [--full]
Prints, per case, the indexes the plan uses and the execution time (``--full``: whole plans).
"""

import argparse
import os
import re
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django.setup()

from apps.catalog.keyset import PRODUCT_ORDERINGS  # noqa: E402
from apps.catalog.models import Category, Product, Tag  # noqa: E402
from apps.catalog.selectors import ProductFilters, product_list_queryset  # noqa: E402
from apps.core.keyset import Cursor, _after  # noqa: E402

INDEX_SCAN = re.compile(r"(?:Index|Index Only|Bitmap Index) Scan (?:Backward )?using (\w+)")


def cases() -> list[tuple[str, ProductFilters, str, bool]]:
    root = Category.objects.filter(depth=0).order_by("path").values_list("slug", flat=True)[0]
    leaf = Category.objects.order_by("-depth", "path").values_list("slug", flat=True)[0]
    tag = Tag.objects.order_by("slug").values_list("slug", flat=True)[0]
    F = ProductFilters
    return [
        ("default (-created_at)", F(), "-created_at", False),
        ("ordering=price", F(), "price", False),
        ("ordering=-price", F(), "-price", False),
        ("ordering=name", F(), "name", False),
        ("page 2 (cursor), ordering=price", F(), "price", True),
        (f"category={root} (root, descendants)", F(category=root), "-created_at", False),
        (f"category={leaf}&ordering=price", F(category=leaf), "price", False),
        (f"tag={tag}", F(tag=tag), "-created_at", False),
        ("in_stock=true", F(in_stock=True), "-created_at", False),
        ("in_stock=false&ordering=price", F(in_stock=False), "price", False),
        ("min_price=10&max_price=50&ordering=price",
         F(min_price=Decimal(10), max_price=Decimal(50)), "price", False),
        ("q=wireless", F(q="wireless"), "-created_at", False),
        ("q=leather&ordering=price", F(q="leather"), "price", False),
        (f"category={root}&in_stock=true&ordering=price",
         F(category=root, in_stock=True), "price", False),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="print whole plans")
    args = parser.parse_args()
    listed = Product.objects.filter(is_active=True, price__isnull=False).count()
    print(f"listed products: {listed:,}\n")
    print("| case | indexes used | execution ms |\n|---|---|---:|")
    for name, filters, ordering, second_page in cases():
        qs = product_list_queryset(filters)
        order = PRODUCT_ORDERINGS[ordering]
        if second_page:
            row = qs.order_by(*order.order_by())[24:25].get()
            cursor = Cursor(ordering, True, row[order.column], row["id"])
            qs = _after(qs, order, cursor, reverse=False)
        plan = qs.order_by(*order.order_by())[:25].explain(analyze=True, timing=False)
        indexes = sorted(set(INDEX_SCAN.findall(plan)))
        seq = sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))
        used = ", ".join(indexes) + (f"; seq scan: {', '.join(seq)}" if seq else "")
        ms = re.search(r"Execution Time: ([\d.]+)", plan).group(1)
        print(f"| {name} | {used} | {ms} |")
        if args.full:
            print(f"\n```\n{plan}\n```\n")


if __name__ == "__main__":
    main()
