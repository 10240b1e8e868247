"""Run a management command the way a shell would: capture its output and its exit status."""

import io

from django.core.management import CommandError, call_command


def run_command(name: str, *args, **options) -> tuple[str, str, int]:
    """Run ``name``; return (stdout, stderr, exit status), a CommandError being a non-zero exit."""
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=stdout, stderr=stderr, **options)
        status = 0
    except CommandError as error:
        stderr.write(str(error))
        status = error.returncode
    return stdout.getvalue(), stderr.getvalue(), status
