"""JSON request parsing with orjson: faster than the stdlib, and bounded nesting depth."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class ORJSONParser(BaseParser):
    """Parse JSON bodies; malformed, non-UTF-8 or too deeply nested input is a 400, never a 500.

    DRF's JSONParser lets a RecursionError from a deeply nested body escape as a 500; orjson
    stops at depth 1024 with a JSONDecodeError instead.
    """

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read() if stream is not None else b"")
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
