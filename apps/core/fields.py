"""Serializer fields stricter than DRF's defaults, for money and quantities."""

from rest_framework import serializers


class StrictIntegerField(serializers.IntegerField):
    """Accept only a JSON integer: not a float, a numeric string or a boolean."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
