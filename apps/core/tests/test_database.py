"""The health check between requests: free for a live connection, a replacement for a dead one."""

import time

import pytest
from django.db import connection, connections


@pytest.fixture
def own_connection():
    """A connection of the test's own, outside the test's transaction."""
    own = connections.create_connection("default")
    own.ensure_connection()
    yield own
    own.close()


@pytest.mark.django_db
def test_a_live_connection_is_usable_without_a_round_trip(own_connection, monkeypatch):
    def no_round_trip(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(own_connection.connection, "cursor", no_round_trip)
    assert own_connection.is_usable()


@pytest.mark.django_db
def test_a_connection_the_server_closed_is_not_usable(own_connection):
    pid = own_connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while own_connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the server's goodbye reaches the socket shortly after

    assert not own_connection.is_usable()


@pytest.mark.django_db
def test_a_closed_connection_is_not_usable(own_connection):
    own_connection.close()
    assert not own_connection.is_usable()
