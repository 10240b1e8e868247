"""Index the paid orders whose confirmation email is due (the email task's scan)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; it never blocks writes.
    atomic = False

    dependencies = [("orders", "0007_order_pending_expiry_idx")]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(condition=models.Q(("email_due", True)), fields=["id"], name="order_email_due_idx"),
        ),
    ]
