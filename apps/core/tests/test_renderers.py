from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail

from apps.core.renderers import dumps


def test_decimals_error_details_and_lazy_text_render_as_strings():
    body = {
        "price": Decimal("19.90"),
        "detail": ErrorDetail("bad", code="x"),
        "t": gettext_lazy("Hi"),
    }
    assert dumps(body) == b'{"price":"19.90","detail":"bad","t":"Hi"}'


def test_an_unknown_type_is_an_error_not_silently_stringified():
    with pytest.raises(TypeError):
        dumps({"x": object()})
