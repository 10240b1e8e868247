"""Load a batch into a temporary table with ``COPY``: the fastest way to ship rows to PostgreSQL.

The table is ``ON COMMIT DROP``: it lives inside the batch's transaction only, so this works
behind pgbouncer in transaction pooling mode (a session-long temporary table would not).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection


def temp_table_copy(name: str, columns: str, rows: Iterable[Sequence], extra: str = "") -> None:
    """Create temporary table ``name`` and COPY ``rows`` into it.

    ``columns`` is "name type, name type, ..." in the order of each row's values; ``extra``
    columns (same syntax) start out NULL, for the statements that follow to fill in. Must run
    inside ``transaction.atomic()``. Values go through psycopg's text COPY, which escapes tabs,
    newlines and backslashes; ``None`` is NULL.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("temp_table_copy runs in transaction.atomic(): it is ON COMMIT DROP")
    definition = f"{columns}, {extra}" if extra else columns
    names = ", ".join(column.split()[0] for column in columns.split(","))
    with connection.cursor() as cursor:
        # When the batch runs in a savepoint (an outer atomic block), ON COMMIT has not
        # dropped the previous batch's table yet.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition}) ON COMMIT DROP")
        with cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
