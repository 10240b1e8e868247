"""Index the orders whose payment is still to be voided (the void task's scan)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; it never blocks writes.
    atomic = False

    dependencies = [("orders", "0010_order_void_due")]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(
                condition=models.Q(("void_due", True)), fields=["id"], name="order_void_due_idx"
            ),
        ),
    ]
