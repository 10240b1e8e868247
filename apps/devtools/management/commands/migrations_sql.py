"""Keep migrations_sql/ equal to sqlmigrate's output for every CONCURRENTLY-index migration."""

import sys

from django.core.management.base import BaseCommand

from apps.devtools.migration_lint import sql_file_problems, write_sql_files


class Command(BaseCommand):
    help = (
        "Write migrations_sql/<app>_<migration>.sql (exactly what sqlmigrate prints) for every "
        "migration with AddIndexConcurrently/RemoveIndexConcurrently, deleting orphaned files. "
        "With --check, write nothing and exit 1 if any file is missing, stale or orphaned."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only verify the files; exit non-zero listing what is missing, stale or orphaned.",
        )

    def handle(self, *args, **options):
        if options["check"]:
            problems = sql_file_problems()
            for problem in problems:
                self.stderr.write(problem)
            if problems:
                # Like makemigrations --check: a plain non-zero exit for CI, no traceback.
                sys.exit(1)
            self.stdout.write("migrations_sql/ is up to date.")
            return
        changes = write_sql_files()
        for change in changes:
            self.stdout.write(change)
        if not changes:
            self.stdout.write("migrations_sql/ is up to date.")
