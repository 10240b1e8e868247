"""Checkout in one commit: replace place/settle with quote/place (apps/orders/sql/checkout.sql)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/orders/sql/checkout.sql"
SOURCE_SHA256 = "d26e7a79073b274fe75da6b919d1db11bd5b36827a187d7f89081c5ea70157d2"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()
OLD = (
    "DROP FUNCTION IF EXISTS orders_order_settle(bigint, bigint, boolean, text, text); "
    "DROP FUNCTION IF EXISTS orders_order_place(integer, text, text, text, text[], integer[], "
    "boolean); DROP FUNCTION IF EXISTS orders_order_json(bigint);"
)
NEW = (
    "DROP FUNCTION IF EXISTS orders_checkout_quote(integer, text, text[], integer[], boolean); "
    "DROP FUNCTION IF EXISTS orders_checkout_place(integer, text, text, text, bigint[], text[], "
    "integer[], numeric[], text, boolean, boolean, text, text);"
)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_checkout_functions")]

    operations = [
        migrations.RunSQL(OLD, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(SQL, reverse_sql=NEW),
    ]
