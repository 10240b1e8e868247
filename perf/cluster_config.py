"""The cluster's ports, nodes and configuration files (``perf/cluster.py`` starts them).

Patroni's YAML, HAProxy's config, Redis's command line and the app's environment, each rendered
from the constants here; ``docs/deploy.md`` says why each setting is what it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from perf import harness
from perf.harness import postgres_bindir

BASE_DIR = harness.BASE_DIR
HOST = "127.0.0.1"
STATE = Path(tempfile.gettempdir()) / (
    "shopfast-cluster-" + hashlib.blake2b(str(BASE_DIR).encode(), digest_size=5).hexdigest()
)
LINK = BASE_DIR / ".cluster"
SCOPE = "shopfast"
DATABASE = "shopfast"
RUN_AS = "postgres"
PACKAGES = {"patroni": "patroni", "etcd": "etcd-server", "haproxy": "haproxy"}

ETCD_PORT, ETCD_PEER_PORT = 15379, 15380
PRIMARY_PORT, REPLICA_PORT, STATS_PORT, APP_PORT = 15000, 15001, 15002, 15080
REDIS_PORT = 15390


@dataclass(frozen=True)
class Node:
    """One Patroni-managed PostgreSQL and the pgbouncer in front of it."""

    index: int

    @property
    def name(self) -> str:
        return f"node{self.index}"

    @property
    def pg_port(self) -> int:
        return 15440 + self.index

    @property
    def rest_port(self) -> int:
        return 15450 + self.index

    @property
    def bouncer_port(self) -> int:
        return 15460 + self.index

    @property
    def home(self) -> Path:
        return STATE / self.name

    def rest(self, path: str) -> tuple[int, dict]:
        """GET Patroni's REST API; (status, body), (0, {}) when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.rest_port}{path}", timeout=2) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except (OSError, ValueError):
            return 0, {}

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.home / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None


NODES = (Node(0), Node(1))


def app_port(index: int) -> int:
    return APP_PORT + 1 + index


def url(port: int, dbname: str = DATABASE) -> str:
    return f"postgres://postgres@{HOST}:{port}/{dbname}"


# --- installing, starting, stopping ---------------------------------------------------------------


def patroni_config(node: Node) -> str:
    # Patroni reads YAML; JSON is YAML, and needs no library here.
    config = {
        "scope": SCOPE,
        "name": node.name,
        "log": {"level": "WARNING"},
        "restapi": {
            "listen": f"{HOST}:{node.rest_port}",
            "connect_address": f"{HOST}:{node.rest_port}",
        },
        "etcd3": {"hosts": f"{HOST}:{ETCD_PORT}"},
        "bootstrap": {
            "dcs": {
                "ttl": 20,
                "loop_wait": 2,
                "retry_timeout": 5,
                "maximum_lag_on_failover": 1048576,
                # A commit is acknowledged once a second node has it (and, below, has applied it).
                "synchronous_mode": True,
                # A crashed primary fails over to the synchronous standby at once, instead of
                # trying to restart in place for 5 minutes.
                "primary_start_timeout": 0,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        # Acknowledged = applied on the standby: a read there right after a
                        # commit sees it (the replica port serves catalog reads).
                        "synchronous_commit": "remote_apply",
                        "wal_log_hints": "on",
                        "max_connections": 200,
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "hot_standby": "on",
                        "shared_buffers": "128MB",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, "data-checksums"],
            "pg_hba": [
                "host all all 127.0.0.1/32 trust",
                "host replication all 127.0.0.1/32 trust",
                "local all all trust",
            ],
        },
        "postgresql": {
            "listen": f"{HOST}:{node.pg_port}",
            "connect_address": f"{HOST}:{node.pg_port}",
            "data_dir": str(node.home / "data"),
            "bin_dir": str(postgres_bindir()),
            "pgpass": str(node.home / "pgpass"),
            "authentication": {
                "superuser": {"username": "postgres", "password": "postgres"},
                "replication": {"username": "replicator", "password": "replicator"},
                "rewind": {"username": "postgres", "password": "postgres"},
            },
            "parameters": {"unix_socket_directories": str(node.home)},
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }
    return json.dumps(config, indent=2)


def haproxy_config(apps: int) -> str:
    def nodes(check: str) -> str:
        return "".join(
            f"    server {n.name} {HOST}:{n.bouncer_port} check port {n.rest_port}\n" for n in NODES
        )

    servers = "".join(f"    server app{i + 1} {HOST}:{app_port(i)} check\n" for i in range(apps))
    return f"""global
    maxconn 4000
    pidfile {STATE}/haproxy.pid
    log stdout format raw local0

defaults
    mode tcp
    # Only what went wrong: a 5xx, a retry, a connection that failed (logs/haproxy.log).
    log global
    option dontlog-normal
    option tcplog
    timeout connect 2s
    timeout client 30m
    timeout server 30m
    timeout check 2s
    # Patroni's REST API says who is primary and who is a healthy replica, every second.
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions

listen stats
    mode http
    bind {HOST}:{STATS_PORT}
    stats enable
    stats uri /

listen primary
    bind {HOST}:{PRIMARY_PORT}
    option httpchk GET /primary
    http-check expect status 200
{nodes("primary")}
listen replicas
    bind {HOST}:{REPLICA_PORT}
    option httpchk GET /replica
    http-check expect status 200
{nodes("replica")}
listen app
    mode http
    option httplog
    bind {HOST}:{APP_PORT}
    balance roundrobin
    # /healthz: the process answers (it does not ask the database: while the primary fails over,
    # every instance must stay in to answer a JSON 503 itself).
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host {HOST}
    http-check expect status 200
    # A request that could not reach an instance, or got no answer from one killed under it, is
    # sent to another: reads, and writes that carry an Idempotency-Key (the app answers a repeat
    # with the first answer). Any other write is never sent twice.
    # The whole body is read before a server is picked: a retry needs it in the buffer.
    option http-buffer-request
    retries 2
    option redispatch
    retry-on conn-failure empty-response
    acl replayable method GET HEAD OPTIONS
    acl replayable req.hdr(Idempotency-Key) -m found
    http-request disable-l7-retry if !replayable
    timeout client 30s
    timeout server 30s
    default-server inter 1s fall 2 rise 2
{servers}"""


def redis_command() -> list[str]:
    return ["redis-server", "--bind", HOST, "--port", str(REDIS_PORT), "--save", "",
            "--appendonly", "no", "--dir", str(STATE)]  # fmt: skip


def app_environment() -> dict[str, str]:
    secret = STATE / "secret_key"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(48))
    env = os.environ.copy()
    env.pop("PAYMENT_PROVIDER", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": secret.read_text(),
            "DATABASE_URL": url(PRIMARY_PORT),
            "DATABASE_REPLICA_URL": url(REPLICA_PORT),
            "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
            "CACHE_KEY_PREFIX": "shopfast-cluster",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
            "SECURE_COOKIES": "false",
            "PROFILING": "false",
            "IMPORT_DIR": str(STATE / "imports"),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(STATE / "celerybeat-schedule"),
        }
    )
    # The drill's buyers check out back to back; a deployment keeps its own limits.
    for name in ("THROTTLE_CHECKOUT", "THROTTLE_TOKEN", "THROTTLE_REGISTER"):
        env.setdefault(name, "1000000/min")
    return env


# --- commands -------------------------------------------------------------------------------------
