"""The import graph: no cycles between apps or files, product code never imports tooling.

Product code is ``apps/`` and ``config/`` minus test modules and the dev, test and perf
settings; tooling is ``perf/``, ``benchmarks/``, ``tests/``, ``locustfiles/`` and every test
module. The graph is grimp's, built from the source (nothing is imported).
"""

from __future__ import annotations

import itertools

import grimp
import pytest

PACKAGES = ("apps", "config", "perf", "benchmarks", "tests", "locustfiles")
TOOLING_PACKAGES = {"perf", "benchmarks", "tests", "locustfiles"}
# Settings for the README's two commands and the test suite: they may discover local servers.
TOOLING_SETTINGS = {"config.settings.dev", "config.settings.test"}


def is_tooling(module: str) -> bool:
    parts = module.split(".")
    return (
        parts[0] in TOOLING_PACKAGES
        or "tests" in parts
        or parts[-1].startswith("test_")
        or parts[-1] == "conftest"
        or module in TOOLING_SETTINGS
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def product_modules(graph: grimp.ImportGraph) -> list[str]:
    return sorted(
        m for m in graph.modules if m.split(".")[0] in {"apps", "config"} and not is_tooling(m)
    )


def direct_imports(graph: grimp.ImportGraph, modules: list[str]) -> dict[str, set[str]]:
    return {m: graph.find_modules_directly_imported_by(m) for m in modules}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return each strongly connected component of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_and_nothing_else():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_file_imports_itself_back_through_others(graph):
    everything = sorted(graph.modules)
    assert cycles(direct_imports(graph, everything)) == []


def test_no_two_apps_import_each_other(graph):
    apps_edges: dict[str, set[str]] = {}
    for module, imported in direct_imports(graph, product_modules(graph)).items():
        if not module.startswith("apps."):
            continue
        app = module.split(".")[1]
        apps_edges.setdefault(app, set()).update(
            other.split(".")[1]
            for other in imported
            if other.startswith("apps.") and not is_tooling(other) and other.split(".")[1] != app
        )
    assert cycles(apps_edges) == []


def test_product_code_never_imports_tooling(graph):
    wrong = [
        f"{module} -> {other}"
        for module, imported in direct_imports(graph, product_modules(graph)).items()
        for other in imported
        if is_tooling(other)
    ]
    assert wrong == []


def test_perf_never_imports_benchmarks_and_benchmarks_no_test_conftest(graph):
    wrong = [
        f"{module} -> {other}"
        for module in sorted(graph.modules)
        for other in graph.find_modules_directly_imported_by(module)
        if (module.startswith("perf.") and other.startswith("benchmarks."))
        or (module.startswith("benchmarks.") and other.endswith(".conftest") and "tests" in other)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("module", "tooling"),
    [
        ("perf.gate", True),
        ("apps.orders.tests.shops", True),
        ("apps.catalog.tests.conftest", True),
        ("config.settings.test", True),
        ("apps.orders.services", False),
        ("config.settings.prod", False),
    ],
)
def test_what_counts_as_tooling(module, tooling):
    assert is_tooling(module) is tooling


def test_the_checks_see_the_whole_project(graph):
    # A package left out of PACKAGES or a broken build would make every check above vacuous.
    assert {"apps.orders.services", "config.settings.prod", "perf.gate"} <= graph.modules
    assert len(product_modules(graph)) > 100
    assert list(
        itertools.islice(graph.find_modules_directly_imported_by("apps.orders.services"), 1)
    )
