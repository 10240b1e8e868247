"""export_catalog: keyset chunks, CSV and JSONL in the import format, and a lossless round trip."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.exports import catalog_export, catalog_export_chunks
from apps.catalog.imports import CATALOG_COLUMNS
from apps.catalog.models import Category, Product, Tag, Variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported_catalog(tmp_path) -> list[dict]:
    """Import 13 rows (5 products, 2 categories, 3 tags, a quote and a newline); return them."""
    rows = [
        {
            "sku": f"EXP-{p}-{v}",
            "product_slug": f"export-{p}",
            "product_name": f'Export "Pro" {p}',
            "category_slug": "export-cat" if p % 2 else "export-other",
            "variant_name": f"V{v}",
            "price": f"{p + 1}.{v}0",
            "currency": "EUR" if p < 4 else "USD",
            "description": f"Line one of {p},\nline two.",
            "tags": ["alpha", "beta"] if p % 2 else ["gamma"] if p == 2 else [],
        }
        for p in range(5)
        for v in range(3 if p < 4 else 1)
    ]
    path = tmp_path / "seed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    call_command("import_catalog", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    return rows


def test_chunks_walk_every_variant_once_in_id_order_one_query_each(exported_catalog):
    with CaptureQueriesContext(connection) as queries:
        chunks = list(catalog_export_chunks(chunk_size=4))

    assert [len(chunk) for chunk in chunks] == [4, 4, 4, 1]
    skus = [row[0] for chunk in chunks for row in chunk]
    assert skus == list(Variant.objects.order_by("id").values_list("sku", flat=True))
    chunk_queries = [q["sql"] for q in queries.captured_queries if "LIMIT 4" in q["sql"]]
    assert len(chunk_queries) == 4
    assert len(queries) == 5  # and the tag names, once
    last_ids = [int(sql.split("WHERE v.id > ")[1].split()[0]) for sql in chunk_queries]
    assert last_ids[0] == 0
    assert last_ids[1:] == list(Variant.objects.order_by("id").values_list("id", flat=True))[3:12:4]


def test_csv_export_has_the_import_columns_and_values(exported_catalog):
    stream = io.StringIO()

    count = catalog_export(stream, "csv", chunk_size=5)

    stream.seek(0)
    rows = list(csv.DictReader(stream))
    assert count == len(rows) == 13
    assert list(rows[0]) == list(CATALOG_COLUMNS)
    first = {**exported_catalog[3], "tags": "alpha|beta"}
    assert rows[3] == first


def test_jsonl_export_gives_tags_as_lists_and_prices_as_strings(exported_catalog):
    stream = io.StringIO()

    catalog_export(stream, "jsonl", chunk_size=5)

    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert rows == exported_catalog


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_imports_back_into_the_same_catalog(exported_catalog, tmp_path, fmt):
    path = tmp_path / f"export.{fmt}"
    call_command(
        "export_catalog", format=fmt, output=str(path), chunk_size="4", stderr=io.StringIO()
    )
    before = snapshot()
    Product.tags.through.objects.all().delete()
    Variant.objects.all().delete()
    Product.objects.all().delete()
    Category.objects.all().delete()
    Tag.objects.all().delete()

    call_command("import_catalog", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    assert snapshot() == before


def snapshot():
    return (
        sorted(Variant.objects.values_list("sku", "product__slug", "name", "price", "currency")),
        sorted(Product.objects.values_list("slug", "name", "description", "category__slug")),
        sorted(Product.tags.through.objects.values_list("product__slug", "tag__slug")),
        sorted(Product.objects.values_list("slug", "price", "currency")),
    )


def test_bad_options_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="--format must be one of"):
        call_command("export_catalog", format="xml")
    with pytest.raises(CommandError, match="--chunk-size must be an integer >= 1"):
        call_command("export_catalog", chunk_size="0")
    with pytest.raises(CommandError, match="No such file"):
        call_command("export_catalog", output=str(tmp_path / "missing" / "x.csv"))


def test_a_tag_created_while_the_export_runs_is_named_in_later_chunks(exported_catalog):
    chunks = catalog_export_chunks(chunk_size=6)
    first = next(chunks)
    late = Product.objects.get(slug="export-4")
    late.tags.add(Tag.objects.create(slug="late-tag", name="Late"))

    rest = [row for chunk in chunks for row in chunk]

    assert len(first) + len(rest) == 13
    assert rest[-1][1] == "export-4"
    assert rest[-1][8] == ["late-tag"]
