"""Inventory's domain errors."""

from apps.core.errors import DomainError


class InsufficientStock(DomainError):
    """Some lines ask for more units than the warehouses hold; carries one item per short line."""

    status_code = 409
    code = "insufficient_stock"
    default_detail = "Not enough stock for one or more lines."

    def __init__(self, items: list[dict], detail: str | None = None) -> None:
        super().__init__(detail, items=items)
        self.items = items
