"""OpenAPI schemas shared by every app (documentation only)."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSchema(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Document the error envelope for these statuses."""
    return {status: OpenApiResponse(ErrorSchema) for status in statuses}
