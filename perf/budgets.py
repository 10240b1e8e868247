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
}
