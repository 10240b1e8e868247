"""Cache freshness for ORM writes that bypass the services (the admin, shell scripts).

The services call ``apps.catalog.cache`` themselves after their commit (checkout, cancellation,
imports, feeds); these receivers cover only what Django's model signals can see. A stock row
edited in the admin is covered by ``apps/inventory/apps.py`` the same way. Migrations bump the
epoch, since the database may have been rebuilt under a Redis that still holds the old responses.
"""

from __future__ import annotations

from contextlib import suppress
from functools import partial

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from apps.catalog.cache import CATALOG_MODELS, catalog_invalidate
from apps.catalog.models import Product
from apps.core.caching import remote
from apps.core.caching.remote import Unavailable


def listing_changed(sender, **kwargs) -> None:
    """After the commit, drop every cached catalog response (a rare admin or shell edit)."""
    transaction.on_commit(partial(catalog_invalidate, listing=True))


def epoch_bump(**kwargs) -> None:
    """Void every cached response (the database may have been recreated under this Redis)."""
    # Nothing is served from Redis while it is away, and the epoch is bumped on its return.
    with suppress(Unavailable):
        remote.versions_bump(["epoch"])


def connect() -> None:
    for model in CATALOG_MODELS:
        post_save.connect(listing_changed, sender=model, dispatch_uid=f"cache-{model}")
        post_delete.connect(listing_changed, sender=model, dispatch_uid=f"cache-del-{model}")
    m2m_changed.connect(listing_changed, sender=Product.tags.through, dispatch_uid="cache-tags")
    post_migrate.connect(epoch_bump, dispatch_uid="cache-epoch-migrate")
