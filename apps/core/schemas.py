"""OpenAPI: the shared error envelope, and the answers every operation of a kind can give.

``ShopAutoSchema`` (DRF's ``DEFAULT_SCHEMA_CLASS``) documents what a view's declaration leaves out
but the framework does anyway: ``401`` wherever a user is required, ``429`` wherever a throttle
applies, ``413`` wherever a body is read, ``503`` everywhere (the database away). It never shows
a view's docstring (implementation notes) as a client's description: operations say what they do
through ``extend_schema(summary=..., description=...)``.
"""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSchema(serializers.Serializer):
    code = serializers.CharField(help_text='Machine-readable, snake_case (e.g. "invalid").')
    detail = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Messages per input field; present when code is "invalid".',
    )


# What each status means wherever it is not described more precisely.
DESCRIPTIONS = {
    400: 'Invalid input: code "invalid" with messages per field in "fields", or '
    '"parse_error" for a body that is not JSON.',
    401: 'No valid "Authorization: Token <key>" header (code "not_authenticated" or '
    '"authentication_failed").',
    404: 'Not found (code "not_found").',
    406: 'The client does not accept JSON (code "not_acceptable").',
    409: "The request conflicts with the resource's current state.",
    415: 'The body is not application/json (code "unsupported_media_type").',
    422: "The request is well-formed but cannot be processed.",
    413: 'The declared body is over REQUEST_BODY_MAX_BYTES (code "request_too_large"); it is '
    "not read, and the connection is closed.",
    429: 'Too many requests (code "throttled"); "Retry-After" says how many seconds to wait.',
    503: 'The database cannot be reached (code "service_unavailable"); "Retry-After" says when '
    "to try again.",
}

EXAMPLES = {
    400: {"code": "invalid", "detail": "Ensure this value is greater than or equal to 1.",
          "fields": {"quantity": ["Ensure this value is greater than or equal to 1."]}},
    401: {"code": "not_authenticated", "detail": "Authentication credentials were not provided."},
    404: {"code": "not_found", "detail": "Not found."},
    429: {"code": "throttled", "detail": "Request was throttled. Expected available in 42 s."},
}  # fmt: skip


def error(status: int, description: str | None = None, example: dict | None = None):
    """Document the error envelope for ``status``, with a description and an example."""
    example = example or EXAMPLES.get(status)
    return OpenApiResponse(
        ErrorSchema,
        description=description or DESCRIPTIONS.get(status, ""),
        examples=[OpenApiExample(f"{status}", example, status_codes=[str(status)])]
        if example
        else [],
    )


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Document the error envelope for these statuses, each with its standard description."""
    return {status: error(status) for status in statuses}


# DRF's CharField refuses NUL (ProhibitNullCharactersValidator): say so where nothing else
# limits the characters.
NO_NUL = "^[^\\x00]*$"


class ShopAutoSchema(AutoSchema):
    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        _blank_in_pattern(schema)
        refuses_nul = any(
            isinstance(v, ProhibitNullCharactersValidator) for v in getattr(field, "validators", ())
        )
        if refuses_nul and schema.get("type") == "string" and not _constrained(schema):
            schema["pattern"] = NO_NUL

    def get_description(self) -> str:
        # drf-spectacular falls back on the view's docstring: notes for maintainers, not clients.
        return ""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        implied = []
        if any(not issubclass(cls, AllowAny) for cls in self.view.permission_classes):
            implied.append(401)
        if getattr(self.view, "throttle_classes", ()):
            implied.append(429)
        if self.method in ("POST", "PUT", "PATCH"):
            implied.append(413)
        implied.append(503)  # any operation may meet the database away
        for status in implied:
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error(status), str(status), direction=direction
                )
        return responses


def _constrained(schema: dict) -> bool:
    """True when ``schema`` already limits its characters (a pattern, enum or format)."""
    return any(key in schema for key in ("pattern", "enum", "format"))


BLANK = {"type": "string", "maxLength": 0}


def _blank_in_pattern(schema: dict) -> None:
    """Say "blank, or this pattern" as one pattern rather than drf-spectacular's ``oneOf``.

    The same set of strings; schema fuzzers (schemathesis' coverage phase) generate from a
    single pattern correctly, and took "0" for a valid currency under the ``oneOf``.
    """
    branches = schema.get("oneOf")
    if not branches or len(branches) != 2 or BLANK not in branches:
        return
    main = next(branch for branch in branches if branch != BLANK)
    pattern = main.get("pattern", "")
    if not (pattern.startswith("^") and pattern.endswith("$")) or "format" in main:
        return
    del schema["oneOf"]
    schema.update(main, pattern=f"^(?:{pattern[1:-1]})?$")
    schema.pop("minLength", None)
