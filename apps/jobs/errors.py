"""Import job errors."""

from apps.core.errors import DomainError


class ImportJobNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_detail = "No such import job."


class EmptyUpload(DomainError):
    code = "invalid"
    default_detail = "The file has no rows to import."


class ReportJobNotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_detail = "No such report job."
