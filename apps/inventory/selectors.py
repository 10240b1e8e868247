"""Stock reads without locks: fast answers that a checkout re-checks under its locks."""

from collections.abc import Iterable

from django.db.models import Q, Sum

from apps.inventory.models import Stock


def stock_available(variant_ids: Iterable[int]) -> dict[int, int]:
    """Return {variant_id: sellable units over all warehouses} (0 for a variant with no stock)."""
    ids = list(variant_ids)
    totals = dict.fromkeys(ids, 0)
    totals.update(
        Stock.objects.filter(variant_id__in=ids)
        .values_list("variant_id")
        .annotate(units=Sum("quantity", filter=Q(quantity__gt=0)))
        .values_list("variant_id", "units")
    )
    return {variant_id: units or 0 for variant_id, units in totals.items()}
