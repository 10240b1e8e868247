"""pgbouncer (transaction pooling, loopback only) started by the project, not by the Debian service.

    uv run python -m perf.pgbouncer start [--port 6432] [--upstream URL]   # prints the DATABASE_URL
    uv run python -m perf.pgbouncer status|stop [--port 6432]
    uv run python -m perf.pgbouncer test [PYTEST ARGS...]   # run tests through a fresh bouncer

Renders ``perf/pgbouncer.ini`` into a runtime directory (config, userlist, log, pidfile) under
the system's temporary folder, ``shopfast-pgbouncer-<checkout hash>/<port>/``: pgbouncer drops to
another user, who may not be allowed into the checkout (root's home is mode 700). It runs
``pgbouncer`` on 127.0.0.1 in front of the
PostgreSQL of ``--upstream`` / ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432``).
Installs the Debian package with apt-get when the binary is missing. As root it runs pgbouncer
with ``-u postgres`` (it refuses to run as root) and hands the runtime directory to that user.

``test`` runs pytest through the bouncer. pytest-django cannot drop its test database through a
pooler that keeps a server connection to it open, so the test database (``TEST_DATABASE_NAME``,
default ``test_shopfast_pgbouncer``) is created and migrated on PostgreSQL directly, the tests run
with ``DATABASE_URL`` at the bouncer and ``--reuse-db``, then the bouncer stops and the database is
dropped directly. Prints the bouncer's SHOW STATS for the test database; exits with pytest's code,
or 1 when pytest passed but no transaction went through the bouncer.

In code: ``with pgbouncer_running(upstream_url) as bouncer: ... bouncer.url("shopfast")``.
Why each Django setting matters behind it: ``docs/pgbouncer.md``.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import psycopg
from psycopg import conninfo, sql

from config.bootstrap import database_url_named, port_open
from perf.harness import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE = BASE_DIR / "perf" / "pgbouncer.ini"
# Outside the checkout: the user pgbouncer runs as must reach its files wherever the checkout is.
# One root per checkout, so that two checkouts' CLI bouncers never share a pidfile.
RUNTIME_ROOT = Path(tempfile.gettempdir()) / (
    "shopfast-pgbouncer-" + hashlib.blake2b(str(BASE_DIR).encode(), digest_size=5).hexdigest()
)
HOST = "127.0.0.1"
DEFAULT_PORT = 6432
DEFAULT_UPSTREAM = "postgres://postgres@127.0.0.1:5432/shopfast"
# pgbouncer refuses to run as root; these users own the runtime directory instead, first found.
RUN_AS_USERS = ("postgres", "nobody")
ADMIN_DB = "pgbouncer"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


class PgbouncerError(Exception):
    """pgbouncer could not be installed, started or reached."""


# --- binary ---------------------------------------------------------------------------------------
def pgbouncer_path() -> str:
    """Return pgbouncer's path, installing the Debian package first when it is missing."""
    if path := shutil.which("pgbouncer") or _existing("/usr/sbin/pgbouncer"):
        return path
    if os.geteuid() != 0:
        raise PgbouncerError("pgbouncer is not installed; as root: apt-get install -y pgbouncer")
    print("pgbouncer not found: apt-get install -y pgbouncer", flush=True)
    # Debian's package enables a service of its own; it is never used here (ours runs on its own
    # port from our config), and apt on these machines does not start services anyway.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "pgbouncer"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        # A fresh container has no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    if path := shutil.which("pgbouncer") or _existing("/usr/sbin/pgbouncer"):
        return path
    raise PgbouncerError("pgbouncer is still missing after apt-get install")


def _existing(path: str) -> str | None:
    return path if os.access(path, os.X_OK) else None


# --- process --------------------------------------------------------------------------------------
@dataclass
class Pgbouncer:
    """A running pgbouncer: where it listens, who it connects upstream as, how to stop it."""

    host: str
    port: int
    user: str
    runtime_dir: Path
    pid: int
    process: subprocess.Popen | None = field(default=None, repr=False)
    # A directory made for a free port is removed by stop(): a test run would leave one per run.
    ephemeral: bool = False

    def url(self, dbname: str) -> str:
        """Return a postgres:// URL (a DATABASE_URL) for ``dbname`` through the bouncer."""
        return f"postgres://{self.user}@{self.host}:{self.port}/{dbname}"

    def admin(self, command: str) -> list[dict]:
        """Run a SHOW command on the admin console; return its rows as dicts."""
        with psycopg.connect(self.url(ADMIN_DB), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(command)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stats(self, dbname: str) -> dict[str, int]:
        """Return SHOW STATS totals for ``dbname`` (zeros when no client used it yet)."""
        for row in self.admin("SHOW STATS"):
            if row["database"] == dbname:
                return {k: int(v) for k, v in row.items() if k.startswith("total_")}
        return {"total_xact_count": 0, "total_query_count": 0}

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return _pgbouncer_alive(self.pid)

    def stop(self) -> None:
        """Shut it down (SIGTERM: immediate, open client connections are cut), SIGKILL if stuck."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=5)
        elif _pgbouncer_alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            if not _wait_gone(self.pid, STOP_TIMEOUT):
                os.kill(self.pid, signal.SIGKILL)
                _wait_gone(self.pid, 5)
        (self.runtime_dir / "pgbouncer.pid").unlink(missing_ok=True)
        if self.ephemeral:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)


def _pgbouncer_alive(pid: int) -> bool:
    """True when ``pid`` is a live (not zombie) pgbouncer process: never signal a recycled pid."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return b"pgbouncer" in cmdline and state != "Z"


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pgbouncer_alive(pid):
            return True
        time.sleep(0.05)
    return False


def upstream_params(upstream_url: str) -> dict[str, str]:
    """Split a PostgreSQL URL into host, port, user (and password, dbname when given)."""
    params = conninfo.conninfo_to_dict(upstream_url)
    params.setdefault("host", "127.0.0.1")
    params.setdefault("port", "5432")
    params.setdefault("user", "postgres")
    return {k: str(v) for k, v in params.items()}


def config_render(upstream_url: str, port: int, runtime_dir: Path) -> str:
    """Fill in the template: upstream connection, listen port, runtime paths."""
    params = upstream_params(upstream_url)
    upstream = " ".join(
        f"{key}={params[key]}" for key in ("host", "port", "user", "password") if key in params
    )
    return Template(TEMPLATE.read_text()).substitute(
        upstream=upstream,
        upstream_user=params["user"],
        listen_port=port,
        runtime_dir=runtime_dir,
    )


def runtime_dir_for(port: int) -> Path:
    return RUNTIME_ROOT / str(port)


def _run_as_user(upstream_host: str) -> pwd.struct_passwd | None:
    """The user pgbouncer drops to when we are root (it refuses to run as root); None otherwise.

    Upstream through a Unix socket (the embedded server, run as its own user): the socket
    directory's owner, the one user sure to be allowed to connect there.
    """
    if os.geteuid() != 0:
        return None
    if upstream_host.startswith("/"):
        with suppress(OSError, KeyError):
            owner = pwd.getpwuid(os.stat(upstream_host).st_uid)
            if owner.pw_uid != 0:
                return owner
    for name in RUN_AS_USERS:
        with suppress(KeyError):
            return pwd.getpwnam(name)
    raise PgbouncerError(f"running as root and none of {RUN_AS_USERS} exists to run pgbouncer as")


def pgbouncer_start(
    upstream_url: str,
    port: int | None = None,
    runtime_dir: Path | None = None,
    *,
    detach: bool = False,
) -> Pgbouncer:
    """Render the config, start pgbouncer and return once ``SELECT 1`` through it succeeds.

    ``detach`` starts it in a session of its own that outlives this process (the CLI's ``start``);
    otherwise it is stopped when this process exits, if ``stop()`` was not called first. Without
    ``port`` it takes a free one, and ``stop()`` removes the runtime directory (log included): pass
    ``runtime_dir`` to keep it.
    """
    binary = pgbouncer_path()
    ephemeral = port is None and runtime_dir is None
    port = port or free_port()
    if port_open(HOST, port):
        raise PgbouncerError(f"{HOST}:{port} is already taken (another pgbouncer?)")
    runtime_dir = (runtime_dir or runtime_dir_for(port)).resolve()
    runtime_dir.mkdir(parents=True, exist_ok=True)
    # Traversable by the user pgbouncer drops to, whatever the umask.
    for folder in (runtime_dir.parent, runtime_dir):
        folder.chmod(0o755)
    params = upstream_params(upstream_url)
    config = runtime_dir / "pgbouncer.ini"
    config.write_text(config_render(upstream_url, port, runtime_dir))
    # auth_type = trust still needs the user listed; the password is never checked.
    (runtime_dir / "userlist.txt").write_text(f'"{params["user"]}" ""\n')
    for stale in ("pgbouncer.pid", "pgbouncer.log", "stderr.log"):
        (runtime_dir / stale).unlink(missing_ok=True)

    command = [binary]
    if run_as := _run_as_user(params["host"]):
        # The dropped-privilege process writes its log and pidfile here.
        for path in [runtime_dir, *runtime_dir.iterdir()]:
            os.chown(path, run_as.pw_uid, run_as.pw_gid)
        command += ["-u", run_as.pw_name]
    command.append(str(config))
    with (runtime_dir / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=detach,
        )
    bouncer = Pgbouncer(
        host=HOST,
        port=port,
        user=params["user"],
        runtime_dir=runtime_dir,
        pid=process.pid,
        process=process,
        ephemeral=ephemeral,
    )
    if not detach:
        atexit.register(bouncer.stop)
    try:
        _wait_ready(bouncer)
    except BaseException:
        bouncer.stop()
        raise
    return bouncer


def _wait_ready(bouncer: Pgbouncer) -> None:
    # "postgres" always exists upstream, and a query there goes through the "*" route.
    url = bouncer.url("postgres")
    deadline = time.monotonic() + START_TIMEOUT
    error: Exception | None = None
    while time.monotonic() < deadline:
        if not bouncer.running():
            raise PgbouncerError(f"pgbouncer exited at start:\n{_log_tail(bouncer.runtime_dir)}")
        try:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.Error as exc:
            error = exc
            time.sleep(0.1)
    raise PgbouncerError(
        f"no SELECT 1 through pgbouncer after {START_TIMEOUT:g}s ({error}):\n"
        f"{_log_tail(bouncer.runtime_dir)}"
    )


def _log_tail(runtime_dir: Path, lines: int = 20) -> str:
    text = ""
    for name in ("stderr.log", "pgbouncer.log"):
        with suppress(OSError):
            text += (runtime_dir / name).read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def pgbouncer_running(
    upstream_url: str, port: int | None = None, runtime_dir: Path | None = None
) -> Iterator[Pgbouncer]:
    bouncer = pgbouncer_start(upstream_url, port, runtime_dir)
    try:
        yield bouncer
    finally:
        bouncer.stop()


def pgbouncer_find(port: int, runtime_dir: Path | None = None) -> Pgbouncer | None:
    """Return the bouncer a CLI ``start`` left running on ``port``, from its pidfile; else None."""
    runtime_dir = runtime_dir or runtime_dir_for(port)
    try:
        pid = int((runtime_dir / "pgbouncer.pid").read_text().strip())
        user = (runtime_dir / "userlist.txt").read_text().split('"')[1]
    except (OSError, ValueError, IndexError):
        return None
    if not _pgbouncer_alive(pid):
        return None
    return Pgbouncer(host=HOST, port=port, user=user, runtime_dir=runtime_dir, pid=pid)


# --- tests through the bouncer --------------------------------------------------------------------
def testdb_name(upstream_url: str) -> str:
    """The test database: TEST_DATABASE_NAME, else test_<name>_pgbouncer (not a plain run's)."""
    upstream = upstream_params(upstream_url)
    return (
        os.environ.get("TEST_DATABASE_NAME")
        or f"test_{upstream.get('dbname', 'shopfast')}_pgbouncer"
    )


def testdb_create(upstream_url: str, name: str) -> None:
    """Create and migrate the test database directly on PostgreSQL (as pytest-django would)."""
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": upstream_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_NAME": name,
    }
    done = subprocess.run([sys.executable, "-c", script], cwd=BASE_DIR, env=env, check=False)
    if done.returncode != 0:
        raise PgbouncerError(f"creating the test database failed (exit {done.returncode})")


def testdb_drop(upstream_url: str, name: str) -> None:
    """Drop the test database directly on PostgreSQL, cutting any connection left on it."""
    with psycopg.connect(database_url_named(upstream_url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def tests_through_pgbouncer(pytest_args: list[str], upstream_url: str) -> int:
    """Run pytest with DATABASE_URL at a fresh bouncer; return its exit code (1 if bypassed)."""
    started = time.monotonic()
    test_db = testdb_name(upstream_url)
    upstream_db = upstream_params(upstream_url).get("dbname", "shopfast")
    print(f"pgbouncer test: creating {test_db} directly on PostgreSQL", flush=True)
    try:
        testdb_create(upstream_url, test_db)
        with pgbouncer_running(upstream_url) as bouncer:
            print(f"pgbouncer test: pytest through {bouncer.url(upstream_db)}", flush=True)
            env = {
                **os.environ,
                "DATABASE_URL": bouncer.url(upstream_db),
                "TEST_DATABASE_NAME": test_db,
                # Tests empty the cache under their prefix: never another run's.
                "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "shopfast-test-pgbouncer"),
            }
            command = [sys.executable, "-m", "pytest", "--reuse-db", *pytest_args]
            code = subprocess.run(command, cwd=BASE_DIR, env=env, check=False).returncode
            stats = bouncer.stats(test_db)
            pools = [row for row in bouncer.admin("SHOW POOLS") if row["database"] == test_db]
    finally:
        testdb_drop(upstream_url, test_db)
    modes = ", ".join(sorted({row["pool_mode"] for row in pools})) or "none"
    print(
        f"pgbouncer test: {test_db} through pgbouncer (pool_mode {modes}): "
        f"{stats['total_xact_count']} transactions, {stats['total_query_count']} queries; "
        f"pytest exit {code}; {time.monotonic() - started:.1f} s in all",
        flush=True,
    )
    if code == 0 and stats["total_xact_count"] == 0:
        print("pgbouncer test: no transaction went through pgbouncer", file=sys.stderr)
        return 1
    return code


# --- command line ---------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m perf.pgbouncer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("command", choices=["start", "stop", "status", "test"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--upstream",
        default=os.environ.get("DATABASE_URL", DEFAULT_UPSTREAM),
        help="PostgreSQL to pool (default: DATABASE_URL, else local shopfast)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["test"]:
            # Everything after "test" is pytest's; the upstream is DATABASE_URL's.
            upstream = os.environ.get("DATABASE_URL", DEFAULT_UPSTREAM)
            return tests_through_pgbouncer(argv[1:], upstream)
        args = parse_args(argv)
        upstream_db = upstream_params(args.upstream).get("dbname", "shopfast")
        bouncer = pgbouncer_find(args.port)
        if args.command == "start":
            if bouncer is None:
                bouncer = pgbouncer_start(args.upstream, args.port, detach=True)
            print(f"pgbouncer pid {bouncer.pid}, log {bouncer.runtime_dir / 'pgbouncer.log'}")
            print(f"DATABASE_URL={bouncer.url(upstream_db)}")
            return 0
        if bouncer is None:
            print(f"pgbouncer: not running on port {args.port}")
            return 0 if args.command == "stop" else 1
        if args.command == "stop":
            bouncer.stop()
            print(f"pgbouncer: stopped pid {bouncer.pid}")
            return 0
        print(f"pgbouncer pid {bouncer.pid} on {HOST}:{bouncer.port}")
        for row in bouncer.admin("SHOW POOLS"):
            print(
                f"  {row['database']}/{row['user']} {row['pool_mode']}: "
                f"clients {row['cl_active']} active {row['cl_waiting']} waiting, "
                f"servers {row['sv_active']} active {row['sv_idle']} idle"
            )
        return 0
    except (PgbouncerError, psycopg.Error, subprocess.CalledProcessError) as exc:
        print(f"pgbouncer: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
