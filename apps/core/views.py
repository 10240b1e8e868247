"""Operational endpoints: liveness, readiness."""

import logging

from django.db import connection
from django_redis import get_redis_connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class HealthzView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        responses=inline_serializer("Health", {"status": serializers.CharField()}), tags=["ops"]
    )
    def get(self, request):
        return Response({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    # The cache backend swallows errors (IGNORE_EXCEPTIONS); ask Redis directly.
    get_redis_connection("default").ping()


class ReadyzView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    checks = {"database": _check_database, "cache": _check_cache}

    @extend_schema(
        responses={
            200: inline_serializer(
                "Ready", {"status": serializers.CharField(), "checks": serializers.DictField()}
            ),
            503: inline_serializer(
                "NotReady",
                {
                    "code": serializers.CharField(),
                    "detail": serializers.CharField(),
                    "checks": serializers.DictField(),
                },
            ),
        },
        tags=["ops"],
    )
    def get(self, request):
        results = {}
        for name, check in self.checks.items():
            try:
                check()
                results[name] = "ok"
            except Exception as exc:  # any failure means "not ready", whatever raised it
                logger.warning("readyz: %s failed: %s", name, exc)
                results[name] = "failed"
        failed = [name for name, result in results.items() if result != "ok"]
        if failed:
            body = {
                "code": "not_ready",
                "detail": f"{', '.join(failed)} not answering",
                "checks": results,
            }
            return Response(body, status=503)
        return Response({"status": "ok", "checks": results})
