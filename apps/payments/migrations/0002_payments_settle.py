"""Load apps/payments/sql/settle.sql: payments_settle applies a webhook's event in one statement."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/payments/sql/settle.sql"
SOURCE_SHA256 = "cfc54753cf4a91cfce0a90d1072c31da8565f33660e04beff474aac6adeacc44"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("orders", "0011_order_void_due_idx"),
        ("inventory", "0008_stock_release_orders"),
    ]

    operations = [
        migrations.RunSQL(SQL, reverse_sql="DROP FUNCTION IF EXISTS payments_settle(text, text, text);")
    ]
