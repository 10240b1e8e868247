"""``manage.py import_stock FILE``: set sellable quantities per SKU and warehouse code."""

from apps.core.bulk.command import BulkImportCommand
from apps.inventory.feeds import StockFeed


class Command(BulkImportCommand):
    help = (
        "Set the sellable quantity of each SKU in each warehouse from a CSV file with the columns "
        "sku, warehouse (the warehouse code), quantity. Checkouts that commit while the feed "
        "runs are applied on top, never overwritten."
    )

    def importer(self, options) -> StockFeed:
        return StockFeed()
