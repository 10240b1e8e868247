from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; it never blocks writes.
    atomic = False

    dependencies = [
        ("catalog", "0009_product_search_gin"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True), ("price__isnull", False)),
                fields=["currency", "price", "id"],
                name="product_cur_price_idx",
            ),
        ),
    ]
