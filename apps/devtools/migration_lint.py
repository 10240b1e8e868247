"""Gate the migrations that build indexes, and keep their SQL under review in migrations_sql/.

House rule: an index on an already existing table is built CONCURRENTLY, by AddIndexConcurrently
alone in an ``atomic = False`` migration. A plain CREATE INDEX holds a lock that blocks every write
to the table for the whole build; CONCURRENTLY cannot run inside a transaction, and a non-atomic
migration with several operations can stop half-applied.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management import call_command
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.migration import Migration
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

PROJECT_APPS_PREFIX = "apps."
SQL_DIR = Path(settings.BASE_DIR) / "migrations_sql"
CONCURRENT_OPERATIONS = (AddIndexConcurrently, RemoveIndexConcurrently)
# Operations whose verdict depends on the field/options as they were before the migration.
STATEFUL_OPERATIONS = (migrations.AlterField, migrations.AlterUniqueTogether)

_SQL_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_BLOCKING_CREATE_INDEX = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY\b)", re.IGNORECASE
)
_CONCURRENT_INDEX_SQL = re.compile(
    r"\b(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+)INDEX\s+CONCURRENTLY\b", re.IGNORECASE
)


# --- Which migrations --------------------------------------------------------------------------


def _project_app_labels() -> set[str]:
    return {c.label for c in apps.get_app_configs() if c.name.startswith(PROJECT_APPS_PREFIX)}


def _migration_graph() -> MigrationLoader:
    # No connection: the verdicts depend on the code only, never on what a database has applied.
    return MigrationLoader(None, ignore_no_migrations=True)


def project_migrations(loader: MigrationLoader | None = None) -> list[Migration]:
    """Return the project's migrations (apps under ``apps.``) in the loader graph, by key."""
    loader = loader or _migration_graph()
    labels = _project_app_labels()
    return [loader.graph.nodes[key] for key in sorted(loader.graph.nodes) if key[0] in labels]


def _database_operations(operations: Iterable[Operation]) -> Iterator[Operation]:
    """Yield the operations that reach the database, looking inside SeparateDatabaseAndState."""
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _database_operations(operation.database_operations)
        else:
            yield operation


def concurrent_index_migrations() -> list[tuple[str, str]]:
    """Return (app_label, name) of each project migration adding/removing an index CONCURRENTLY."""
    return [
        (migration.app_label, migration.name)
        for migration in project_migrations()
        if any(
            isinstance(op, CONCURRENT_OPERATIONS)
            for op in _database_operations(migration.operations)
        )
    ]


# --- The CONCURRENTLY rule -----------------------------------------------------------------------


def _builds_index(old: models.Field | None, new: models.Field) -> bool:
    """Tell whether turning old into new (old None: adding new) makes Django build an index.

    Mirrors BaseDatabaseSchemaEditor._alter_field (_unique_should_be_added and the db_index
    branch); a ForeignKey has db_index=True unless told otherwise.
    """
    if new.unique and not new.primary_key and (old is None or not old.unique or old.primary_key):
        return True
    return bool(new.db_index and not new.unique and (old is None or not old.db_index or old.unique))


def _old_field(
    state: ProjectState | None, app_label: str, model: str, name: str
) -> models.Field | None:
    model_state = state.models.get((app_label, model)) if state is not None else None
    # Unknown (no state given): judged as if the field were new, which flags rather than misses.
    return model_state.fields.get(name) if model_state is not None else None


def _blocking_index_operation(
    operation: Operation, app_label: str, state: ProjectState | None
) -> str | None:
    """Describe the index operation builds without CONCURRENTLY, if it builds one."""
    if isinstance(operation, CONCURRENT_OPERATIONS):
        return None
    if isinstance(operation, migrations.AddIndex):
        return f"AddIndex {operation.index.name!r} on {operation.model_name_lower}"
    if isinstance(operation, migrations.AddConstraint) and isinstance(
        operation.constraint, models.UniqueConstraint | ExclusionConstraint
    ):
        kind = type(operation.constraint).__name__
        return f"AddConstraint {kind} {operation.constraint.name!r} on {operation.model_name_lower}"
    if isinstance(operation, migrations.AddField) and _builds_index(None, operation.field):
        return f"AddField {operation.model_name_lower}.{operation.name} (db_index/unique)"
    if isinstance(operation, migrations.AlterField):
        old = _old_field(state, app_label, operation.model_name_lower, operation.name)
        if _builds_index(old, operation.field):
            return f"AlterField {operation.model_name_lower}.{operation.name} (db_index/unique)"
    if isinstance(operation, migrations.AlterUniqueTogether):
        model_state = state.models.get((app_label, operation.name_lower)) if state else None
        old = set(model_state.options.get("unique_together", ())) if model_state else set()
        if set(operation.option_value or ()) - old:
            return f"AlterUniqueTogether on {operation.name_lower}"
    return None


def _operation_model(operation: Operation) -> str | None:
    if isinstance(operation, migrations.AlterUniqueTogether):
        return operation.name_lower
    return getattr(operation, "model_name_lower", None)


def _sql_statements(sql: str | list | tuple | None) -> list[str]:
    """Return RunSQL's sql/reverse_sql as strings (it also accepts lists of (sql, params))."""
    if sql is None:
        return []
    if isinstance(sql, str):
        return [sql]
    return [item[0] if isinstance(item, list | tuple) else item for item in sql]


def _excerpt(sql: str, start: int) -> str:
    text = " ".join(sql[start:].split())
    return text if len(text) <= 80 else text[:77] + "..."


def _run_sql_problems(operation: migrations.RunSQL, migration: Migration) -> list[str]:
    where = f"{migration.app_label}.{migration.name}"
    problems = []
    for direction, sql in (("sql", operation.sql), ("reverse_sql", operation.reverse_sql)):
        for statement in _sql_statements(sql):
            # Comments are dropped so that an explanatory "-- CREATE INDEX ..." does not count.
            text = _SQL_COMMENTS.sub(" ", statement)
            problems.extend(
                f"{where}: RunSQL {direction} creates an index without CONCURRENTLY: "
                f"{_excerpt(text, match.start())}"
                for match in _BLOCKING_CREATE_INDEX.finditer(text)
            )
            if migration.atomic and _CONCURRENT_INDEX_SQL.search(text):
                problems.append(
                    f"{where}: RunSQL {direction} uses INDEX CONCURRENTLY in an atomic migration; "
                    "set atomic = False (it cannot run inside a transaction)"
                )
    return problems


def check_migration(migration: Migration, state: ProjectState | None = None) -> list[str]:
    """List how migration breaks the CONCURRENTLY rule (state: the project state before it)."""
    where = f"{migration.app_label}.{migration.name}"
    operations = list(_database_operations(migration.operations))
    created = {op.name_lower for op in operations if isinstance(op, migrations.CreateModel)}
    problems = []
    for operation in operations:
        describe = operation.describe()
        if isinstance(operation, CONCURRENT_OPERATIONS):
            if migration.atomic:
                problems.append(
                    f"{where}: {describe} runs in an atomic migration; set atomic = False "
                    "(CONCURRENTLY cannot run inside a transaction)"
                )
            if len(operations) > 1:
                problems.append(
                    f"{where}: {describe} must be in its own migration "
                    f"(found {len(operations)} operations)"
                )
        elif isinstance(operation, migrations.RunSQL):
            problems.extend(_run_sql_problems(operation, migration))
        elif _operation_model(operation) not in created:
            # A table created in this same migration is empty: indexing it blocks nobody.
            blocking = _blocking_index_operation(operation, migration.app_label, state)
            if blocking:
                problems.append(
                    f"{where}: {blocking} adds an index to an existing table without "
                    "CONCURRENTLY (use AddIndexConcurrently in its own atomic = False migration)"
                )
    return problems


def index_violations() -> list[str]:
    """List every breach of the CONCURRENTLY rule across the project's migrations."""
    loader = _migration_graph()
    problems = []
    for migration in project_migrations(loader):
        state = None
        if any(
            isinstance(op, STATEFUL_OPERATIONS) for op in _database_operations(migration.operations)
        ):
            state = loader.project_state((migration.app_label, migration.name), at_end=False)
        problems.extend(check_migration(migration, state))
    return problems


# --- migrations_sql/ ----------------------------------------------------------------------------


def migration_sql(app_label: str, name: str) -> str:
    """Return what ``manage.py sqlmigrate app_label name`` prints (needs a database connection)."""
    out = io.StringIO()
    call_command("sqlmigrate", app_label, name, stdout=out)
    return out.getvalue()


def sql_file_path(app_label: str, name: str, directory: Path = SQL_DIR) -> Path:
    return directory / f"{app_label}_{name}.sql"


def read_sql_file(path: Path) -> str | None:
    # Bytes, not read_text(): newline translation would hide a CRLF-mangled file.
    return path.read_bytes().decode("utf-8") if path.exists() else None


def compare_sql(expected: str, on_disk: str | None) -> str | None:
    """Return None when on_disk is exactly expected, else "missing" or "stale"."""
    if on_disk is None:
        return "missing"
    return None if on_disk == expected else "stale"


def expected_sql_files(directory: Path = SQL_DIR) -> dict[Path, str]:
    """Map each file migrations_sql/ must hold to its content, from sqlmigrate."""
    return {
        sql_file_path(app_label, name, directory): migration_sql(app_label, name)
        for app_label, name in concurrent_index_migrations()
    }


def orphaned_sql_files(directory: Path, expected: Iterable[Path]) -> list[Path]:
    names = {path.name for path in expected}
    return sorted(path for path in directory.glob("*.sql") if path.name not in names)


def _shown(path: Path) -> str:
    return (
        str(path.relative_to(settings.BASE_DIR))
        if path.is_relative_to(settings.BASE_DIR)
        else str(path)
    )


def sql_file_problems(directory: Path = SQL_DIR) -> list[str]:
    """List the files of directory that are missing, stale (with a diff) or orphaned."""
    expected = expected_sql_files(directory)
    problems = []
    for path, sql in expected.items():
        on_disk = read_sql_file(path)
        verdict = compare_sql(sql, on_disk)
        if verdict == "missing":
            problems.append(f"missing: {_shown(path)}")
        elif verdict == "stale":
            diff = difflib.unified_diff(
                on_disk.splitlines(keepends=True),
                sql.splitlines(keepends=True),
                fromfile=f"{_shown(path)} (on disk)",
                tofile="sqlmigrate",
            )
            problems.append(f"stale: {_shown(path)}\n{''.join(diff).rstrip()}")
    problems.extend(
        f"orphaned: {_shown(path)} (no migration with a CONCURRENTLY index operation)"
        for path in orphaned_sql_files(directory, expected)
    )
    return problems


def write_sql_files(directory: Path = SQL_DIR) -> list[str]:
    """Write the files that differ from sqlmigrate, delete orphans; return what changed."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_sql_files(directory)
    changes = []
    for path, sql in expected.items():
        verdict = compare_sql(sql, read_sql_file(path))
        if verdict:
            path.write_bytes(sql.encode("utf-8"))
            changes.append(f"wrote ({verdict}): {_shown(path)}")
    for path in orphaned_sql_files(directory, expected):
        path.unlink()
        changes.append(f"deleted (orphaned): {_shown(path)}")
    return changes
