"""Request bounds and response headers every endpoint needs unless it says otherwise."""

from collections.abc import Callable
from contextlib import suppress

from django.conf import settings
from django.db import InterfaceError, InternalError, OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse

from apps.core import routing
from apps.core.exceptions import json_error
from apps.core.outages import Outage

DATABASE_OUTAGE = Outage("database")
CLOSE = {"Connection": "close"}  # refused before the body was read: do not reuse the connection


def private_by_default(get_response: Callable[[HttpRequest], HttpResponse]):
    """Mark responses ``private, no-store`` unless the view chose caching (the catalog does).

    Carts, checkouts, orders, tokens and errors must never land in a shared cache.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response

    return middleware


def body_bounded(get_response: Callable[[HttpRequest], HttpResponse]):
    """Refuse a body over ``REQUEST_BODY_MAX_BYTES`` before reading it; drain what a view left.

    A URL over ``REQUEST_URL_MAX_BYTES`` is a ``414`` envelope (granian itself answers a bare
    ``414`` past 64 KB, before the app sees the request).

    DRF's parsers read the stream themselves, so Django's own upload limits never applied: a
    300 MB anonymous POST was read whole. The declared length is checked first (``413``, and the
    connection is closed rather than the body read). A body the view never read (a ``401``,
    ``403`` or ``429`` decided before parsing) is read to its end after the response is made:
    left on a keep-alive connection, it would be taken for the next request.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        url = len(request.META.get("PATH_INFO", "")) + len(request.META.get("QUERY_STRING", ""))
        if url > settings.REQUEST_URL_MAX_BYTES:
            detail = f"The URL is {url:,} characters; at most {settings.REQUEST_URL_MAX_BYTES:,}."
            return json_error("uri_too_long", detail, 414)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return json_error("bad_request", "Content-Length is not a length.", 400, CLOSE)
        limit = settings.REQUEST_BODY_MAX_BYTES_BY_PATH.get(
            request.path_info, settings.REQUEST_BODY_MAX_BYTES
        )
        if length > limit:
            detail = f"The request body is {length:,} bytes; at most {limit:,} are accepted."
            return json_error("request_too_large", detail, 413, CLOSE)
        response = get_response(request)
        if length:
            with suppress(OSError, ValueError):
                while request.read(65536):
                    pass
        return response

    return middleware


class DatabaseOutageMiddleware:
    """Answer ``503`` with ``Retry-After`` while PostgreSQL cannot be reached, never a 500.

    A request that fails on the database connection (refused, reset, timed out) is the service
    being away, not a bug: clients and load balancers should come back shortly. The outage is
    logged once per interval with a count (``apps.core.outages``), not a traceback per request;
    Django reconnects by itself once the database answers (``CONN_HEALTH_CHECKS``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if DATABASE_OUTAGE.active and response.status_code < 500:
            DATABASE_OUTAGE.recovered()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, (OperationalError, InterfaceError, InternalError)):
            return None
        if _replica_lost():
            # The replica went away under this request: the next ones read from the primary.
            routing.REPLICA_HEALTH.failed(exception)
        elif _server_away(exception) or _lost(connection) or not _answers():
            DATABASE_OUTAGE.failed(exception)
        else:
            return None  # a query that failed on its own merits: a real 500
        retry = {"Retry-After": str(settings.DATABASE_RETRY_AFTER_SECONDS)}
        return json_error("service_unavailable", "The database is unavailable; retry.", 503, retry)


# SQLSTATEs of a server going away or not there yet: connection exceptions (class 08, also what
# pgbouncer answers when its server is gone), shutdowns and a start-up under way (57P01-57P03), a
# write reaching a node that is being demoted (25006). In a failover these come on a connection
# that still looks healthy, through a pooler that accepts new ones: the outage, not a bug.
_AWAY = ("08", "57P01", "57P02", "57P03", "25006")


def _server_away(exception: Exception) -> bool:
    return (getattr(exception.__cause__, "sqlstate", None) or "").startswith(_AWAY)


def _replica_lost() -> bool:
    """True when the error was the replica's: it failed to connect, or its connection broke."""
    if not routing.replica_configured():
        return False
    replica = connections[routing.REPLICA]
    # Django flags the connection an error went through (a failed connect included).
    return replica.errors_occurred and _lost(replica)


def _lost(wrapper) -> bool:
    """True when this connection broke (its database went away under the request)."""
    raw = wrapper.connection
    return raw is None or raw.closed or getattr(raw, "broken", False)


def _answers() -> bool:
    """True when the database takes a new connection now (the error was not about reaching it)."""
    try:
        connection.close()
        connection.ensure_connection()
        return True
    except (OperationalError, InterfaceError):
        return False


def content_security_policy(get_response: Callable[[HttpRequest], HttpResponse]):
    """Send ``CONTENT_SECURITY_POLICY`` on every answer (the API's JSON, Swagger UI, the admin).

    Scripts from this origin only (Swagger UI's start-up script is served as a file for that
    reason); violations are reported to ``/csp-report`` and counted in the metrics.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        # Silk and the debug toolbar are staff-only tools built on inline scripts.
        tool = request.path.startswith(("/silk/", "/__debug__/"))
        if (
            settings.CONTENT_SECURITY_POLICY
            and not tool
            and "Content-Security-Policy" not in response
        ):
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response

    return middleware
