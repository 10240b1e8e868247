"""``manage.py import_catalog FILE``: upsert products, variants, categories and tags."""

from apps.catalog.imports import CatalogImporter
from apps.core.bulk.command import BulkImportCommand


class Command(BulkImportCommand):
    help = (
        "Upsert the catalog from a CSV or JSONL file with the columns sku, product_slug, "
        "product_name, category_slug, variant_name, price, currency, description, tags "
        "(tags |-separated). Missing categories and tags are created."
    )

    def importer(self, options) -> CatalogImporter:
        return CatalogImporter()
