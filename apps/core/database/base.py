"""PostgreSQL backend (django-prometheus's, for /metrics) with a health check that costs nothing.

Django's ``CONN_HEALTH_CHECKS`` runs ``SELECT 1`` before the first query of every request on a
reused connection: one round trip per request, 10% of a checkout's time under load (py-spy,
granian 2 x 2, wrk 16 connections). A connection the server closed (restart, failover, an idle
timeout, pgbouncer going away) makes its socket readable at rest: only then is the round trip
made, and a connection that fails it is replaced before the request uses it.
"""

from __future__ import annotations

import select

from django_prometheus.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        try:
            # Between requests nothing is owed to us: data waiting is an EOF, an error or a notice.
            readable, _, _ = select.select([pgconn.socket], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable or super().is_usable()
