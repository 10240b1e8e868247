"""import_catalog: upserts, created categories and tags, listing columns, bad input."""

import csv
import io
import json
import time
from decimal import Decimal

import pytest
from django.contrib.postgres.search import SearchQuery
from django.core.management import CommandError, call_command
from django.db import connection

from apps.catalog import imports
from apps.catalog.imports import CATALOG_COLUMNS, CatalogImporter
from apps.catalog.models import SEARCH_CONFIG, Category, Product, Tag, Variant
from apps.catalog.tests.factories import CategoryFactory, TagFactory
from apps.core.bulk.reader import RowReader
from apps.core.bulk.report import ErrorReport
from apps.core.bulk.run import bulk_run
from apps.core.tests.commands import run_command

pytestmark = pytest.mark.django_db


def catalog_rows(products: int = 4, variants: int = 3, **overrides) -> list[dict]:
    """``products`` x ``variants`` valid rows; product p's variant v costs 10p + v + 0.50."""
    rows = []
    for p in range(products):
        for v in range(variants):
            row = {
                "sku": f"IMP-{p}-{v}",
                "product_slug": f"imported-{p}",
                "product_name": f"Imported Trail Shoe {p}",
                "category_slug": "apparel" if p % 2 == 0 else "gadgets",
                "variant_name": f"Size {40 + v}",
                "price": f"{10 * (p + 1) + v}.50",
                "currency": "EUR",
                "description": f"A waterproof shoe, number {p}.",
                "tags": "sale|Eco Friendly",
            }
            rows.append(row | overrides)
    return rows


def write_csv(path, rows: list[dict], columns=CATALOG_COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row[c] for c in columns])
    return path


def run_import(path, batch_size=5, **options):
    """Run the command; return (stdout, stderr, exit status)."""
    return run_command("import_catalog", str(path), batch_size=str(batch_size), **options)


@pytest.fixture
def shop(db):
    """An existing category tree and tags the import reuses."""
    apparel = CategoryFactory(slug="apparel", name="Apparel")
    CategoryFactory(slug="shoes", name="Shoes", parent=apparel)
    return {"sale": TagFactory(slug="sale", name="On Sale"), "new": TagFactory(slug="new")}


def test_import_creates_products_variants_and_missing_categories_and_tags(shop, tmp_path):
    out, err, status = run_import(write_csv(tmp_path / "c.csv", catalog_rows()))

    assert status == 0, err
    assert "import_catalog: 12 rows read, 12 written, 0 rejected" in out
    assert Product.objects.count() == 4
    assert Variant.objects.count() == 12
    gadgets = Category.objects.get(slug="gadgets")
    assert (gadgets.name, gadgets.parent, gadgets.path, gadgets.depth) == (
        "Gadgets",
        None,
        "gadgets/",
        0,
    )
    assert Category.objects.get(slug="apparel").products.count() == 2
    eco = Tag.objects.get(slug="eco-friendly")
    assert eco.name == "Eco Friendly"
    assert Tag.objects.get(slug="sale").name == "On Sale"  # reused, not renamed
    product = Product.objects.get(slug="imported-1")
    assert set(product.tags.values_list("slug", flat=True)) == {"sale", "eco-friendly"}
    assert list(product.variants.order_by("sku").values_list("sku", "name", "price")) == [
        ("IMP-1-0", "Size 40", Decimal("20.50")),
        ("IMP-1-1", "Size 41", Decimal("21.50")),
        ("IMP-1-2", "Size 42", Decimal("22.50")),
    ]


def test_listing_price_currency_and_search_are_right_after_the_import(shop, tmp_path):
    rows = catalog_rows()
    rows[5] |= {"price": "1.25", "currency": "GBP"}  # now the cheapest variant of imported-1
    run_import(write_csv(tmp_path / "c.csv", rows))

    listed = dict(Product.objects.values_list("slug", "price"))
    assert listed == {
        "imported-0": Decimal("10.50"),
        "imported-1": Decimal("1.25"),
        "imported-2": Decimal("30.50"),
        "imported-3": Decimal("40.50"),
    }
    assert Product.objects.get(slug="imported-1").currency == "GBP"
    assert not Product.objects.filter(in_stock=True).exists()  # no stock yet
    found = Product.objects.filter(search_vector=SearchQuery("waterproof", config=SEARCH_CONFIG))
    assert found.count() == 4


def test_a_reimport_rewrites_only_what_changed(shop, tmp_path):
    rows = catalog_rows()
    run_import(write_csv(tmp_path / "c.csv", rows))
    before = dict(Product.objects.values_list("slug", "updated_at"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT sku, xmin::text FROM catalog_variant")
        versions = dict(cursor.fetchall())
    rows[0]["price"] = "9.99"  # IMP-0-0
    for row in rows[3:6]:
        row["product_name"] = "Renamed"  # imported-1

    _, _, status = run_import(write_csv(tmp_path / "c.csv", rows))

    assert status == 0
    after = dict(Product.objects.values_list("slug", "updated_at"))
    assert [slug for slug in after if after[slug] != before[slug]] == ["imported-1"]
    assert Product.objects.get(slug="imported-1").name == "Renamed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT sku, xmin::text FROM catalog_variant")
        rewritten = {sku for sku, xmin in cursor.fetchall() if versions[sku] != xmin}
    assert rewritten == {"IMP-0-0"}
    assert Product.objects.get(slug="imported-0").price == Decimal("9.99")


def test_the_last_row_of_a_product_wins_even_in_a_later_batch(shop, tmp_path):
    rows = catalog_rows(products=2, variants=6)
    rows[-1] |= {"product_name": "Final Name", "description": "Final.", "tags": "new"}
    rows[-1]["category_slug"] = "shoes"

    run_import(write_csv(tmp_path / "c.csv", rows), batch_size=4)

    product = Product.objects.get(slug="imported-1")
    assert (product.name, product.description, product.category.slug) == (
        "Final Name",
        "Final.",
        "shoes",
    )
    assert list(product.tags.values_list("slug", flat=True)) == ["new"]
    assert Product.objects.get(slug="imported-0").name == "Imported Trail Shoe 0"


def test_a_product_ends_up_with_exactly_its_listed_tags(shop, tmp_path):
    run_import(write_csv(tmp_path / "c.csv", catalog_rows()))
    rows = catalog_rows(tags="new|Gift Idea")
    rows[0]["tags"] = rows[1]["tags"] = rows[2]["tags"] = ""

    run_import(write_csv(tmp_path / "c.csv", rows))

    tags = {
        p.slug: sorted(t.slug for t in p.tags.all())
        for p in Product.objects.prefetch_related("tags")
    }
    assert tags == {
        "imported-0": [],
        "imported-1": ["gift-idea", "new"],
        "imported-2": ["gift-idea", "new"],
        "imported-3": ["gift-idea", "new"],
    }


def test_a_sku_moves_to_the_product_its_row_names(shop, tmp_path):
    run_import(write_csv(tmp_path / "c.csv", catalog_rows()))
    rows = catalog_rows()
    rows[0]["product_slug"] = "imported-3"

    run_import(write_csv(tmp_path / "c.csv", rows))

    assert Variant.objects.get(sku="IMP-0-0").product.slug == "imported-3"
    assert Product.objects.get(slug="imported-3").price == Decimal("10.50")


def test_bad_rows_are_reported_by_line_and_column_and_the_rest_is_written(shop, tmp_path):
    rows = catalog_rows(products=5, variants=3)  # lines 2..16
    bad = {
        3: ("price", {"price": "-1.00"}, "must not be negative"),
        4: ("price", {"price": "abc"}, "is not a number"),
        5: ("price", {"price": "1.999"}, "more than two decimal places"),
        6: ("currency", {"currency": "euro"}, "three-letter currency code"),
        7: ("sku", {"sku": "  "}, "required"),
        8: ("product_slug", {"product_slug": "no spaces"}, "is not a slug"),
        9: ("product_name", {"product_name": "x" * 201}, "longer than 200"),
        10: ("tags", {"tags": "ok|!!!"}, "has no letters or digits"),
        11: ("sku", {"sku": "IMP-0-0"}, "duplicate sku 'IMP-0-0'"),
        12: ("category_slug", {"category_slug": ""}, "required"),
    }
    for line, (_, change, _) in bad.items():
        rows[line - 2] |= change
    path = write_csv(tmp_path / "c.csv", rows)
    errors_path = tmp_path / "errors.csv"

    out, err, status = run_import(path, errors=str(errors_path))

    assert status == 1
    assert "15 rows read, 5 written, 10 rejected" in out
    reported = list(csv.DictReader(errors_path.open()))
    assert [(int(r["line"]), r["column"]) for r in reported] == [
        (line, column) for line, (column, _, _) in bad.items()
    ]
    for r in reported:
        assert bad[int(r["line"])][2] in r["reason"]
    assert "line 3, column price: must not be negative" in err
    written = set(Variant.objects.values_list("sku", flat=True))
    assert written == {rows[n - 2]["sku"] for n in range(2, 17) if n not in bad}
    assert not Product.objects.filter(slug="no spaces").exists()
    assert Variant.objects.get(sku="IMP-0-0").price == Decimal("10.50")  # the first one kept


def test_undecodable_nul_and_oversized_lines_are_rejected_alone(shop, tmp_path):
    path = write_csv(tmp_path / "c.csv", catalog_rows())  # lines 2..13
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"Size 4", b"Size \xff4")  # line 4
    lines[5] = lines[5].replace(b"waterproof", b"water\x00proof")  # line 6
    lines[8] = lines[8].replace(b"waterproof", b"w" * (2 << 20))  # line 9: 2 MB
    path.write_bytes(b"\n".join(lines))

    out, err, status = run_import(path)

    assert status == 1
    assert "12 rows read, 9 written, 3 rejected" in out
    assert "line 4, column variant_name: invalid UTF-8" in err
    assert "line 6, column description: contains a NUL character" in err
    assert "line 9: line is 2,097," in err
    skus = set(Variant.objects.values_list("sku", flat=True))
    assert skus == {r["sku"] for r in catalog_rows()} - {"IMP-0-2", "IMP-1-1", "IMP-2-1"}


def test_a_file_missing_columns_writes_nothing(shop, tmp_path):
    columns = [c for c in CATALOG_COLUMNS if c not in ("price", "currency")]
    path = write_csv(tmp_path / "c.csv", catalog_rows(), columns=columns)

    _, err, status = run_import(path)

    assert status == 1
    assert "line 1: missing column(s): price, currency" in err
    assert Product.objects.count() == 0


def test_an_empty_file_is_an_error_not_a_traceback(shop, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")

    _, err, status = run_import(path)

    assert status == 1
    assert "line 1: empty file" in err
    assert "Traceback" not in err


def test_a_missing_file_or_a_bad_option_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_catalog", str(tmp_path / "nope.csv"), stderr=io.StringIO())
    with pytest.raises(CommandError, match="--batch-size must be an integer >= 1"):
        call_command("import_catalog", str(tmp_path / "x.csv"), batch_size="0")
    with pytest.raises(CommandError, match="--format must be one of"):
        call_command("import_catalog", str(tmp_path / "x.csv"), format="xml")


def test_jsonl_imports_the_same_catalog_with_tags_as_a_list(shop, tmp_path):
    path = tmp_path / "c.jsonl"
    rows = catalog_rows()
    for row in rows:
        row["tags"] = row["tags"].split("|")
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    _, err, status = run_import(path)

    assert status == 0, err
    assert Variant.objects.count() == 12
    tags = set(Product.objects.get(slug="imported-2").tags.values_list("slug", flat=True))
    assert tags == {"sale", "eco-friendly"}


def test_each_committed_batch_refreshes_the_catalog_for_its_products(
    shop, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    refreshed = []
    monkeypatch.setattr(
        imports, "catalog_invalidate_products", lambda pks, **kw: refreshed.append((pks, kw))
    )
    with django_capture_on_commit_callbacks(execute=True):
        importer = CatalogImporter()
        path = write_csv(tmp_path / "c.csv", catalog_rows())
        with ErrorReport(None) as report:
            bulk_run(RowReader(path, importer.columns), importer, report=report, batch_size=6)

    ids = dict(Product.objects.values_list("slug", "id"))
    assert refreshed == [
        (frozenset({ids["imported-0"], ids["imported-1"]}), {"listing": True}),
        (frozenset({ids["imported-2"], ids["imported-3"]}), {"listing": True}),
    ]


class SlowOnOneRow(CatalogImporter):
    """Stalls the writer that gets IMP-0-3, so that the other writer runs ahead."""

    def write(self, rows):
        if any(row.sku == "IMP-0-3" for row in rows):
            time.sleep(0.5)
        return super().write(rows)


@pytest.mark.django_db(transaction=True)
def test_two_writers_still_write_the_last_row_of_each_product_last(tmp_path):
    rows = catalog_rows(products=12, variants=5)
    for p in range(12):
        rows[p * 5 + 4]["product_name"] = f"Last {p}"
    # Variant-major order: each product's rows are spread over batches that, dealt out in turn,
    # would go to both writers; IMP-0-4 comes three batches after the stalled IMP-0-3.
    rows.sort(key=lambda row: (row["sku"][-1], row["sku"]))
    path = write_csv(tmp_path / "c.csv", rows)
    importer = SlowOnOneRow()

    with ErrorReport(None) as report:
        summary = bulk_run(
            RowReader(path, importer.columns), importer, report=report, batch_size=4, writers=2
        )

    assert summary.written == 60
    names = dict(Product.objects.values_list("slug", "name"))
    assert names == {f"imported-{p}": f"Last {p}" for p in range(12)}
