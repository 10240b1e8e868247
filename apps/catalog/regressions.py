"""Deliberate regressions in the product list, switched on by ``PERF_INJECT_REGRESSION``.

They exist so that the perf gate can be shown to fail (``make perf-gate-regression``): a gate
that never failed proves nothing. Off unless the setting names one.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from apps.catalog.models import Product

SLEEP_SECONDS = 0.1


def regression_inject(kind: str, rows: list[dict[str, Any]]) -> None:
    """Make one uncached product list slower in the way ``kind`` names."""
    if kind == "sleep":
        time.sleep(SLEEP_SECONDS)
    elif kind == "nplusone":
        # The classic: one lookup per listed row instead of a join.
        for row in rows:
            Product.objects.only("name").get(pk=row["id"])
    else:
        raise ImproperlyConfigured(f"PERF_INJECT_REGRESSION={kind!r}: use 'sleep' or 'nplusone'")
