"""Catalog write errors."""

from apps.core.errors import DomainError


class CatalogWriteInvalid(DomainError):
    code = "invalid"
    default_detail = "The catalog write has invalid fields."
