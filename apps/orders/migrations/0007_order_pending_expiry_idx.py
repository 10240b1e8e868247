"""Index the orders that wait for their payment, by expiry (the expiry task's scan)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; it never blocks writes.
    atomic = False

    dependencies = [("orders", "0006_order_expiry_email")]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(condition=models.Q(("status", "pending_payment")), fields=["expires_at"], name="order_pending_expiry_idx"),
        ),
    ]
