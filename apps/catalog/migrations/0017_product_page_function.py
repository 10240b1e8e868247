"""The unfiltered product list's forward pages as static queries (apps/catalog/sql/listing_page.sql)."""

from pathlib import Path

from django.db import migrations

SOURCE = "apps/catalog/sql/listing_page.sql"
SOURCE_SHA256 = "58d0a9740f389a89c087b3a03be9b17ed3268f30821f681c32211b31c5ba4717"
SQL = (Path(__file__).resolve().parents[3] / SOURCE).read_text()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0016_product_tag_slugs")]

    operations = [
        migrations.RunSQL(
            SQL,
            reverse_sql=(
                "DROP FUNCTION IF EXISTS catalog_product_page(text, text, text, bigint, integer); "
                "DROP VIEW IF EXISTS catalog_product_listed;"
            ),
        )
    ]
