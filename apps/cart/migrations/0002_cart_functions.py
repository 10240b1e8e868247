"""Create the cart functions of apps/cart/sql/cart.sql (the file is their source of truth)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/cart/sql/cart.sql"
# A change to the file ships with a new migration that loads it again, with the new hash
# (tests/test_sql_functions.py checks that the newest one matches).
SOURCE_SHA256 = "191a313d3efa7b1af062453ca27c493db65009281e6c50d4d6bf6f724daf9a72"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [("cart", "0001_initial"), ("catalog", "0015_remove_product_instock_price")]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql="DROP FUNCTION IF EXISTS cart_lines_take(integer, bigint[], integer[]); DROP FUNCTION IF EXISTS cart_line_add(integer, text, integer, integer, integer); DROP FUNCTION IF EXISTS cart_lines_json(bigint);",
        )
    ]
