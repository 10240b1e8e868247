"""Keep each product's tag slugs on the product row, by triggers (apps/catalog/sql/listing_tags.sql)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/catalog/sql/listing_tags.sql"
# A change to the file ships with a new migration that loads it again, with the new hash
# (tests/test_sql_functions.py checks that the newest one matches).
SOURCE_SHA256 = "2ebf5376671c894d9c953206edcf930a72c0732748594d86f296da82a358b6d6"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0015_remove_product_instock_price")]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql=(
                "DROP TRIGGER IF EXISTS catalog_product_tags_inserted ON catalog_product_tags; "
                "DROP TRIGGER IF EXISTS catalog_product_tags_deleted ON catalog_product_tags; "
                "DROP TRIGGER IF EXISTS catalog_tag_renamed ON catalog_tag; "
                "DROP FUNCTION IF EXISTS catalog_tag_renamed(); "
                "DROP FUNCTION IF EXISTS catalog_product_tags_changed(); "
                "DROP FUNCTION IF EXISTS catalog_product_tags_refresh(bigint[]); "
                "ALTER TABLE catalog_product DROP COLUMN IF EXISTS tag_slugs;"
            ),
        )
    ]
