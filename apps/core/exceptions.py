"""Map every error to the contract's envelope: {"code", "detail"[, "fields"][, ...]}."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.core.errors import DomainError


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for v in detail.values() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for v in detail for m in _flatten(v)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    if not isinstance(detail, dict):
        return {"non_field_errors": _flatten(detail)}
    return {str(key): _flatten(value) for key, value in detail.items()}


def envelope(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "detail": detail, **extra}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Render domain errors and DRF/Django errors in the error envelope."""
    if isinstance(exc, DomainError):
        set_rollback()
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Response(exc.as_payload(), status=exc.status_code, headers=headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django's 500 handler log it and answer with the envelope

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    set_rollback()

    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        first = next(iter(fields.values()), ["Invalid input."])
        body = envelope("invalid", first[0] if first else "Invalid input.", fields=fields)
        return Response(body, status=exc.status_code, headers=headers)

    detail = exc.detail
    text = " ".join(_flatten(detail)) if not isinstance(detail, str) else str(detail)
    code = detail.code if hasattr(detail, "code") else exc.default_code
    return Response(envelope(code, text), status=exc.status_code, headers=headers)


def json_error(code: str, detail: str, status_code: int, headers: dict[str, str] | None = None):
    """The error envelope as a plain Django response (outside DRF: middleware, handlers)."""
    from django.http import HttpResponse

    from apps.core.renderers import dumps

    return HttpResponse(
        dumps(envelope(code, detail)),
        status=status_code,
        content_type="application/json",
        headers=headers,
    )


def bad_request(request, exception=None):
    return json_error("bad_request", "Bad request.", status.HTTP_400_BAD_REQUEST)


def permission_denied(request, exception=None):
    return json_error("permission_denied", "Permission denied.", status.HTTP_403_FORBIDDEN)


def page_not_found(request, exception=None):
    return json_error("not_found", "Not found.", status.HTTP_404_NOT_FOUND)


def server_error(request):
    return json_error("server_error", "Internal server error.", 500)
