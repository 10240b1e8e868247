"""Operational endpoints: liveness, readiness, metrics."""

import ipaddress
import logging
import time
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection
from django.http import HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from prometheus_client import Counter
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.caching import remote
from apps.core.exceptions import json_error

logger = logging.getLogger(__name__)


class HealthzView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(
        summary="Liveness probe",
        description="`200` while the process answers; touches no dependency.",
        responses=inline_serializer("Health", {"status": serializers.CharField()}),
        tags=["ops"],
    )
    def get(self, request):
        return Response({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_cache() -> str:
    # Through the breaker, which logs an outage once per interval (not once per probe).
    return "ok" if remote.available() else "degraded"


class ReadyzView(APIView):
    """Ready while the database answers; Redis away is reported, not a reason to leave.

    The API keeps serving without Redis (from PostgreSQL, throttles per process): taking every
    instance out of a load balancer over one Redis blip would turn a slowdown into an outage.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    checks = {"database": _check_database, "cache": _check_cache}

    @extend_schema(
        summary="Readiness probe",
        description=(
            "`200` while the database answers, with each dependency's state in `checks` "
            "(`cache: degraded` while Redis is away: the API still serves); `503` when the "
            "database does not answer."
        ),
        responses={
            200: inline_serializer(
                "Ready", {"status": serializers.CharField(), "checks": serializers.DictField()}
            ),
            503: OpenApiResponse(
                inline_serializer(
                    "NotReady",
                    {
                        "code": serializers.CharField(),
                        "detail": serializers.CharField(),
                        "checks": serializers.DictField(),
                    },
                ),
                description='The database does not answer (code "not_ready"); `Retry-After` '
                "says when to ask again.",
            ),
        },
        tags=["ops"],
    )
    def get(self, request):
        results = {}
        for name, check in self.checks.items():
            try:
                results[name] = check()
            except Exception as exc:  # any failure means "not ready", whatever raised it
                logger.warning("readyz: %s failed: %s", name, exc)
                results[name] = "failed"
        if results["database"] != "ok":
            body = {"code": "not_ready", "detail": "database not answering", "checks": results}
            return Response(body, status=503, headers={"Retry-After": "5"})
        return Response({"status": "ok", "checks": results})


def metrics(request):
    """Serve Prometheus text to a scraper with the bearer token, or from an allowed network.

    With ``METRICS_TOKEN`` set, ``Authorization: Bearer <token>`` is required from anywhere
    (``401`` otherwise); without it, only clients in ``METRICS_ALLOWED_NETWORKS`` (loopback by
    default) are served (``403`` otherwise). The figures name endpoints, error rates and
    database timings: nothing an anonymous client should read.
    """
    token = settings.METRICS_TOKEN
    if token:
        presented = request.headers.get("Authorization", "")
        if not constant_time_compare(presented, f"Bearer {token}"):
            challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
            return json_error(
                "not_authenticated", "A metrics bearer token is required.", 401, challenge
            )
    elif not _address_allowed(request.META.get("REMOTE_ADDR", "")):
        return json_error("permission_denied", "Metrics are not served to this address.", 403)
    return ExportToDjangoView(request)


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _allowed_networks())


@cache
def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(
        ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS
    )


setting_changed.connect(lambda **kwargs: _allowed_networks.cache_clear(), weak=False)


CSP_VIOLATIONS = Counter(
    "shopfast_csp_violations_total", "Content-Security-Policy violations browsers reported."
)


_csp_logged = [0.0]  # monotonic time of the last report logged by this process


@csrf_exempt
def csp_report(request):
    """Count a browser's Content-Security-Policy violation report (the body is capped upstream).

    Anyone can post here: every report is counted, but one is logged per
    ``CACHE_OUTAGE_LOG_SECONDS`` at most, so a client cannot fill the logs.
    """
    if request.method != "POST":
        return json_error("method_not_allowed", "Reports are POSTed.", 405, {"Allow": "POST"})
    CSP_VIOLATIONS.inc()
    now = time.monotonic()
    if now - _csp_logged[0] >= settings.CACHE_OUTAGE_LOG_SECONDS:
        _csp_logged[0] = now
        logger.warning("csp violation: %s", request.body[:500].decode("utf-8", "replace"))
    return HttpResponse(status=204)
