"""Each process's copy of the cache versions: current after any bump that has returned."""

import subprocess
import sys
import threading

import pytest
from django.db import connection

from apps.core.caching import remote, versions
from apps.core.caching.versions import versions_current
from config.bootstrap import database_url_of


def _no_round_trips(monkeypatch) -> None:
    """Make any version read from Redis fail: what follows must come from the pushed copy."""

    def refuse(names):
        raise AssertionError(f"read {names} from Redis")

    monkeypatch.setattr(remote, "versions_get", refuse)


def test_a_bump_in_another_thread_is_seen_without_asking_redis(monkeypatch, settings):
    settings.CACHE_VERSION_LEASE_SECONDS = 600
    before = versions_current(["listing", "epoch"])
    _no_round_trips(monkeypatch)

    thread = threading.Thread(target=remote.versions_bump, args=(["listing"],))
    thread.start()
    thread.join()

    after = versions_current(["listing", "epoch"])
    assert after[0] > before[0] and after[1] == before[1]


def test_a_bump_in_another_process_is_seen_as_soon_as_it_returns(monkeypatch, db, settings):
    settings.CACHE_VERSION_LEASE_SECONDS = 600  # the subprocess takes longer than the default
    before = versions_current(["product:lamp"])[0]
    _no_round_trips(monkeypatch)
    code = (
        "from apps.core.caching import remote; remote.versions_bump(['product:lamp']); "
        "remote.versions_bump(['product:lamp'])"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        # The same database name, so that the keys and the channel are this test's.
        "DATABASE_URL": _database_url(),
    }

    subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        check=True,
        env={**_inherited_env(), **env},
        timeout=60,
    )

    assert versions_current(["product:lamp"])[0] == before + 2


def test_an_expired_lease_reads_the_versions_from_redis_again(settings):
    settings.CACHE_VERSION_LEASE_SECONDS = 0.0
    calls = []
    original = remote.versions_get

    def counting(names):
        calls.append(list(names))
        return original(names)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(remote, "versions_get", counting)
        versions_current(["listing"])
        versions_current(["listing"])

    assert calls == [["listing"], ["listing"]]


def test_a_reconnect_empties_the_copy():
    versions_current(["listing"])
    assert "listing" in versions._values

    versions._pubsub.on_connect(versions._pubsub.connection)

    assert versions._values == {}


def _database_url() -> str:
    return database_url_of(connection.settings_dict)


def _inherited_env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
