"""Cache invalidation on every write path (signals are for side effects only, never the flow).

- ORM writes (the admin, shell scripts): after the commit, ``listing`` for any catalog model; a
  stock row edit also moves ``in_stock`` and ``available`` through the triggers.
- Imports and feeds: ``rows_changed`` after each committed batch.
- Checkout, cancellation, payment failure: the order signals, sent after the commit, with the
  products' slugs and whether a stock row crossed zero.
- Migrations and ``seed_catalog``: the epoch, since the database may have been rebuilt under a
  Redis that still holds the old one's responses.
"""

from __future__ import annotations

from contextlib import suppress
from functools import partial

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from apps.catalog.cache import CATALOG_MODELS, catalog_invalidate, catalog_invalidate_products
from apps.catalog.models import Product
from apps.core.bulk.signals import rows_changed
from apps.core.caching import remote
from apps.core.caching.remote import Unavailable
from apps.inventory.models import Stock
from apps.orders.signals import order_placed, order_stock_returned


def _listing_changed(sender, **kwargs) -> None:
    transaction.on_commit(partial(catalog_invalidate, listing=True))


def _stock_row_changed(sender, instance: Stock, **kwargs) -> None:
    # Admin edits of stock are rare: the whole listing, since in_stock may have flipped.
    transaction.on_commit(partial(catalog_invalidate, listing=True))


def _rows_imported(sender, model, pks, **kwargs) -> None:
    # Already sent after the batch's commit.
    catalog_invalidate_products(pks, listing=True)


def _order_moved_stock(sender, product_slugs, crossed_zero, **kwargs) -> None:
    # Already sent after the order's commit.
    catalog_invalidate(listing=crossed_zero, product_slugs=product_slugs)


def epoch_bump(**kwargs) -> None:
    """Void every cached response (the database may have been recreated under this Redis)."""
    # Nothing is served from Redis while it is away, and the epoch is bumped on its return.
    with suppress(Unavailable):
        remote.versions_bump(["epoch"])


def connect() -> None:
    for model in CATALOG_MODELS:
        post_save.connect(_listing_changed, sender=model, dispatch_uid=f"cache-{model}")
        post_delete.connect(_listing_changed, sender=model, dispatch_uid=f"cache-del-{model}")
    m2m_changed.connect(_listing_changed, sender=Product.tags.through, dispatch_uid="cache-tags")
    post_save.connect(_stock_row_changed, sender=Stock, dispatch_uid="cache-stock")
    post_delete.connect(_stock_row_changed, sender=Stock, dispatch_uid="cache-stock-del")
    rows_changed.connect(_rows_imported, dispatch_uid="cache-imports")
    order_placed.connect(_order_moved_stock, dispatch_uid="cache-order-placed")
    order_stock_returned.connect(_order_moved_stock, dispatch_uid="cache-stock-returned")
    post_migrate.connect(epoch_bump, dispatch_uid="cache-epoch-migrate")
