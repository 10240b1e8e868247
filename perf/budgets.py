"""Query budgets per endpoint: exact counts, pinned by tests (they do not grow with page size)."""

QUERY_BUDGETS = {
    # One query: products joined to their category, tags as an array subquery.
    "product-list": 1,
    # Product row (with tags), then its variants with summed stock.
    "product-detail": 2,
    # Per-category listed-product counts, then the category rows.
    "category-list": 2,
}
