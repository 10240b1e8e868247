"""Which database errors are the service being away (a 503) and which are a bug (a 500)."""

import psycopg
import pytest
from django.db import InternalError, OperationalError, connection
from django.test import RequestFactory

from apps.core.middleware import DatabaseOutageMiddleware

# The middleware closes and reopens the connection to ask the server: not inside a test's atomic.
pytestmark = pytest.mark.django_db(transaction=True)


def raised(django_error, psycopg_error):
    """A Django error as Django raises it: the driver's error as its cause."""
    error = django_error(str(psycopg_error))
    error.__cause__ = psycopg_error
    return error


def answer(exception):
    connection.ensure_connection()  # as in a request that ran a query
    middleware = DatabaseOutageMiddleware(lambda request: None)
    return middleware.process_exception(RequestFactory().get("/api/v1/products/"), exception)


@pytest.mark.parametrize(
    "error",
    [
        raised(OperationalError, psycopg.errors.AdminShutdown("terminating connection")),
        raised(OperationalError, psycopg.errors.CannotConnectNow("the database is starting up")),
        raised(OperationalError, psycopg.errors.ProtocolViolation("server conn crashed?")),
        raised(InternalError, psycopg.errors.ReadOnlySqlTransaction("read-only transaction")),
    ],
    ids=["admin shutdown", "starting up", "pgbouncer without a server", "a demoted node"],
)
def test_a_server_going_away_in_a_failover_is_a_503_even_while_a_new_one_answers(error):
    response = answer(error)
    assert response is not None and response.status_code == 503
    assert response["Retry-After"]


@pytest.mark.parametrize(
    "error",
    [
        raised(InternalError, psycopg.errors.InFailedSqlTransaction("aborted")),
        raised(OperationalError, psycopg.errors.QueryCanceled("statement timeout")),
    ],
    ids=["an aborted transaction", "a statement timeout"],
)
def test_a_query_that_fails_on_its_own_merits_stays_a_500(error):
    assert answer(error) is None
