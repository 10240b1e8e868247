"""The CONCURRENTLY-index gate: migrations_sql/ matches sqlmigrate, and the checker bites."""

import io

import pytest
from django.apps import apps as django_apps
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.core.management import call_command
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader

from apps.devtools.migration_lint import (
    SQL_DIR,
    check_migration,
    compare_sql,
    concurrent_index_migrations,
    index_violations,
    migration_sql,
    orphaned_sql_files,
    read_sql_file,
    sql_file_path,
    sql_file_problems,
    write_sql_files,
)

CONCURRENT_MIGRATIONS = concurrent_index_migrations()
needs_sqlmigrate = pytest.mark.usefixtures("sqlmigrate_db")
LISTING_INDEX = models.Index(fields=["name", "id"], name="product_name_id_idx")


def synthetic(operations, *, atomic=True, app_label="catalog"):
    """Build an unsaved migration after the real ones, as a developer might write it."""
    migration = migrations.Migration("0999_synthetic", app_label)
    migration.operations = operations
    migration.atomic = atomic
    return migration


@pytest.fixture
def sqlmigrate_db(django_db_setup, django_db_blocker):
    """Open the test database outside any transaction, for sqlmigrate.

    sqlmigrate runs AddIndexConcurrently.database_forwards, which refuses an open transaction (so
    not django_db); it only reads, so there is nothing to flush (so not transaction=True, ~0.5 s
    per test).
    """
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="module")
def catalog_state():
    """Return the project state after every real migration (Product, Category... exist)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return loader.project_state()


# --- migrations_sql/ -----------------------------------------------------------------------------


def test_concurrent_index_migrations_include_the_catalog_listing_indexes():
    names = [name for app_label, name in CONCURRENT_MIGRATIONS if app_label == "catalog"]
    assert names[:8] == [
        "0002_product_listed_created",
        "0003_product_listed_price",
        "0004_product_listed_name",
        "0005_product_cat_created",
        "0006_product_cat_price",
        "0007_product_instock_created",
        "0008_product_instock_price",
        "0009_product_search_gin",
    ]
    assert all(
        django_apps.get_app_config(app_label).name.startswith("apps.")
        for app_label, _ in CONCURRENT_MIGRATIONS
    )


@needs_sqlmigrate
@pytest.mark.parametrize(
    ("app_label", "name"), CONCURRENT_MIGRATIONS, ids=[f"{a}.{n}" for a, n in CONCURRENT_MIGRATIONS]
)
def test_each_concurrent_migration_has_its_sql_file_equal_to_sqlmigrate(app_label, name):
    path = sql_file_path(app_label, name)
    expected = migration_sql(app_label, name)

    assert path.exists(), f"run `python manage.py migrations_sql` to create {path.name}"
    assert "CONCURRENTLY" in expected
    assert read_sql_file(path) == expected, f"{path.name} is stale: run manage.py migrations_sql"


def test_no_sql_file_is_orphaned():
    expected = [sql_file_path(a, n) for a, n in CONCURRENT_MIGRATIONS]

    assert orphaned_sql_files(SQL_DIR, expected) == []


@needs_sqlmigrate
def test_migrations_sql_check_command_passes_on_the_repository():
    out = io.StringIO()

    call_command("migrations_sql", "--check", stdout=out)

    assert "up to date" in out.getvalue()


def test_compare_sql_reports_a_tampered_copy_as_stale():
    real = read_sql_file(sql_file_path("catalog", "0002_product_listed_created"))
    tampered = real.replace("CONCURRENTLY ", "")

    assert compare_sql(real, real) is None
    assert compare_sql(real, tampered) == "stale"
    assert compare_sql(real, real.replace("\n", "\r\n")) == "stale"
    assert compare_sql(real, None) == "missing"


@needs_sqlmigrate
def test_sql_file_problems_list_missing_stale_and_orphaned_files(tmp_path):
    first, second, *_ = CONCURRENT_MIGRATIONS
    assert write_sql_files(tmp_path)  # everything was missing, so everything is written
    assert sql_file_problems(tmp_path) == []
    sql_file_path(*first, tmp_path).unlink()
    sql_file_path(*second, tmp_path).write_text("CREATE INDEX x ON y (z);\n")
    (tmp_path / "catalog_0001_gone.sql").write_text("-- left behind\n")

    problems = sql_file_problems(tmp_path)

    assert [p.split(":")[0] for p in problems] == ["missing", "stale", "orphaned"]
    assert sql_file_path(*first).name in problems[0]
    assert "-CREATE INDEX x ON y (z);" in problems[1]
    assert "catalog_0001_gone.sql" in problems[2]


@needs_sqlmigrate
def test_write_sql_files_repairs_the_directory_and_deletes_orphans(tmp_path):
    write_sql_files(tmp_path)
    stale = sql_file_path(*CONCURRENT_MIGRATIONS[0], tmp_path)
    stale.write_text("stale\n")
    (tmp_path / "catalog_0001_gone.sql").write_text("-- left behind\n")

    changes = write_sql_files(tmp_path)

    assert len(changes) == 2
    assert not (tmp_path / "catalog_0001_gone.sql").exists()
    assert sql_file_problems(tmp_path) == []
    assert write_sql_files(tmp_path) == []


@pytest.mark.django_db
def test_makemigrations_finds_no_missing_migrations():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:  # makemigrations --check exits 1 when models and migrations differ
        pytest.fail(f"models have changes without a migration:\n{out.getvalue()}")

    assert "No changes detected" in out.getvalue()


# --- The CONCURRENTLY rule -----------------------------------------------------------------------


def test_project_migrations_have_no_index_violations():
    assert index_violations() == []


def test_plain_add_index_on_an_existing_table_is_reported():
    migration = synthetic([migrations.AddIndex("product", LISTING_INDEX)])

    problems = check_migration(migration)

    assert len(problems) == 1
    assert "catalog.0999_synthetic" in problems[0]
    assert "adds an index to an existing table without CONCURRENTLY" in problems[0]


def test_add_index_on_a_model_created_in_the_same_migration_is_allowed():
    create = migrations.CreateModel(
        "Coupon",
        fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("code", models.CharField(max_length=32)),
        ],
    )
    index = models.Index(fields=["code"], name="coupon_code_idx")

    assert check_migration(synthetic([create, migrations.AddIndex("coupon", index)])) == []


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX foo ON bar (x)",
        "create unique index foo on bar (x)",
        "CREATE INDEX IF NOT EXISTS foo ON bar (x)",
        ["SELECT 1", ("CREATE\n  INDEX foo ON bar (x)", None)],
    ],
    ids=["plain", "unique-lowercase", "if-not-exists", "list-with-params"],
)
def test_run_sql_creating_an_index_without_concurrently_is_reported(sql):
    problems = check_migration(synthetic([migrations.RunSQL(sql)], atomic=False))

    assert len(problems) == 1
    assert "creates an index without CONCURRENTLY" in problems[0]


def test_run_sql_rolling_back_to_a_blocking_index_is_reported():
    operation = migrations.RunSQL(
        "DROP INDEX CONCURRENTLY foo", reverse_sql="CREATE INDEX foo ON bar (x)"
    )

    problems = check_migration(synthetic([operation], atomic=False))

    assert len(problems) == 1
    assert "reverse_sql creates an index without CONCURRENTLY" in problems[0]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY foo ON bar (x)",
        "create unique index concurrently if not exists foo on bar (x)",
        "-- was: CREATE INDEX foo ON bar (x)\nCREATE INDEX CONCURRENTLY foo ON bar (x)",
    ],
    ids=["plain", "unique-lowercase", "commented-out-blocking"],
)
def test_run_sql_creating_an_index_concurrently_is_allowed(sql):
    assert check_migration(synthetic([migrations.RunSQL(sql)], atomic=False)) == []


def test_run_sql_with_concurrently_in_an_atomic_migration_is_reported():
    operation = migrations.RunSQL("CREATE INDEX CONCURRENTLY foo ON bar (x)")

    problems = check_migration(synthetic([operation], atomic=True))

    assert len(problems) == 1
    assert "atomic migration" in problems[0]


@pytest.mark.parametrize(
    "operation",
    [
        AddIndexConcurrently("product", LISTING_INDEX),
        RemoveIndexConcurrently("product", "product_listed_name_idx"),
    ],
    ids=["add", "remove"],
)
def test_concurrent_index_operation_in_an_atomic_migration_is_reported(operation):
    problems = check_migration(synthetic([operation], atomic=True))

    assert len(problems) == 1
    assert "atomic migration" in problems[0]
    assert "set atomic = False" in problems[0]


def test_concurrent_index_with_a_second_operation_is_reported():
    operations = [
        AddIndexConcurrently("product", LISTING_INDEX),
        migrations.AddField("product", "sku_hint", models.CharField(max_length=20, default="")),
    ]

    problems = check_migration(synthetic(operations, atomic=False))

    assert len(problems) == 1
    assert "must be in its own migration (found 2 operations)" in problems[0]


def test_concurrent_index_alone_in_a_non_atomic_migration_is_allowed():
    operation = AddIndexConcurrently("product", LISTING_INDEX)

    assert check_migration(synthetic([operation], atomic=False)) == []


def test_adding_a_foreign_key_or_unique_field_to_an_existing_table_is_reported():
    foreign_key = models.ForeignKey("catalog.tag", models.PROTECT, null=True)
    operations = [
        migrations.AddField("product", "main_tag", foreign_key),
        migrations.AddField(
            "product", "ean", models.CharField(max_length=13, null=True, unique=True)
        ),
        migrations.AddField("product", "note", models.CharField(max_length=20, default="")),
    ]

    problems = check_migration(synthetic(operations))

    assert len(problems) == 2
    assert "product.main_tag" in problems[0]
    assert "product.ean" in problems[1]


def test_unique_constraint_on_an_existing_table_is_reported_but_a_check_constraint_is_not():
    unique = models.UniqueConstraint(fields=["name"], name="product_name_uniq")
    check = models.CheckConstraint(condition=models.Q(name__gt=""), name="product_name_set")

    problems = check_migration(
        synthetic(
            [
                migrations.AddConstraint("product", unique),
                migrations.AddConstraint("product", check),
            ]
        )
    )

    assert len(problems) == 1
    assert "UniqueConstraint 'product_name_uniq'" in problems[0]


def test_alter_field_is_reported_only_when_it_adds_an_index(catalog_state):
    indexes_name = migrations.AlterField(
        "product", "name", models.CharField(max_length=200, db_index=True)
    )
    widens_slug = migrations.AlterField(
        "product", "slug", models.SlugField(max_length=255, unique=True)
    )

    problems = check_migration(synthetic([indexes_name, widens_slug]), catalog_state)

    assert len(problems) == 1
    assert "AlterField product.name" in problems[0]


def test_unique_index_built_concurrently_behind_separate_state_is_allowed():
    """Allow the house pattern for a unique constraint on a live table: a concurrent index first."""
    operation = migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AddConstraint(
                "product", models.UniqueConstraint(fields=["name"], name="product_name_uniq")
            )
        ],
        database_operations=[
            migrations.RunSQL(
                'CREATE UNIQUE INDEX CONCURRENTLY "product_name_uniq" '
                'ON "catalog_product" ("name")',
                reverse_sql='DROP INDEX CONCURRENTLY "product_name_uniq"',
            )
        ],
    )

    assert check_migration(synthetic([operation], atomic=False)) == []
