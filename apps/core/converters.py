"""URL converters: an id that cannot be a bigint is a 404, never a database error."""

from django.urls import register_converter


class BigIntIdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(BigIntIdConverter, "id")
