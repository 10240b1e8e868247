"""``manage.py import_prices FILE``: set variant prices from a CSV with the columns sku, price."""

from apps.catalog.price_imports import PriceImporter
from apps.core.bulk.command import BulkImportCommand


class Command(BulkImportCommand):
    help = "Set variant prices from a CSV file with the columns sku, price."

    def importer(self, options) -> PriceImporter:
        return PriceImporter()
