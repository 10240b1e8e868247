"""Checkout with a payment that answers later: orders_checkout_place takes the payment's status
(paid, pending_payment, payment_failed) and how long a pending one holds its units."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/orders/sql/checkout.sql"
SOURCE_SHA256 = "cad07f4b1bbcf96c11aa86240966fcfe803527662bc7dcdd888bd1a8e91884a0"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()
OLD = (
    "DROP FUNCTION IF EXISTS orders_checkout_place(integer, text, text, text, bigint[], text[], "
    "integer[], numeric[], text, boolean, boolean, text, text);"
)
NEW = (
    "DROP FUNCTION IF EXISTS orders_checkout_place(integer, text, text, text, bigint[], text[], "
    "integer[], numeric[], text, boolean, text, text, text, integer); "
    "DROP FUNCTION IF EXISTS orders_iso(timestamptz);"
)


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_order_email_due_idx")]

    # Backwards this drops the new functions only: the file no longer holds the old ones.
    operations = [
        migrations.RunSQL(OLD, reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(SQL, reverse_sql=NEW),
    ]
