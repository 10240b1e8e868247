"""Account domain errors."""

from apps.core.errors import DomainError


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    default_detail = "Unable to log in with the provided credentials."


class TooManyFailedLogins(DomainError):
    status_code = 429
    code = "throttled"
    default_detail = "Too many failed logins for this account or address; wait and try again."

    def __init__(self, wait: int) -> None:
        super().__init__()
        self.retry_after = wait


class HashingBusy(DomainError):
    status_code = 503
    code = "busy"
    default_detail = "Too many logins are being checked right now; retry in a moment."
    retry_after = 1
