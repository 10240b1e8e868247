from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "apps.inventory"
    label = "inventory"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from apps.catalog.receivers import listing_changed
        from apps.inventory.models import Stock

        # A stock row edited through the ORM (the admin) may flip in_stock: the whole listing.
        # The services write stock in SQL and refresh the catalog themselves.
        post_save.connect(listing_changed, sender=Stock, dispatch_uid="cache-stock")
        post_delete.connect(listing_changed, sender=Stock, dispatch_uid="cache-stock-del")
