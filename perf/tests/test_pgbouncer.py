"""A real pgbouncer 1.18 in transaction pooling mode in front of this test run's database.

The failure tests show what the settings in docs/pgbouncer.md protect against: each pins the server
connection a client just used from a second client, as a busy app server would by chance.
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from psycopg import conninfo

from apps.inventory.models import Warehouse
from perf.pgbouncer import Pgbouncer, _pgbouncer_alive, pgbouncer_running, pgbouncer_start

pytestmark = pytest.mark.django_db(transaction=True)


def upstream_of_this_run() -> str:
    """Return a conninfo for this run's test database, as Django connects to it directly."""
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"] or "postgres",
        "dbname": settings["NAME"],
    }
    if settings["PASSWORD"]:
        params["password"] = settings["PASSWORD"]
    return conninfo.make_conninfo(**params)


@pytest.fixture(scope="module")
def bouncer(django_db_setup) -> Iterator[Pgbouncer]:
    with pgbouncer_running(upstream_of_this_run()) as running:
        yield running


@pytest.fixture
def through_bouncer(transactional_db, bouncer: Pgbouncer) -> Iterator[Pgbouncer]:
    """Point Django's default connection at the bouncer for one test (threads included)."""
    settings = connection.settings_dict
    saved = {key: settings[key] for key in ("HOST", "PORT", "DISABLE_SERVER_SIDE_CURSORS")}
    connection.close()
    settings.update(HOST=bouncer.host, PORT=str(bouncer.port))
    try:
        yield bouncer
    finally:
        # Back to PostgreSQL directly before pytest-django empties the tables.
        connection.close()
        settings.update(saved)


def test_a_plain_query_through_the_bouncer_reaches_this_runs_database(bouncer):
    test_db = connection.settings_dict["NAME"]
    before = bouncer.stats(test_db)["total_xact_count"]

    with psycopg.connect(bouncer.url(test_db), autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (test_db,)
        assert conn.info.port == bouncer.port

    assert bouncer.stats(test_db)["total_xact_count"] == before + 1


def test_django_queries_go_through_the_bouncer(through_bouncer):
    Warehouse.objects.create(code="pgb", name="through the bouncer")
    test_db = connection.settings_dict["NAME"]

    assert connection.connection.info.port == through_bouncer.port
    assert Warehouse.objects.filter(code="pgb").exists()
    assert through_bouncer.stats(test_db)["total_xact_count"] > 0


def test_select_for_update_inside_atomic_keeps_its_lock_until_commit(through_bouncer):
    warehouse = Warehouse.objects.create(code="locked", name="locked")
    direct = psycopg.connect(upstream_of_this_run(), autocommit=True)
    try:
        with transaction.atomic():
            locked = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
            locked.priority = 1
            locked.save(update_fields=["priority"])
            # The whole transaction holds one server connection: the row stays locked.
            with pytest.raises(psycopg.errors.LockNotAvailable):
                direct.execute(
                    "SELECT 1 FROM inventory_warehouse WHERE id = %s FOR UPDATE NOWAIT",
                    [warehouse.pk],
                )
        row = direct.execute(
            "SELECT priority FROM inventory_warehouse WHERE id = %s FOR UPDATE NOWAIT",
            [warehouse.pk],
        ).fetchone()
    finally:
        direct.close()
    assert row == (1,)


def iterate_while_another_client_pins_the_server_connection(bouncer: Pgbouncer) -> list[str]:
    """Iterate in chunks of 2; between chunks another client opens a transaction."""
    Warehouse.objects.bulk_create(Warehouse(code=f"w{i}", name=f"w{i}") for i in range(6))
    other = psycopg.connect(bouncer.url(connection.settings_dict["NAME"]))
    try:
        codes = []
        for warehouse in Warehouse.objects.order_by("code").iterator(chunk_size=2):
            if len(codes) == 1:
                # Takes the server connection this client's last statement ran on (pgbouncer
                # hands out the most recently released one) and keeps it until the rollback.
                other.execute("SELECT 1")
            codes.append(warehouse.code)
        return codes
    finally:
        other.rollback()
        other.close()


def test_iterator_works_through_the_bouncer_because_server_side_cursors_are_disabled(
    through_bouncer,
):
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True

    codes = iterate_while_another_client_pins_the_server_connection(through_bouncer)

    assert codes == ["w0", "w1", "w2", "w3", "w4", "w5"]


def test_iterator_with_server_side_cursors_loses_its_cursor_behind_the_bouncer(through_bouncer):
    connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = False

    # The cursor was declared on one server connection; the next FETCH (and then the CLOSE Django
    # sends while handling that error) runs on another.
    with pytest.raises((ProgrammingError, psycopg.Error)) as raised:
        iterate_while_another_client_pins_the_server_connection(through_bouncer)

    chain = [raised.value, raised.value.__cause__, raised.value.__context__]
    assert any(isinstance(error, psycopg.errors.InvalidCursorName) for error in chain)


def test_django_connections_prepare_no_statements_which_the_bouncer_could_not_track(
    through_bouncer,
):
    with connection.cursor():
        assert connection.connection.prepare_threshold is None
    # What psycopg does by default (prepare_threshold 5): a statement prepared on one server
    # connection, then used by a client that lands on another, or prepared twice on one.
    url = through_bouncer.url(connection.settings_dict["NAME"])
    with (
        pytest.raises(psycopg.errors.DuplicatePreparedStatement),
        psycopg.connect(url, autocommit=True, prepare_threshold=0) as first,
        psycopg.connect(url, autocommit=True, prepare_threshold=0) as second,
    ):
        for client in (first, second):
            client.execute("SELECT %s::int", [1])


def test_the_admin_console_reports_transaction_pooling(bouncer):
    with psycopg.connect(bouncer.url(connection.settings_dict["NAME"])) as conn:
        conn.execute("SELECT 1")
        config = {row["key"]: row["value"] for row in bouncer.admin("SHOW CONFIG")}
        pools = bouncer.admin("SHOW POOLS")

    assert config["pool_mode"] == "transaction"
    assert config["listen_addr"] == "127.0.0.1"
    test_pools = [row for row in pools if row["database"] == connection.settings_dict["NAME"]]
    assert [row["pool_mode"] for row in test_pools] == ["transaction"]


def test_stop_leaves_no_process_no_pidfile_and_a_closed_port(bouncer):
    started = pgbouncer_start(upstream_of_this_run())
    pidfile = Path(started.runtime_dir) / "pgbouncer.pid"
    assert _pgbouncer_alive(started.pid) and pidfile.exists()

    started.stop()

    assert not _pgbouncer_alive(started.pid)
    assert not pidfile.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(started.url("postgres"), connect_timeout=2).close()


def test_runtime_files_live_where_the_user_it_drops_to_can_reach_them(bouncer):
    # A checkout under root's mode-700 home was unreachable for "postgres": pgbouncer exited.
    from perf.pgbouncer import BASE_DIR, _run_as_user, upstream_params

    assert BASE_DIR not in bouncer.runtime_dir.parents
    run_as = _run_as_user(upstream_params(upstream_of_this_run())["host"])
    if run_as is None:
        pytest.skip("not root: pgbouncer runs as this user")
    for check, path in (("-w", bouncer.runtime_dir), ("-r", bouncer.runtime_dir / "pgbouncer.ini")):
        probe = subprocess.run(["runuser", "-u", run_as.pw_name, "--", "test", check, str(path)])
        assert probe.returncode == 0, (run_as.pw_name, check, path)
