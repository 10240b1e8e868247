"""A worker the tests start shares the test process's database and cache namespaces."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.worker import BASE_DIR, worker_env

SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "from django.db import connection; "
    "print(connection.settings_dict['NAME']); "
    "print(settings.CACHES['default']['KEY_PREFIX']); "
    "print(settings.CACHES['cachalot']['KEY_PREFIX'])"
)


def test_a_worker_sees_the_test_database_and_the_same_cache_namespaces(db, tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=BASE_DIR,
        env=worker_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    name, prefix, orm_prefix = done.stdout.split()[-3:]

    assert name == connection.settings_dict["NAME"]
    assert prefix == settings.CACHES["default"]["KEY_PREFIX"]
    # Different cachalot namespaces: a worker's import never voided the test process's cached
    # reads (nor the reverse), which failed the killed-worker import test in full runs only.
    assert orm_prefix == settings.CACHES["cachalot"]["KEY_PREFIX"]
