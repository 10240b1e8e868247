"""Command-line option parsing shared by the management commands."""

from django.core.management.base import CommandError


def whole_number(option: str, raw: str, minimum: int) -> int:
    """Parse an option given as text; a bad value is a CommandError, never an argparse exit."""
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise CommandError(f"{option} must be an integer >= {minimum}, got {raw!r}")
    return value
