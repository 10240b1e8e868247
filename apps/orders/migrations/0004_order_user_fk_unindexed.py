"""Drop the index of Order.user_id: order_user_created_idx (user, -created_at, -id) leads with it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run in a transaction; alone, so nothing is half-applied.
    atomic = False
    dependencies = [("orders", "0003_checkout_quote_place")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="order",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to=settings.AUTH_USER_MODEL,
                    ),
                )
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX CONCURRENTLY IF EXISTS orders_order_user_id_e9b59eb1",
                    reverse_sql=(
                        "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_order_user_id_e9b59eb1 "
                        "ON orders_order (user_id)"
                    ),
                )
            ],
        )
    ]
