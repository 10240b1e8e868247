"""Domain errors: raised by services and selectors, rendered by the one exception handler."""

from typing import Any


class DomainError(Exception):
    """A business-rule failure the client can act on; maps to a 4xx JSON envelope."""

    status_code = 400
    code = "bad_request"
    default_detail = "The request could not be processed."
    retry_after: int | None = None  # seconds, sent as Retry-After when set

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)

    def as_payload(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class InvalidQuery(DomainError):
    code = "invalid"
    default_detail = "Invalid query parameters."
