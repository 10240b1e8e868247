"""Load apps/inventory/sql/stock.sql again: inventory_stock_release_orders returns the units of a
batch of orders in one statement (the expiry task's); it replaces inventory_stock_release."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/inventory/sql/stock.sql"
SOURCE_SHA256 = "b0b9c5f194fc0bbbf6d76320398006d497be32ebb768cff37abf370e7f0497e9"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_stockmovement_reason_expired")]

    operations = [
        migrations.RunSQL(
            "DROP FUNCTION IF EXISTS inventory_stock_release(bigint, text);",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            SQL,
            reverse_sql="DROP FUNCTION IF EXISTS inventory_stock_release_orders(bigint[], text);",
        )
    ]
