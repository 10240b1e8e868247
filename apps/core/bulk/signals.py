"""Signals of the bulk pipelines, for caches that must drop what an import changed."""

from django.dispatch import Signal

# Sent once per committed batch (never for a rolled-back one) with ``model`` (the model class
# whose cached representations are stale, e.g. Product) and ``pks`` (a frozenset of its ids).
# The database side needs no signal: listing columns are kept by triggers and the search vector
# is a generated column.
rows_changed = Signal()
