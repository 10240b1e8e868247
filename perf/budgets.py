"""Query budgets per endpoint: exact counts, pinned by tests (they do not grow with page size)."""

QUERY_BUDGETS = {
    # One query: products joined to their category, tags as an array subquery.
    "product-list": 1,
    # Plus one each to resolve a category subtree and a tag to ids (better plans; see selectors).
    "product-list-category": 2,
    "product-list-category-and-tag": 3,
    # Product row (with tags), then its variants with summed stock.
    "product-detail": 2,
    # Per-category listed-product counts, then the category rows.
    "category-list": 2,
    # Writes and the cart, once the request's token is known in memory (its first request in a
    # process costs one more query: apps/accounts/authentication.py).
    # The cart's lines joined to their variants.
    "cart": 1,
    # cart_line_add(): upsert the cart and the line, return the cart (apps/cart/sql/cart.sql).
    "cart-add": 1,
    # orders_checkout_quote(), then orders_checkout_place() after the payment (apps/orders/sql/).
    "checkout": 2,
}
