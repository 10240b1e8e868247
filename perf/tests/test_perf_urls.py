"""The benchmark baseline and hello-world view are reachable only through the perf URLconf."""

import pytest
from django.conf import settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from config.settings import base

PERF_ONLY_PATHS = ["/perf/hello/", "/perf/baseline/products/", "/perf/baseline/products/any-slug/"]


def _callback_modules(patterns) -> set[str]:
    modules = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            modules |= _callback_modules(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            modules.add(getattr(callback, "cls", callback).__module__)
    return modules


def test_production_settings_route_through_the_production_urlconf():
    assert base.ROOT_URLCONF == "config.urls"
    assert settings.ROOT_URLCONF == "config.urls"


@pytest.mark.parametrize("path", PERF_ONLY_PATHS)
def test_production_urls_do_not_serve_perf_only_paths(path):
    with pytest.raises(Resolver404):
        resolve(path, urlconf="config.urls")


@pytest.mark.parametrize("path", PERF_ONLY_PATHS)
def test_perf_urlconf_serves_perf_only_paths(path):
    assert resolve(path, urlconf="perf.urls").func is not None


def test_no_production_route_is_served_by_benchmark_code():
    modules = _callback_modules(get_resolver("config.urls").url_patterns)
    assert modules, "the production URLconf resolved no views at all"
    assert not [m for m in modules if m.startswith(("benchmarks.", "perf."))]


def test_perf_urlconf_keeps_every_production_route():
    prod = {str(p.pattern) for p in get_resolver("config.urls").url_patterns}
    perf = {str(p.pattern) for p in get_resolver("perf.urls").url_patterns}
    assert prod <= perf
