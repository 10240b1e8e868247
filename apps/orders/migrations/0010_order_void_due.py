"""The void outbox flag: an order whose payment authorization is still to be voided."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_checkout_pending_payment")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="void_due",
            field=models.BooleanField(db_default=False, default=False),
        ),
    ]
