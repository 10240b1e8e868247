from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction; it never blocks writes.
    atomic = False

    dependencies = [
        ("catalog", "0011_product_cat_cur_price"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="product",
            index=models.Index(
                condition=models.Q(("is_active", True), ("price__isnull", False)),
                fields=["in_stock", "currency", "price", "id"],
                name="product_instock_cur_price_idx",
            ),
        ),
    ]
