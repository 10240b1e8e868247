"""bulk_run: batches in transactions, rows the database refuses isolated, deadlocks retried."""

import threading
from typing import NamedTuple

import pytest
from django.db import connection, connections, transaction

from apps.catalog.models import Tag
from apps.core.bulk.pipeline import BatchFailed
from apps.core.bulk.reader import RowReader
from apps.core.bulk.report import ErrorReport, RowError
from apps.core.bulk.run import bulk_run


class TagRow(NamedTuple):
    line: int
    slug: str
    name: str


class TagImporter:
    """Inserts tags; checks only that a slug is present, so the database refuses the rest."""

    name = "import_tags"
    columns = ("slug", "name")

    def __init__(self, before_write=None) -> None:
        self.batches: list[list[int]] = []
        self.in_transaction: list[bool] = []
        self.finished = False
        self.before_write = before_write

    def validate(self, rows):
        valid, errors = [], []
        for line, (slug, name) in rows:
            if slug.strip():
                valid.append(TagRow(line, slug.strip(), name))
            else:
                errors.append(RowError(line, "slug", "required"))
        return valid, errors

    def write(self, rows):
        self.batches.append([row.line for row in rows])
        self.in_transaction.append(connection.in_atomic_block)
        if self.before_write:
            self.before_write()
        Tag.objects.bulk_create(Tag(slug=row.slug, name=row.name) for row in rows)
        return []

    def finish(self):
        self.finished = True


@pytest.fixture
def tag_file(tmp_path):
    def write(lines):
        path = tmp_path / "tags.csv"
        path.write_text("slug,name\n" + "".join(f"{line}\n" for line in lines))
        return path

    return write


def run(path, importer, batch_size=3, errors_path=None):
    with ErrorReport(None, errors_path) as report:
        summary = bulk_run(
            RowReader(path, importer.columns), importer, report=report, batch_size=batch_size
        )
    return summary, report


@pytest.mark.django_db
def test_every_batch_is_written_in_its_own_transaction(tag_file):
    importer = TagImporter()

    summary, report = run(tag_file([f"t{n},Tag {n}" for n in range(10)]), importer)

    assert importer.batches == [[2, 3, 4], [5, 6, 7], [8, 9, 10], [11]]
    assert all(importer.in_transaction)
    assert importer.finished
    assert Tag.objects.count() == 10
    assert (summary.read, summary.written, summary.rejected, report.count) == (10, 10, 0, 0)
    assert summary.ok


@pytest.mark.django_db
def test_rows_the_database_refuses_are_isolated_and_the_rest_of_the_batch_is_written(tag_file):
    Tag.objects.create(slug="taken", name="Taken")
    lines = [f"t{n},Tag {n}" for n in range(12)]
    lines[4] = "taken,Again"  # line 6: unique slug
    lines[9] = "long," + "x" * 200  # line 11: longer than the column
    importer = TagImporter()

    summary, report = run(tag_file(lines), importer, batch_size=5)

    stored = set(Tag.objects.values_list("slug", flat=True))
    assert stored == {"taken"} | {f"t{n}" for n in range(12) if n not in (4, 9)}
    assert (summary.read, summary.written, summary.rejected) == (12, 10, 2)
    assert report.count == 2


@pytest.mark.django_db
def test_refused_and_invalid_rows_go_to_the_error_file_in_line_order(tag_file, tmp_path):
    Tag.objects.create(slug="taken", name="Taken")
    lines = [f"t{n},Tag {n}" for n in range(10)] + [",no slug", "taken,Again", "only-one-field"]
    errors_path = tmp_path / "errors.csv"

    summary, _ = run(tag_file(lines), TagImporter(), batch_size=4, errors_path=errors_path)

    rows = errors_path.read_text().splitlines()
    assert rows[0] == "line,column,reason"
    assert [row.split(",")[0] for row in rows[1:]] == ["12", "13", "14"]
    assert "required" in rows[1]
    assert "refused by the database" in rows[2] and "duplicate key" in rows[2]
    assert "expected 2 fields, found 1" in rows[3]
    assert not summary.ok


@pytest.mark.django_db
def test_a_database_failure_that_is_not_about_the_rows_stops_the_run(tag_file):
    def time_out():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(0.2)")

    importer = TagImporter(before_write=time_out)

    with pytest.raises(BatchFailed, match="lines 2-4 were not written") as failure:
        run(tag_file([f"t{n},Tag {n}" for n in range(10)]), importer)

    assert "statement timeout" in str(failure.value)
    assert Tag.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_loses_a_deadlock_is_retried(tag_file):
    # A real deadlock: the batch locks tag A then B; another transaction locks B then A.
    first, second = Tag.objects.create(slug="a", name="A"), Tag.objects.create(slug="b", name="B")
    locked_b, attempts = threading.Event(), []

    def other_writer():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '10s'")  # so the batch is the victim
                cursor.execute("SELECT 1 FROM catalog_tag WHERE id = %s FOR UPDATE", [second.pk])
                locked_b.set()
                cursor.execute("SELECT 1 FROM catalog_tag WHERE id = %s FOR UPDATE", [first.pk])
        finally:
            connections.close_all()

    def lock_both():
        attempts.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL deadlock_timeout = '100ms'")
            cursor.execute("SELECT 1 FROM catalog_tag WHERE id = %s FOR UPDATE", [first.pk])
            if len(attempts) == 1:
                thread.start()
                assert locked_b.wait(10)
            cursor.execute("SELECT 1 FROM catalog_tag WHERE id = %s FOR UPDATE", [second.pk])

    thread = threading.Thread(target=other_writer)
    importer = TagImporter(before_write=lock_both)

    summary, _ = run(tag_file([f"t{n},Tag {n}" for n in range(10)]), importer, batch_size=20)
    thread.join(10)

    assert len(attempts) == 2
    assert summary.written == 10
    assert Tag.objects.count() == 12


@pytest.mark.django_db
def test_batch_size_must_be_positive(tag_file):
    with pytest.raises(ValueError, match="batch_size"):
        run(tag_file(["a,A"]), TagImporter(), batch_size=0)


class RecordingImporter(TagImporter):
    """Also records which backend wrote each batch; ``partition`` keys rows by slug prefix."""

    def __init__(self, partitioned: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.writes: list[tuple[int, list[int], list[str]]] = []
        if partitioned:
            self.partition = lambda row: hash(row.slug.split("-")[0])

    def write(self, rows):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        self.writes.append((pid, [row.line for row in rows], [row.slug for row in rows]))
        return super().write(rows)


def run_parallel(path, importer, batch_size=3, writers=2):
    with ErrorReport(None) as report:
        summary = bulk_run(
            RowReader(path, importer.columns),
            importer,
            report=report,
            batch_size=batch_size,
            writers=writers,
        )
    return summary, report


@pytest.mark.django_db(transaction=True)
def test_two_writers_share_the_batches_each_on_its_own_connection(tag_file):
    importer = RecordingImporter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        main_pid = cursor.fetchone()[0]

    summary, report = run_parallel(tag_file([f"t{n},Tag {n}" for n in range(20)]), importer)

    pids = {pid for pid, _, _ in importer.writes}
    assert len(pids) == 2 and main_pid not in pids
    assert sorted(line for _, lines, _ in importer.writes for line in lines) == list(range(2, 22))
    assert (summary.read, summary.written, report.count) == (20, 20, 0)
    assert Tag.objects.count() == 20
    assert importer.finished


@pytest.mark.django_db(transaction=True)
def test_rows_of_one_partition_go_to_one_writer_in_file_order(tag_file):
    lines = [f"{'abcd'[n % 4]}-{n},Tag {n}" for n in range(24)]
    importer = RecordingImporter(partitioned=True)

    summary, _ = run_parallel(tag_file(lines), importer, batch_size=4)

    assert summary.written == 24
    for key in "abcd":
        writes = [
            (pid, line)
            for pid, lines_, slugs in importer.writes
            for line, slug in zip(lines_, slugs, strict=True)
            if slug.startswith(key)
        ]
        assert len({pid for pid, _ in writes}) == 1
        assert [line for _, line in writes] == sorted(line for _, line in writes)


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_isolate_refused_rows_and_report_invalid_ones(tag_file):
    Tag.objects.create(slug="taken", name="Taken")
    lines = [f"t{n},Tag {n}" for n in range(12)]
    lines[3], lines[8] = "taken,Again", ",no slug"

    summary, report = run_parallel(tag_file(lines), RecordingImporter(), batch_size=4)

    assert (summary.read, summary.written, summary.rejected, report.count) == (12, 10, 2, 2)
    assert Tag.objects.count() == 11


@pytest.mark.django_db(transaction=True)
def test_a_failing_writer_stops_the_whole_parallel_run(tag_file):
    def time_out():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(0.2)")

    importer = RecordingImporter(before_write=time_out)

    with pytest.raises(BatchFailed, match="statement timeout"):
        run_parallel(tag_file([f"t{n},Tag {n}" for n in range(40)]), importer)

    assert not importer.finished
    assert Tag.objects.count() == 0
