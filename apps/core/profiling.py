"""django-silk with secrets masked in what it stores (only installed with ``PROFILING=1``).

Silk masks credentials in request bodies (``SILKY_SENSITIVE_KEYS``) but stores response bodies as
they are: the token of every ``/auth/token/`` and ``/auth/register/`` answer sat in clear text in
``/silk/``. Each response record is masked before it is saved.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from django.db.models.signals import pre_save

MASK = "********"


def _sensitive_words() -> set[str]:
    from silk.config import SilkyConfig

    return {word.lower() for word in SilkyConfig().SILKY_SENSITIVE_KEYS}


def _sensitive(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in _sensitive_words())


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if _sensitive(str(k)) else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def body_mask(body: str | bytes | None) -> str | bytes | None:
    """Return ``body`` with the value of every sensitive key replaced (JSON, or key-value text)."""
    if not body:
        return body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        masked = json.dumps(_masked(json.loads(text)), sort_keys=True, indent=4)
    except ValueError:
        keys = "|".join(re.escape(word) for word in sorted(_sensitive_words()))
        pattern = rf'(?i)("?\w*(?:{keys})\w*"?\s*[:=]\s*"?)[^",&\s}}]+'
        masked = re.sub(pattern, rf"\g<1>{MASK}", text)
    return masked.encode() if isinstance(body, bytes) else masked


def _response_mask(sender, instance, **kwargs) -> None:
    instance.body = body_mask(instance.body)
    if instance.raw_body:  # base64 of the bytes sent
        raw = base64.b64decode(instance.raw_body)
        instance.raw_body = base64.b64encode(body_mask(raw)).decode()


def profiling_connect() -> None:
    """Mask every silk response record before it is stored (idempotent)."""
    from silk.models import Response

    pre_save.connect(_response_mask, sender=Response, dispatch_uid="shopfast-silk-mask")
