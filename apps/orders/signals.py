"""Signals sent after commit, for side effects only (cache invalidation, metrics, webhooks)."""

from django.dispatch import Signal

# kwargs: order_number, variant_ids, product_ids, product_slugs, crossed_zero (a stock row went
# from positive to zero or back, so a product's in_stock may have changed)
order_placed = Signal()
# kwargs: order_number, reason, variant_ids, product_ids, product_slugs, crossed_zero
order_stock_returned = Signal()
