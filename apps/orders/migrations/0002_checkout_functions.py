"""Create the checkout functions of apps/orders/sql/checkout.sql (the file is their source of truth)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/orders/sql/checkout.sql"
# A change to the file ships with a new migration that loads it again, with the new hash
# (tests/test_sql_functions.py checks that the newest one matches).
SOURCE_SHA256 = "924d02d0adcd17f18e4183e8e88f99621945ac8a8667613dbc2278f64d9a539e"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("inventory", "0006_stock_functions"),
        ("cart", "0002_cart_functions"),
    ]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql="DROP FUNCTION IF EXISTS orders_order_settle(bigint, bigint, boolean, text, text); DROP FUNCTION IF EXISTS orders_order_place(integer, text, text, text, text[], integer[], boolean); DROP FUNCTION IF EXISTS orders_order_json(bigint);",
        )
    ]
