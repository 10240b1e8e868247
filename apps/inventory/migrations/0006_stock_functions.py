"""Create the stock functions of apps/inventory/sql/stock.sql (the file is their source of truth)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/inventory/sql/stock.sql"
# A change to the file ships with a new migration that loads it again, with the new hash
# (tests/test_sql_functions.py checks that the newest one matches).
SOURCE_SHA256 = "f69022a5607598167c130e49ce99a72c8a6a2a40683755575dfdd3ff2baaf327"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_stock_fillfactor"),
        ("catalog", "0015_remove_product_instock_price"),
    ]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql="DROP FUNCTION IF EXISTS inventory_stock_release(bigint, text); DROP FUNCTION IF EXISTS inventory_stock_allocate(bigint, bigint[], integer[], text[]); DROP FUNCTION IF EXISTS inventory_stock_short(bigint[], integer[], text[]);",
        )
    ]
