"""Serializer fields stricter than DRF's defaults, for money and quantities."""

from decimal import Decimal

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """Accept only a JSON integer: not a float, a numeric string or a boolean."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# Query strings: the OpenAPI pattern of each field is the exact set of values the server takes, so
# a client (or a schema fuzzer) can tell a valid value from an invalid one without asking.
# Blank is allowed beside each pattern (OpenAPI: one of the pattern or an empty string), so the
# patterns themselves never match an empty string.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
PRICE_PATTERN = r"^\d{1,10}(\.\d{1,2})?$"


def cursor_field() -> serializers.RegexField:
    """An opaque cursor as the lists issue it (url-safe base64); blank is the first page."""
    return serializers.RegexField(
        CURSOR_PATTERN,
        required=False,
        allow_blank=True,
        max_length=512,
        trim_whitespace=False,
        help_text="Opaque: take it from a page's `next` or `previous` link (it continues that "
        "list, in its ordering). Blank: the first page.",
    )


class PriceQueryField(serializers.RegexField):
    """A non-negative amount with at most two decimals; blank means no filter (a cleared box)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            PRICE_PATTERN, required=False, allow_blank=True, trim_whitespace=False, **kwargs
        )

    def run_validation(self, data=serializers.empty) -> Decimal | None:
        # After the pattern (validators run after to_internal_value): only matching text is parsed.
        text = super().run_validation(data)
        return Decimal(text) if text else None


class QueryBooleanField(serializers.ChoiceField):
    """``true`` or ``false`` exactly (blank: no filter), as the OpenAPI enum says.

    DRF's BooleanField also takes ``1``, ``yes``, ``on``, ``null``...: values a client cannot
    learn from the schema, and that a schema-driven client would expect to be refused.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=["true", "false"], required=False, allow_blank=True, **kwargs)

    def run_validation(self, data=serializers.empty) -> bool | None:
        value = super().run_validation(data)
        return None if value in ("", None, serializers.empty) else value == "true"
