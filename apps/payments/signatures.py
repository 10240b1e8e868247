"""Webhook signatures: ``X-Shopfast-Signature: sha256=<hex HMAC-SHA256 of the raw body>``."""

import hashlib
import hmac

PREFIX = "sha256="


def signature_of(body: bytes, secret: str) -> str:
    """Return the header value a provider sends with ``body``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """Check ``header`` against ``body`` in constant time; no secret accepts nothing."""
    if not secret or not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(signature_of(body, secret).encode(), header.strip().encode())
