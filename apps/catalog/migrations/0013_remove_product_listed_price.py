from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction; it never blocks reads or writes.
    atomic = False

    dependencies = [
        ("catalog", "0012_product_instock_cur_price"),
    ]

    operations = [
        RemoveIndexConcurrently(model_name="product", name="product_listed_price_idx"),
    ]
