"""Call a server-side SQL function: one round trip, its refusals as a Python exception.

The functions (``apps/*/sql/*.sql``, created by migrations) refuse by raising SQLSTATE P0001 with
an error code as the message and, optionally, JSON in DETAIL; the statement's transaction rolls
back whole. Outside ``transaction.atomic()`` the call is its own transaction (autocommit): no
BEGIN or COMMIT round trip. Inside one, it runs under a savepoint, so a refusal leaves the outer
transaction usable.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import orjson
from django.db import DatabaseError, connection, transaction

REFUSAL_SQLSTATE = "P0001"  # raise_exception: what a bare RAISE EXCEPTION in PL/pgSQL gives


class Refusal(Exception):
    """A function refused: ``code`` is its message, ``data`` its DETAIL parsed as JSON (or None)."""

    def __init__(self, code: str, data: Any) -> None:
        super().__init__(code)
        self.code = code
        self.data = data


def db_call(sql: str, params: list[Any]) -> Any:
    """Run ``sql`` (one ``SELECT f(...)`` of a jsonb or void function); return the value parsed.

    Django's psycopg setup hands jsonb over as text: orjson parses it here, once.
    """
    scope = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with scope, connection.cursor() as cursor:
            cursor.execute(sql, params)
            value = cursor.fetchone()[0]
        return orjson.loads(value) if value else None
    except DatabaseError as error:
        cause = error.__cause__
        if getattr(cause, "sqlstate", None) != REFUSAL_SQLSTATE:
            raise
        detail = cause.diag.message_detail
        raise Refusal(
            cause.diag.message_primary, orjson.loads(detail) if detail else None
        ) from None
