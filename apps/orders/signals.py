"""Signals sent after commit, for side effects only (cache invalidation, metrics, webhooks)."""

from django.dispatch import Signal

# kwargs: order_number, variant_ids, product_ids
order_placed = Signal()
# kwargs: order_number, reason, variant_ids, product_ids
order_stock_returned = Signal()
