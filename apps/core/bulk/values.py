"""Parse one field of an imported row; each parser raises ``BadValue`` with a readable reason."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from apps.core.bulk.report import RowError, value_preview

SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+\Z")
CURRENCY_RE = re.compile(r"[A-Z]{3}\Z")
# The common shape of a valid price ("19.99"): accepted without the full checks of ``money``.
PLAIN_MONEY_RE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?\Z")
MONEY_LIMIT = Decimal("1e10")  # DecimalField(max_digits=12, decimal_places=2)
INT_MAX = 2**31 - 1  # PostgreSQL integer


class BadValue(ValueError):
    """The field cannot be stored; ``str()`` is the reason for the error report."""


def checked(errors: list[RowError], line: int, column: str, parse, raw: str):
    """Return ``parse(raw)``, or None after adding the reason it failed to ``errors``."""
    try:
        return parse(raw)
    except BadValue as error:
        errors.append(RowError(line, column, str(error)))
        return None


def duplicate(line: int, column: str, key: str, what: str = "") -> RowError:
    """The error for a key that an earlier line of the same file already had."""
    return RowError(
        line,
        column,
        f"duplicate {column} {value_preview(key)}{what}: it already appears on an earlier line",
    )


def text(value: str, *, max_length: int, required: bool = True) -> str:
    """Strip ``value``; check it is present (if required), short enough and has no NUL."""
    value = value.strip()
    if not value:
        if required:
            raise BadValue("required, found an empty value")
        return value
    if len(value) > max_length:
        raise BadValue(f"longer than {max_length} characters ({len(value):,})")
    if "\x00" in value:
        raise BadValue("contains a NUL character")
    return value


def slug(value: str, *, max_length: int) -> str:
    """A non-empty slug: letters, digits, hyphens and underscores only."""
    value = text(value, max_length=max_length)
    if not SLUG_RE.match(value):
        raise BadValue(f"{value_preview(value)} is not a slug (letters, digits, - and _)")
    return value


def money(value: str) -> Decimal:
    """A price: a non-negative decimal with at most two decimal places, below 10^10."""
    raw = value.strip()
    try:
        if "_" in raw or not raw.isascii():  # Decimal() would take "1_000" and Arabic digits
            raise InvalidOperation
        amount = Decimal(raw)
    except InvalidOperation:
        raise BadValue(f"{value_preview(raw)} is not a number") from None
    if not amount.is_finite():
        raise BadValue(f"{value_preview(raw)} is not a finite number")
    if amount < 0:
        raise BadValue(f"must not be negative, got {raw}")
    if amount >= MONEY_LIMIT:
        raise BadValue(f"must be below 10,000,000,000, got {raw}")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise BadValue(f"has more than two decimal places: {raw}")
    return amount


def currency(value: str) -> str:
    """A three-letter ISO 4217 code (any case in, upper case out)."""
    code = value.strip().upper()
    if not CURRENCY_RE.match(code):
        raise BadValue(f"{value_preview(value)} is not a three-letter currency code")
    return code


def quantity(value: str) -> int:
    """A whole number of units, zero or more."""
    raw = value.strip()
    try:
        if "_" in raw or not raw.isascii():  # int() would take "1_000" and Arabic digits
            raise ValueError
        number = int(raw)
    except ValueError:
        raise BadValue(f"{value_preview(raw)} is not a whole number") from None
    if number < 0:
        raise BadValue(f"must not be negative, got {number}")
    if number > INT_MAX:
        raise BadValue(f"must be at most {INT_MAX:,}, got {number:,}")
    return number


class SeenKeys:
    """Remember which keys (SKUs...) a run has seen, as 64-bit hashes: ~65 MB per million keys.

    Strings with the line of their first occurrence would take about three times that; the price
    is that a duplicate is reported without that line. Two distinct keys share a hash with odds of
    about 1 in 10^7 per million-row file.
    """

    def __init__(self) -> None:
        self._hashes: set[int] = set()

    def add(self, key: object) -> bool:
        """Record ``key``; return False if it was already seen."""
        digest = hash(key)
        if digest in self._hashes:
            return False
        self._hashes.add(digest)
        return True

    def __len__(self) -> int:
        return len(self._hashes)
