"""The SQL files behind the server-side functions: each change ships with a migration.

A migration loads its file when it runs; a database migrated before the file changed keeps the
old functions until a newer migration loads it again. So the newest migration naming a file
must carry the file's current hash.
"""

import hashlib
import importlib
from pathlib import Path

from django.db.migrations.loader import MigrationLoader

BASE_DIR = Path(__file__).resolve().parent.parent


def newest_loads() -> dict[str, tuple[str, str]]:
    """Map each SQL file a project migration loads to (newest migration, its recorded hash)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    newest: dict[str, tuple[str, str]] = {}
    for app_label, name in sorted(loader.disk_migrations):
        module = importlib.import_module(loader.disk_migrations[app_label, name].__module__)
        source = getattr(module, "SOURCE", None)
        if source and module.__name__.startswith("apps."):
            newest[source] = (module.__name__, module.SOURCE_SHA256)
    return newest


def test_every_sql_file_is_loaded_by_a_migration():
    files = {str(p.relative_to(BASE_DIR)) for p in BASE_DIR.glob("apps/*/sql/*.sql")}
    assert files and files == set(newest_loads())


def test_the_newest_migration_of_each_sql_file_carries_its_current_hash():
    stale = {
        source: migration
        for source, (migration, recorded) in newest_loads().items()
        if hashlib.sha256((BASE_DIR / source).read_bytes()).hexdigest() != recorded
    }
    assert stale == {}, "add a migration that loads the changed file again (see 0002 in orders)"
