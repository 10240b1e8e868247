"""Create the cart functions of apps/cart/sql/cart.sql (the file is their source of truth)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/cart/sql/cart.sql"
# A change to the file ships with a new migration that loads it again, with the new hash
# (tests/test_sql_functions.py checks that the newest one matches).
SOURCE_SHA256 = "502a328f78cde459b477ca0923461177dba6c42137d63db6961b15e90f1bef66"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [("cart", "0001_initial"), ("catalog", "0015_remove_product_instock_price")]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql="DROP FUNCTION IF EXISTS cart_lines_take(integer, bigint[], integer[]); DROP FUNCTION IF EXISTS cart_line_add(integer, text, integer, integer, integer); DROP FUNCTION IF EXISTS cart_lines_json(bigint);",
        )
    ]
