"""A local cluster on loopback: etcd, two Patroni-managed PostgreSQL nodes (a primary and a
synchronous standby), pgbouncer in front of each, HAProxy, Redis, N granian app instances and a
Celery worker.

    python -m perf.cluster up [--apps 3]     # make cluster: start it, print the URLs
    python -m perf.cluster status            # make cluster-status
    python -m perf.cluster down              # make cluster-down: stop every process it started

Topology and why each setting is what it is: ``docs/deploy.md``. The state (configs, data
directories, logs, pid files) lives under the system's temporary folder, linked from
``.cluster`` in the checkout (git-ignored): PostgreSQL and pgbouncer run as ``postgres``, who
may not be allowed into the checkout. Installs patroni, etcd-server and haproxy with apt when
missing, as ``.ci/run`` does.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from argparse import Namespace
from contextlib import suppress
from pathlib import Path

import psycopg

from config.bootstrap import port_open, process_alive
from perf import harness
from perf.cluster_config import (
    APP_PORT,
    BASE_DIR,
    DATABASE,
    ETCD_PEER_PORT,
    ETCD_PORT,
    HOST,
    LINK,
    NODES,
    PACKAGES,
    PRIMARY_PORT,
    REDIS_PORT,
    REPLICA_PORT,
    RUN_AS,
    SCOPE,
    STATE,
    STATS_PORT,
    Node,
    app_environment,
    app_port,
    haproxy_config,
    patroni_config,
    redis_command,
    url,
)
from perf.pgbouncer import pgbouncer_start

DEMO_PRODUCTS = 2000  # seeded into a new cluster's database


def ensure_packages() -> None:
    missing = [pkg for binary, pkg in PACKAGES.items() if not shutil.which(binary)]
    if not missing:
        return
    print(f"apt-get install -y {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)


def _owned_by_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(RUN_AS)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def spawn(
    name: str, command: list[str], env: dict[str, str] | None = None, cwd: Path = BASE_DIR
) -> int:
    """Start ``command`` in a session of its own that outlives us; remember its pid."""
    log = STATE / "logs" / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env or os.environ.copy(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (STATE / "pids" / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def stop(name: str, timeout: float = 20) -> None:
    """Stop the process group started as ``name`` (TERM, then KILL)."""
    pidfile = STATE / "pids" / f"{name}.pid"
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while process_alive(pid) and time.monotonic() < deadline:
            with_reap(pid)
            time.sleep(0.1)
        if not process_alive(pid):
            break
    with_reap(pid)  # our own child (started by this process): no zombie left behind
    pidfile.unlink(missing_ok=True)


def with_reap(pid: int) -> None:
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_for(what: str, check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"cluster: {what} not ready after {timeout:.0f} s (logs: {STATE}/logs)")


# --- configuration --------------------------------------------------------------------------------
def leader() -> Node | None:
    for node in NODES:
        if node.rest("/primary")[0] == 200:
            return node
    return None


def cluster_up(apps: int, products: int) -> None:
    ensure_packages()
    if (STATE / "pids").exists() and any((STATE / "pids").iterdir()):
        raise SystemExit("cluster: already running (make cluster-down first)")
    shutil.rmtree(STATE, ignore_errors=True)
    for folder in (STATE, STATE / "logs", STATE / "pids", STATE / "imports"):
        folder.mkdir(parents=True, exist_ok=True)
    STATE.chmod(0o755)
    (STATE / "logs").chmod(0o777)
    if LINK.is_symlink() or not LINK.exists():
        LINK.unlink(missing_ok=True)
        LINK.symlink_to(STATE)
    (STATE / "apps").write_text(str(apps))

    spawn("etcd", [
        "etcd", "--name", SCOPE, "--data-dir", str(STATE / "etcd"),
        "--listen-client-urls", f"http://{HOST}:{ETCD_PORT}",
        "--advertise-client-urls", f"http://{HOST}:{ETCD_PORT}",
        "--listen-peer-urls", f"http://{HOST}:{ETCD_PEER_PORT}",
        "--initial-advertise-peer-urls", f"http://{HOST}:{ETCD_PEER_PORT}",
        "--initial-cluster", f"{SCOPE}=http://{HOST}:{ETCD_PEER_PORT}",
        "--log-level", "warn",
    ])  # fmt: skip
    wait_for("etcd", lambda: port_open(HOST, ETCD_PORT), 30)
    spawn("redis", redis_command())

    for node in NODES:
        node.home.mkdir(mode=0o700)
        config = node.home / "patroni.yml"
        config.write_text(patroni_config(node))
        for path in (node.home, config):
            _owned_by_postgres(path)
        command = ["patroni", str(config)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", RUN_AS, "--", *command]
        # From its own folder: initdb refuses a working directory it cannot read (root's home).
        spawn(node.name, command, cwd=node.home)
        if node.index == 0:  # the first one bootstraps; the other clones it
            wait_for("the primary", lambda: leader() is not None, 90)
    wait_for("the synchronous standby", lambda: sync_standby() is not None, 90)
    for node in NODES:
        bouncer = pgbouncer_start(url(node.pg_port, "postgres"), node.bouncer_port,
                                  node.home / "pgbouncer", detach=True)  # fmt: skip
        (STATE / "pids" / f"pgbouncer-{node.name}.pid").write_text(str(bouncer.pid))

    (STATE / "haproxy.cfg").write_text(haproxy_config(apps))
    spawn("haproxy", ["haproxy", "-W", "-db", "-f", str(STATE / "haproxy.cfg")])
    wait_for("HAProxy's primary port", lambda: _answers(url(PRIMARY_PORT, "postgres")), 30)
    wait_for("HAProxy's replica port", lambda: _answers(url(REPLICA_PORT, "postgres")), 30)
    database_prepare(products)

    env = app_environment()
    args = Namespace(workers=1, blocking_threads=2)
    for i in range(apps):
        pid = harness.start_server(app_port(i), STATE / "logs" / f"app{i + 1}.log", args, env).pid
        (STATE / "pids" / f"app{i + 1}.pid").write_text(str(pid))
    pid = harness.start_worker(STATE / "logs" / "worker.log", env).pid
    (STATE / "pids" / "worker.pid").write_text(str(pid))
    for i in range(apps):
        wait_for(f"app{i + 1}", lambda i=i: http_ok(app_port(i)), 90)
    wait_for("the app behind HAProxy", lambda: http_ok(APP_PORT), 30)
    print_urls(apps)


def _answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=2, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def http_ok(port: int) -> bool:
    try:
        return harness.fetch(port, "/healthz")[0] == 200
    except OSError:
        return False


def sync_standby() -> str | None:
    for node in NODES:
        status, body = node.rest("/cluster")
        if status == 200:
            for member in body.get("members", []):
                if member.get("role") == "sync_standby" and member.get("state") in (
                    "running",
                    "streaming",
                ):
                    return member["name"]
    return None


def database_prepare(products: int) -> None:
    """Create, migrate and seed the shop's database on the primary (directly, not pooled)."""
    node = leader()
    assert node is not None
    with psycopg.connect(url(node.pg_port, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    env = {**app_environment(), "DATABASE_URL": url(node.pg_port), "DATABASE_REPLICA_URL": ""}
    env["DJANGO_SETTINGS_MODULE"] = "perf.settings_perf"  # prod + the seeding command
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    seed = [*manage, "seed_catalog", "--products", str(products), "--seed", "42"]
    subprocess.run(seed, cwd=BASE_DIR, env=env, check=True)


def print_urls(apps: int) -> None:
    print(
        f"""cluster up ({STATE}, linked from .cluster):
  app (HAProxy)       http://{HOST}:{APP_PORT}/api/v1/products/
  app instances       {", ".join(f"http://{HOST}:{app_port(i)}" for i in range(apps))}
  primary (HAProxy)   {url(PRIMARY_PORT)}
  replica (HAProxy)   {url(REPLICA_PORT)}
  HAProxy stats       http://{HOST}:{STATS_PORT}/
  Patroni REST        {", ".join(f"http://{HOST}:{n.rest_port}/cluster" for n in NODES)}
  etcd                http://{HOST}:{ETCD_PORT}
  Redis               redis://{HOST}:{REDIS_PORT}/0""",
        flush=True,
    )


def cluster_down() -> None:
    pids = STATE / "pids"
    if not pids.exists():
        print("cluster: not running")
        return
    apps = [p.stem for p in pids.glob("app*.pid")]
    for name in ["haproxy", "worker", *apps]:
        stop(name)
    for node in NODES:
        stop(f"pgbouncer-{node.name}")
    for node in NODES:
        stop(node.name, timeout=30)  # Patroni stops its PostgreSQL on the way out
    for node in NODES:  # one it could not stop (or a kill -9 of Patroni) is stopped here
        if (pid := node.postmaster_pid()) and process_alive(pid):
            os.kill(pid, signal.SIGQUIT)
    for name in ("redis", "etcd"):
        stop(name)
    left = [p.stem for p in pids.glob("*.pid")]
    # The logs outlive the cluster, for reading after a drill (perf/reports is git-ignored).
    kept = harness.REPORT_DIR / "cluster-logs"
    shutil.rmtree(kept, ignore_errors=True)
    harness.REPORT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copytree(STATE / "logs", kept, dirs_exist_ok=True)
    shutil.rmtree(STATE, ignore_errors=True)
    if LINK.is_symlink():
        LINK.unlink()
    note = f"; pid files left: {', '.join(left)}" if left else ""
    print(f"cluster down (logs kept in {kept}){note}")


def cluster_status() -> int:
    if not (STATE / "pids").exists():
        print("cluster: not running")
        return 1
    status, body = NODES[0].rest("/cluster")
    if status != 200:
        status, body = NODES[1].rest("/cluster")
    for member in body.get("members", []):
        lag = member.get("lag", "")
        print(f"  {member['name']:6} {member['role']:13} {member['state']:10} lag {lag}")
    for pidfile in sorted((STATE / "pids").glob("*.pid")):
        pid = int(pidfile.read_text())
        print(f"  {pidfile.stem:18} pid {pid:<8} {'running' if process_alive(pid) else 'GONE'}")
    print_urls(int((STATE / "apps").read_text()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.cluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--apps", type=int, default=int(os.environ.get("CLUSTER_APPS", 3)))
    parser.add_argument("--products", type=int, default=DEMO_PRODUCTS)
    args = parser.parse_args(argv)
    if args.command == "up":
        cluster_up(args.apps, args.products)
    elif args.command == "down":
        cluster_down()
    elif args.command == "status":
        return cluster_status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
