"""Read routing: one database without a replica; the real-replica cases in a pytest of their own."""

import os
import subprocess
import sys
from pathlib import Path

from cachalot.utils import get_table_cache_key
from django.db import connections

from apps.catalog.models import Product
from apps.core import routing
from apps.core.routing import PrimaryReplicaRouter, cachalot_table_key, replica_reads
from tests.replication import ENV, streaming_pair

BASE_DIR = Path(__file__).resolve().parents[3]
CASES = Path(__file__).with_name("routing_on_a_replica.py")


def test_without_a_replica_url_there_is_one_database_and_every_read_goes_to_it(settings):
    assert "replica" not in settings.DATABASES
    assert list(connections) == ["default"]
    with replica_reads():
        assert PrimaryReplicaRouter().db_for_read(Product) == "default"
    assert routing.read_alias(Product) == "default"


def test_without_a_replica_the_middleware_is_not_in_the_way():
    def view(request):
        return "response"

    assert routing.read_routing(view) is view


def test_writes_and_migrations_go_to_the_primary_only():
    router = PrimaryReplicaRouter()
    assert router.db_for_write(Product) == "default"
    assert router.allow_migrate("default", "catalog") is True
    assert router.allow_migrate("replica", "catalog") is False


def test_cachalot_stamps_a_table_once_for_the_primary_and_the_replica():
    assert cachalot_table_key("replica", "catalog_product") == cachalot_table_key(
        "default", "catalog_product"
    )
    assert cachalot_table_key("default", "catalog_product") == get_table_cache_key(
        "default", "catalog_product"
    )


def test_the_router_on_a_real_streaming_replica():
    """Run routing_on_a_replica.py against a primary and its hot standby (tests/replication.py)."""
    with streaming_pair() as pair:
        env = {
            **os.environ,
            "DATABASE_URL": pair.url(pair.primary_port, "shopfast"),
            "DATABASE_REPLICA_URL": pair.url(pair.replica_port, "shopfast"),
            "TEST_DATABASE_NAME": "test_shopfast_routing",
            "CACHE_KEY_PREFIX": f"shopfast-routing-{os.getpid()}",
            "CACHALOT_KEY_PREFIX": f"shopfast-routing-{os.getpid()}:orm",
            # Every read reaches a server: the response cache would answer the second one.
            "CACHE_RESPONSES": "false",
            ENV: pair.to_env(),
        }
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "--create-db", str(CASES)],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert " passed" in run.stdout
