"""The product list's orderings, for the shared keyset paginator in ``apps.core.keyset``."""

from apps.core.keyset import Ordering, parse_datetime, parse_decimal, parse_text

PRODUCT_ORDERINGS: dict[str, Ordering] = {
    "-created_at": Ordering("created_at", True, parse_datetime),
    "price": Ordering("price", False, parse_decimal),
    "-price": Ordering("price", True, parse_decimal),
    "name": Ordering("name", False, parse_text),
}
DEFAULT_PRODUCT_ORDERING = "-created_at"
# Prices compare like with like: these orderings list one currency at a time.
PRICE_ORDERINGS = frozenset(name for name, o in PRODUCT_ORDERINGS.items() if o.column == "price")
