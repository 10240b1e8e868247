"""Idempotency-Key handling for checkout: claim a key, replay its stored response, purge old keys.

A key is claimed by the INSERT that opens the checkout transaction. A concurrent request with the
same key blocks on that row's unique index until the first transaction ends (PostgreSQL does the
waiting), then finds the key taken and waits for the stored response instead of buying again.
"""

import hashlib
import string
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.orders.errors import IdempotencyKeyInFlight, IdempotencyKeyRequired, IdempotencyKeyReused
from apps.orders.models import IdempotencyKey

_PRINTABLE = frozenset(string.printable) - frozenset(string.whitespace) | {" "}
MAX_KEY_LENGTH = 64


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def idempotency_key_parse(raw: str | None) -> str:
    """Return the header's key, or raise a 400 when it is missing, too long or not printable."""
    if raw is None or raw.strip() == "":
        raise IdempotencyKeyRequired()
    if len(raw) > MAX_KEY_LENGTH or not set(raw) <= _PRINTABLE:
        raise IdempotencyKeyRequired(
            f"The Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            fields={"Idempotency-Key": [f"At most {MAX_KEY_LENGTH} printable characters."]},
        )
    return raw


def request_fingerprint(payload: Any) -> str:
    """Hash a request's canonical form (sorted keys), so key order in the JSON does not matter."""
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def idempotency_claim(user_id: int, key: str, fingerprint: str) -> int | None:
    """Insert the key in the current transaction; return its id, or None if it is already taken."""
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, key, request_hash, created_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user_id, key, fingerprint, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def idempotency_replay(user_id: int, key: str, fingerprint: str) -> StoredResponse | None:
    """Return the response stored under the key (waiting while it is produced), or None.

    Raises ``IdempotencyKeyReused`` (422) for a different body, and ``IdempotencyKeyInFlight``
    (409) if the first request has not finished within ``IDEMPOTENCY_WAIT_SECONDS``.
    """
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_SECONDS
    delay = 0.005
    while True:
        stored = (
            IdempotencyKey.objects.filter(user_id=user_id, key=key)
            .values_list("request_hash", "response_status", "response_body")
            .first()
        )
        if stored is None:
            return None
        request_hash, status, body = stored
        if request_hash != fingerprint:
            raise IdempotencyKeyReused()
        if status is not None:
            return StoredResponse(status, orjson.loads(body))
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInFlight()
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def idempotency_purge(older_than: timedelta | None = None) -> int:
    """Delete keys older than the TTL (``IDEMPOTENCY_KEY_TTL_HOURS``); return how many."""
    age = (
        older_than
        if older_than is not None
        else timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    )
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - age).delete()
    return deleted
