"""Catalog import: validate a batch in Python, then upsert it in a few set-based statements.

Each batch is shipped with ``COPY`` into ``ON COMMIT DROP`` temporary tables and merged with
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <something changed>`` / ``UPDATE ... FROM``: unchanged
rows are not rewritten (no dead tuples, no index churn, no trigger work on a re-import). Measured
against ``bulk_create(update_conflicts=True)`` on the same batches (benchmarks/import_orm.py,
docs/imports.md): COPY + ON CONFLICT was faster, so it is the one kept.

Categories and tags are resolved per batch in one query per kind and created in bulk when
missing (an unknown category becomes a root category named from its slug). Listing columns
(price, currency, in_stock) follow by the statement-level triggers on variants; the search vector
is a generated column; each committed batch refreshes the cached catalog for its products.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from django.db import connection, transaction
from django.utils.text import slugify

from apps.catalog.cache import catalog_invalidate_products
from apps.catalog.models import Category, Product, Tag, Variant
from apps.core.bulk import values
from apps.core.bulk.copy import temp_table_copy
from apps.core.bulk.reader import Row
from apps.core.bulk.report import RowError, value_preview

CATALOG_COLUMNS = (
    *("sku", "product_slug", "product_name", "category_slug", "variant_name"),
    *("price", "currency", "description", "tags"),
)
TAG_SEPARATOR = "|"
# A small import changes too little to shift the planner's statistics; ANALYZE of the catalog
# tables took ~1 s on a million variants.
ANALYZE_AFTER_ROWS = 50_000


class CatalogRow(NamedTuple):
    line: int
    sku: str
    product_slug: str
    product_name: str
    category_slug: str
    variant_name: str
    price: Decimal
    currency: str
    description: str
    tags: tuple[str, ...]  # tag slugs


def name_from_slug(slug: str, max_length: int) -> str:
    """Name a category or tag the import creates from its slug: "eco-friendly" -> "Eco Friendly"."""
    return slug.replace("-", " ").replace("_", " ").strip().title()[:max_length] or slug


_field = Product._meta.get_field
SKU_MAX = Variant._meta.get_field("sku").max_length
SLUG_MAX, NAME_MAX = _field("slug").max_length, _field("name").max_length
CATEGORY_MAX = Category._meta.get_field("slug").max_length
VARIANT_NAME_MAX = Variant._meta.get_field("name").max_length
TAG_MAX = Tag._meta.get_field("slug").max_length
sku_value = partial(values.text, max_length=SKU_MAX)
# tuple.__new__ builds a NamedTuple without its Python-level __new__: 3x faster per row.
new_catalog_row = partial(tuple.__new__, CatalogRow)
CHECKS = (
    ("sku", sku_value),
    ("product_slug", partial(values.slug, max_length=SLUG_MAX)),
    ("product_name", partial(values.text, max_length=NAME_MAX)),
    ("category_slug", partial(values.slug, max_length=CATEGORY_MAX)),
    ("variant_name", partial(values.text, max_length=VARIANT_NAME_MAX)),
    ("price", values.money),
    ("currency", values.currency),
    ("description", partial(values.text, max_length=1_000_000, required=False)),
)


class CatalogImporter:
    """Upsert products, variants, categories, tags and tag links from catalog rows."""

    name = "import_catalog"
    columns = CATALOG_COLUMNS

    def __init__(self) -> None:
        self.seen = values.SeenKeys()
        self.category_ids: dict[str, int] = {}  # grows with distinct categories, not with rows
        self.tag_ids: dict[str, int] = {}
        self.tag_slugs: dict[str, str] = {}  # tag text as written -> slug
        self.tag_names: dict[str, str] = {}  # slug -> display name, for tags to create
        self.written = 0

    def validate(self, rows: list[Row]) -> tuple[list[CatalogRow], list[RowError]]:
        """Parse every field of every row; reject duplicates of a SKU seen earlier in the file."""
        valid, errors = [], []
        seen = self.seen.add
        for line, fields in rows:
            row = self._plain_row(line, fields) or self._checked_row(line, fields, errors)
            if row is None:
                continue
            if seen(row.sku):
                valid.append(row)
            else:
                errors.append(values.duplicate(line, "sku", row.sku))
        return valid, errors

    def _plain_row(self, line: int, fields: tuple[str, ...]) -> CatalogRow | None:
        """Accept a row whose fields all have the common, obviously valid shape; else None.

        A fast path only: what it does not accept goes through ``_checked_row``, the authority
        on what is valid and why not.
        """
        sku, slug, name, category, variant, price, cur, desc, tags = map(str.strip, fields)
        slug_match = values.SLUG_RE.match
        if not (
            0 < len(sku) <= SKU_MAX
            and 0 < len(name) <= NAME_MAX
            and 0 < len(variant) <= VARIANT_NAME_MAX
            and len(slug) <= SLUG_MAX
            and len(category) <= CATEGORY_MAX
            and slug_match(slug)
            and slug_match(category)
            and values.PLAIN_MONEY_RE.match(price)
            and values.CURRENCY_RE.match(cur)
        ):
            return None
        try:
            tag_slugs = self._tags(tags)
        except values.BadValue:
            return None
        return new_catalog_row(
            (line, sku, slug, name, category, variant, Decimal(price), cur, desc, tag_slugs)
        )

    def _checked_row(self, line: int, fields: tuple[str, ...], errors: list[RowError]):
        """Parse each field with its full checks; add one error per bad field to ``errors``."""
        before = len(errors)
        parsed = [
            values.checked(errors, line, column, parse, raw)
            for (column, parse), raw in zip(CHECKS, fields, strict=False)
        ]
        parsed.append(values.checked(errors, line, "tags", self._tags, fields[-1]))
        return new_catalog_row((line, *parsed)) if len(errors) == before else None

    def _tags(self, raw: str) -> tuple[str, ...]:
        slugs = []
        for part in raw.split(TAG_SEPARATOR):
            tag = part.strip()
            if not tag:
                continue
            slug = self.tag_slugs.get(tag)
            if slug is None:
                slug = self._tag_slug(tag)
                if len(self.tag_slugs) < 100_000:  # a cache, bounded against hostile files
                    self.tag_slugs[tag] = slug
            if slug not in slugs:
                slugs.append(slug)
        return tuple(slugs)

    def _tag_slug(self, tag: str) -> str:
        is_slug = values.SLUG_RE.match(tag) and tag == tag.lower()
        slug = tag if is_slug else slugify(tag)
        if not slug:
            raise values.BadValue(f"tag {value_preview(tag)} has no letters or digits")
        if len(slug) > TAG_MAX or len(tag) > TAG_MAX:
            raise values.BadValue(f"tag {value_preview(tag)} is longer than {TAG_MAX} characters")
        self.tag_names.setdefault(slug, name_from_slug(slug, TAG_MAX) if is_slug else tag)
        return slug

    def partition(self, row: CatalogRow) -> int:
        """Route all rows of a product to one writer, so that its last row is written last."""
        return hash(row.product_slug)

    def write(self, rows: list[CatalogRow]) -> list[RowError]:
        """Upsert one batch; the caller holds the transaction."""
        products = {row.product_slug: row for row in rows}  # the last row of a product wins
        category_ids = _resolve(
            Category,
            {r.category_slug for r in products.values()},
            self.category_ids,
            self._new_category,
        )
        tag_ids = _resolve(
            Tag, {slug for r in products.values() for slug in r.tags}, self.tag_ids, self._new_tag
        )
        positions: dict[str, int] = {}
        cheapest: dict[str, tuple[Decimal, str, str]] = {}  # what the listing trigger will find
        variants = []
        for row in rows:
            slug = row.product_slug
            position = positions[slug] = positions.get(slug, -1) + 1
            variants.append((row.sku, slug, row.variant_name, row.price, row.currency, position))
            offer = (row.price, row.sku, row.currency)
            if slug not in cheapest or offer < cheapest[slug]:
                cheapest[slug] = offer
        temp_table_copy(
            "_import_product",
            "slug text, name text, description text, category_id bigint, tag_ids bigint[],"
            " price numeric, currency text",
            # An array as its text literal: psycopg adapts a list 3x slower than the whole row.
            (
                (
                    r.product_slug,
                    r.product_name,
                    r.description,
                    category_ids[r.category_slug],
                    "{" + ",".join([str(tag_ids[slug]) for slug in r.tags]) + "}",
                    cheapest[r.product_slug][0],
                    cheapest[r.product_slug][2],
                )
                for r in products.values()
            ),
            extra="id bigint",
        )
        temp_table_copy(
            "_import_variant",
            "sku text, product_slug text, name text, price numeric, currency text,"
            " position integer",
            variants,
        )
        self.written += len(rows)
        changed: set[int] = set()
        with connection.cursor() as cursor:
            for statement in CATALOG_SQL:
                cursor.execute(statement)
                if "RETURNING" in statement:
                    changed.update(product_id for (product_id,) in cursor.fetchall())
        announce_products(changed)
        return []

    def _new_category(self, slug: str) -> Category:
        return Category(
            name=name_from_slug(slug, Category._meta.get_field("name").max_length),
            slug=slug,
            parent=None,
            path=Category.build_path(None, slug),
            depth=0,
        )

    def _new_tag(self, slug: str) -> Tag:
        return Tag(slug=slug, name=self.tag_names.get(slug) or name_from_slug(slug, TAG_MAX))

    def finish(self) -> None:
        if self.written >= ANALYZE_AFTER_ROWS:
            catalog_analyze()


def _resolve(model, slugs: Iterable[str], known: dict[str, int], build) -> dict[str, int]:
    """Return {slug: id}, creating missing rows in bulk; cache ids only once they are committed."""
    missing = [slug for slug in slugs if slug not in known]
    found: dict[str, int] = {}
    if missing:
        found = dict(model.objects.filter(slug__in=missing).values_list("slug", "id"))
        new = sorted(set(missing) - found.keys())
        if new:
            model.objects.bulk_create([build(slug) for slug in new], ignore_conflicts=True)
            found.update(model.objects.filter(slug__in=new).values_list("slug", "id"))
        transaction.on_commit(partial(known.update, found))
    return {**known, **found} if found else known


def announce_products(product_ids: set[int]) -> None:
    if product_ids:
        transaction.on_commit(
            partial(catalog_invalidate_products, frozenset(product_ids), listing=True)
        )


# Statements with RETURNING give the ids of the products they changed. Subqueries end in
# OFFSET 0 so that each stays an index probe per batch row: left to itself the planner may hash
# the whole table (temporary tables have no statistics): a full scan per batch on a big catalog.
CATALOG_SQL = (
    # Only new or changed products reach the INSERT: an unchanged one costs an index probe, not a
    # new row version. A new product comes with its listing price precomputed from the batch, so
    # the variant trigger finds it already right instead of rewriting every product it inserted.
    """INSERT INTO catalog_product AS p (slug, name, description, category_id, attributes,
            is_active, created_at, updated_at, price, currency, in_stock)
        SELECT t.slug, t.name, t.description, t.category_id, '{}'::jsonb, true,
               statement_timestamp(), statement_timestamp(),
               t.price, t.currency, false
          FROM _import_product t
         WHERE NOT EXISTS (SELECT FROM catalog_product q
                            WHERE q.slug = t.slug AND q.name = t.name
                              AND q.description = t.description AND q.category_id = t.category_id
                           OFFSET 0)
         ORDER BY t.slug
        ON CONFLICT (slug) DO UPDATE
           SET name = EXCLUDED.name, description = EXCLUDED.description,
               category_id = EXCLUDED.category_id, updated_at = EXCLUDED.updated_at
         WHERE (p.name, p.description, p.category_id)
               IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.category_id)
        RETURNING p.id""",
    """UPDATE _import_product t
           SET id = (SELECT p.id FROM catalog_product p WHERE p.slug = t.slug OFFSET 0)""",
    """WITH changed AS (
       INSERT INTO catalog_variant AS v (product_id, sku, name, price, currency, is_active,
            position)
        SELECT p.id, t.sku, t.name, t.price, t.currency, true, t.position
          FROM _import_variant t JOIN _import_product p ON p.slug = t.product_slug
         WHERE NOT EXISTS (SELECT FROM catalog_variant w
                            WHERE w.sku = t.sku AND w.product_id = p.id AND w.name = t.name
                              AND w.price = t.price AND w.currency = t.currency
                           OFFSET 0)
         ORDER BY t.sku
        ON CONFLICT (sku) DO UPDATE
           SET product_id = EXCLUDED.product_id, name = EXCLUDED.name, price = EXCLUDED.price,
               currency = EXCLUDED.currency
         WHERE (v.product_id, v.name, v.price, v.currency) IS DISTINCT FROM
               (EXCLUDED.product_id, EXCLUDED.name, EXCLUDED.price, EXCLUDED.currency)
        RETURNING v.product_id)
       SELECT DISTINCT product_id FROM changed""",
    # A product's tags become exactly the listed ones.
    """WITH changed AS (
       DELETE FROM catalog_product_tags AS pt USING _import_product t
         WHERE pt.product_id = ANY (ARRAY(SELECT id FROM _import_product))
           AND pt.product_id = t.id AND pt.tag_id <> ALL (t.tag_ids)
        RETURNING pt.product_id)
       SELECT DISTINCT product_id FROM changed""",
    """WITH changed AS (
       INSERT INTO catalog_product_tags (product_id, tag_id)
        SELECT t.id, unnest(t.tag_ids) FROM _import_product t
        ON CONFLICT (product_id, tag_id) DO NOTHING
        RETURNING product_id)
       SELECT DISTINCT product_id FROM changed""",
)


def catalog_analyze() -> None:
    """Refresh planner statistics after a load (the listing triggers' plans depend on them)."""
    tables = [m._meta.db_table for m in (Category, Tag, Product, Product.tags.through, Variant)]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")
