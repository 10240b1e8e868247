"""import_prices: new prices by SKU, listing prices follow, bad rows reported by line."""

from decimal import Decimal

import pytest

from apps.catalog.models import Product, Variant
from apps.catalog.tests.factories import ProductFactory, VariantFactory
from apps.core.tests.commands import run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def variants(db) -> list[Variant]:
    """12 variants over 4 products, 3 each, priced 10, 11, 12 (+10 per product)."""
    made = []
    for p in range(4):
        product = ProductFactory(slug=f"priced-{p}")
        made += [
            VariantFactory(product=product, sku=f"P-{p}-{v}", price=Decimal(10 * (p + 1) + v))
            for v in range(3)
        ]
    return made


def run_prices(tmp_path, lines: list[str], batch_size: int = 4):
    path = tmp_path / "prices.csv"
    path.write_text("sku,price\n" + "".join(f"{line}\n" for line in lines))
    return run_command("import_prices", str(path), batch_size=str(batch_size))


def test_prices_are_set_by_sku_and_listing_prices_follow(variants, tmp_path):
    out, err, status = run_prices(
        tmp_path, [f"P-{p}-{v},{p}.{v}5" for p in range(4) for v in range(3)]
    )

    assert status == 0, err
    assert "12 rows read, 12 written, 0 rejected" in out
    assert Variant.objects.get(sku="P-2-1").price == Decimal("2.15")
    assert dict(Product.objects.values_list("slug", "price")) == {
        f"priced-{p}": Decimal(f"{p}.05") for p in range(4)
    }


def test_unknown_skus_bad_prices_and_duplicates_are_reported_and_the_rest_written(
    variants, tmp_path
):
    lines = [f"P-{p}-{v},{50 + p}.00" for p in range(4) for v in range(3)]  # lines 2..13
    lines[1] = "P-0-1,-5"  # line 3
    lines[4] = "NOPE-1,5.00"  # line 6
    lines[6] = "P-2-0,5.123"  # line 8
    lines[9] = "P-0-0,1.00"  # line 11: P-0-0 is on line 2
    lines[10] = ",1.00"  # line 12

    out, err, status = run_prices(tmp_path, lines)

    assert status == 1
    assert "12 rows read, 7 written, 5 rejected" in out
    assert "line 3, column price: must not be negative" in err
    assert "line 6, column sku: unknown sku 'NOPE-1'" in err
    assert "line 8, column price: has more than two decimal places" in err
    assert "line 11, column sku: duplicate sku 'P-0-0'" in err
    assert "line 12, column sku: required" in err
    prices = dict(Variant.objects.values_list("sku", "price"))
    assert prices["P-0-0"] == Decimal("50.00")
    assert prices["P-0-1"] == Decimal("11")
    assert prices["P-2-0"] == Decimal("30")
    assert prices["P-3-2"] == Decimal("53.00")


def test_an_unchanged_price_is_not_rewritten(variants, tmp_path):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sku, xmin::text FROM catalog_variant")
        before = dict(cursor.fetchall())

    run_prices(tmp_path, ["P-0-0,10.00", "P-0-1,99.00"] + [f"P-3-{v},{40 + v}" for v in range(3)])

    with connection.cursor() as cursor:
        cursor.execute("SELECT sku, xmin::text FROM catalog_variant")
        rewritten = {sku for sku, xmin in cursor.fetchall() if before[sku] != xmin}
    assert rewritten == {"P-0-1"}
