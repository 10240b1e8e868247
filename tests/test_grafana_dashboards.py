"""Grafana dashboards and provisioning: well-formed, and every metric they query is exported."""

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from rest_framework.test import APIClient

from apps.orders.models import Order
from apps.orders.payments import TestProvider
from apps.orders.tests import conftest as orders_fixtures
from apps.orders.tests.shops import Shop, shop_build
from apps.payments.tasks import reservations_expire
from apps.payments.tests.conftest import event, signed, webhook
from config.celery_metrics import SENT_AT_HEADER

test_payments = orders_fixtures.test_payments  # the orders tests' fixture, shared here

GRAFANA = Path(__file__).resolve().parent.parent / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
# The annotation Grafana adds to every dashboard; it queries Grafana itself, not Prometheus.
BUILTIN_ANNOTATIONS = {"type": "grafana", "uid": "-- Grafana --"}

# PromQL pieces that are not metric names, removed before looking for identifiers.
STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
BRACES = re.compile(r"\{[^}]*\}")
RANGES = re.compile(r"\[[^\]]*\]")
GROUPINGS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENTIFIER = re.compile(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "on", "ignoring"}
KEYWORDS |= {"group_left", "group_right", "by", "without"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
EQUALITY = re.compile(r'(\w+)\s*=\s*"([^"$]*)"')
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$")
# Absent under `manage.py serve`: prometheus_client's multiprocess collector exports neither the
# process/platform collectors nor the _created samples, so a panel on them would stay empty.
SINGLE_PROCESS_ONLY = re.compile(r"^(process_|python_)|_created$")


def metric_names(expr: str) -> set[str]:
    """Return the metric names a PromQL expression reads (functions, labels and ranges dropped)."""
    expr = STRINGS.sub('""', expr)
    expr = GROUPINGS.sub(" ", RANGES.sub(" ", BRACES.sub(" ", expr)))
    return {
        name for name, call in IDENTIFIER.findall(expr) if not call and name.lower() not in KEYWORDS
    }


def label_equalities(expr: str) -> Iterator[tuple[str, str, str]]:
    """Yield (metric, label, value) for each literal ``label="value"`` matcher on a metric."""
    for metric, matchers in SELECTOR.findall(expr):
        for label, value in EQUALITY.findall(matchers):
            yield metric, label, value


def panels_of(dashboard: dict) -> Iterator[dict]:
    """Yield every panel, rows included, and the panels of collapsed rows."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries_of(dashboard: dict) -> Iterator[tuple[str, str]]:
    """Yield (where, PromQL) for every panel target and every query variable."""
    for panel in panels_of(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} (id {panel['id']})", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            query = query["query"] if isinstance(query, dict) else query
            match = LABEL_VALUES.match(query)
            assert match, f"variable {variable['name']}: only label_values(...) is understood"
            yield f"variable ${variable['name']}", match.group(1)


def datasource_refs(node) -> Iterator[dict]:
    """Yield every ``datasource`` value anywhere in a dashboard."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            yield from datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_there_is_an_overview_dashboard():
    assert GRAFANA / "dashboards" / "shopfast-overview.json" in DASHBOARDS


class TestMetricNames:
    """The extractor the export check relies on."""

    def test_functions_label_matchers_ranges_and_groupings_are_not_metric_names(self):
        expr = (
            'histogram_quantile(0.95, sum by (le, view) (rate(http_seconds_bucket{job=~"$job", '
            'view="checkout"}[$__rate_interval]))) / ignoring(le) group_left sum(up offset 5m)'
        )

        assert metric_names(expr) == {"http_seconds_bucket", "up"}

    def test_strings_of_label_replace_are_not_metric_names(self):
        expr = 'sum by (c) (label_replace(rate(a_total[1m]), "c", "${1}xx", "status", "(.).."))'

        assert metric_names(expr) == {"a_total"}

    def test_both_sides_of_a_binary_operation_are_read(self):
        assert metric_names("a_total / (b_total + c) > bool 0.5") == {"a_total", "b_total", "c"}

    def test_literal_label_equalities_are_found_and_regexes_and_variables_skipped(self):
        expr = 'a{x="1", y=~"2", z!="3", v="$view"} + b{ w = "4" }'

        assert list(label_equalities(expr)) == [("a", "x", "1"), ("b", "w", "4")]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
class TestDashboard:
    def test_it_is_a_recent_schema_with_a_prometheus_datasource_variable(self, path):
        dashboard = load(path)

        assert dashboard["schemaVersion"] >= 39
        assert dashboard["uid"] and dashboard["title"]
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["DS_PROMETHEUS"]["type"] == "datasource"
        assert variables["DS_PROMETHEUS"]["query"] == "prometheus"

    def test_no_datasource_is_hard_coded(self, path):
        refs = list(datasource_refs(load(path)))

        assert refs
        assert [r for r in refs if r not in (DATASOURCE, BUILTIN_ANNOTATIONS)] == []

    def test_every_panel_has_a_title_the_datasource_variable_and_queries(self, path):
        for panel in panels_of(load(path)):
            assert panel.get("title"), panel
            if panel["type"] == "row":
                continue
            where = f"panel {panel['title']!r}"
            assert panel.get("datasource") == DATASOURCE, where
            assert panel.get("targets"), where
            for target in panel["targets"]:
                assert target.get("expr", "").strip(), where
                assert target.get("datasource") == DATASOURCE, where
            ref_ids = [t["refId"] for t in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), where

    def test_panel_ids_are_unique(self, path):
        ids = [panel["id"] for panel in panels_of(load(path))]

        assert len(ids) == len(set(ids)), sorted(ids)

    def test_no_panel_reads_a_metric_that_the_multiprocess_server_does_not_export(self, path):
        names = {name for _, expr in queries_of(load(path)) for name in metric_names(expr)}

        assert sorted(n for n in names if SINGLE_PROCESS_ONLY.search(n)) == []


def test_dashboard_uids_are_unique():
    uids = [load(path)["uid"] for path in DASHBOARDS]

    assert len(uids) == len(set(uids))


def exercise_the_app(shop: Shop, payments: type[TestProvider]) -> str:
    """Drive the real endpoints so every labelled series exists, then return ``/metrics``.

    prometheus_client shows a labelled counter only once a child was incremented, and checkout,
    cancellation and invalidation counters move in on_commit hooks: hence a transactional test.
    """
    client = APIClient()
    listing = client.get(reverse("product-list"))
    assert listing.status_code == 200
    assert client.get(reverse("product-list")).status_code == 200
    assert (
        client.get(reverse("product-list"), HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 304
    )
    detail = reverse("product-detail", args=[shop.variants[2].product.slug])
    assert client.get(detail).status_code == 200
    assert client.get(reverse("product-detail", args=["no-such-thing"])).status_code == 404

    registered = client.post(
        reverse("auth-register"),
        {"username": "grafana", "email": "grafana@example.com", "password": "plum-orbit-velvet-42"},
        format="json",
    )
    assert registered.status_code == 201, registered.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {registered.json()['token']}")

    def checkout(key: str, sku: str, quantity: int):
        body = {"lines": [{"sku": sku, "quantity": quantity}]}
        return client.post(reverse("checkout"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)

    # All 10 units of SKU-01: a stock row crosses zero, so both invalidation scopes move.
    placed = checkout("buy-all", shop.sku(1), 10)
    assert placed.status_code == 201, placed.content
    assert shop.stock(1) == 0
    assert checkout("buy-all", shop.sku(1), 10).status_code == 201  # replay
    assert checkout("sold-out", shop.sku(1), 1).status_code == 409
    payments.decline_next()
    assert checkout("declined", shop.sku(3), 1).status_code == 402
    number = placed.json()["number"]
    assert client.post(reverse("order-cancel", args=[number])).status_code == 200

    exercise_the_background_work(client, shop)

    # A failing statement and a refused connection, for the database error counters.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    default = connections[DEFAULT_DB_ALIAS]
    unreachable = type(default)({**default.settings_dict, "HOST": "127.0.0.1", "PORT": 1})
    with pytest.raises(DatabaseError):
        unreachable.ensure_connection()

    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    return metrics.content.decode()


def exercise_the_background_work(client: APIClient, shop: Shop) -> None:
    """Pending payments settled every way, and one run of a task (signals fire as in a worker)."""
    with override_settings(PAYMENT_PROVIDER="deferred"):
        numbers = []
        for i in range(4):
            body = {"lines": [{"sku": shop.sku(5 + i), "quantity": 1}]}
            answer = client.post(
                reverse("checkout"), body, format="json", HTTP_IDEMPOTENCY_KEY=f"pending-{i}"
            )
            assert answer.status_code == 202, answer.content
            numbers.append(answer.json()["number"])
    for number, outcome in zip(numbers, ["succeeded", "failed", "succeeded"], strict=False):
        body, signature = signed(event(number, outcome))
        answer = APIClient().generic(
            "POST", reverse("payments-webhook"), body, content_type="application/json",
            HTTP_X_SHOPFAST_SIGNATURE=signature,
        )  # fmt: skip
        assert answer.status_code == 200
    assert webhook(event(numbers[0]), signature="sha256=0").status_code == 400
    Order.objects.filter(number=numbers[3]).update(expires_at=timezone.now())
    assert reservations_expire.apply(headers={SENT_AT_HEADER: time.time()}).get() == 1


@pytest.fixture
def shop(transactional_db) -> Shop:
    """The orders tests' stocked shop, in a transactional test so on_commit hooks run."""
    return shop_build()


@pytest.mark.django_db(transaction=True)
def test_every_metric_and_label_value_the_dashboards_query_is_exported(shop, test_payments):
    samples: list[Sample] = [
        sample
        for family in text_string_to_metric_families(exercise_the_app(shop, test_payments))
        for sample in family.samples
    ]
    exported = {sample.name for sample in samples}
    label_values = {(s.name, label, value) for s in samples for label, value in s.labels.items()}

    missing = []
    for path in DASHBOARDS:
        for where, expr in queries_of(load(path)):
            for name in sorted(metric_names(expr) - exported):
                missing.append(f"{path.name}: {where}: {name} is not exported")
            for metric, label, value in label_equalities(expr):
                if metric in exported and (metric, label, value) not in label_values:
                    missing.append(f'{path.name}: {where}: no {metric}{{{label}="{value}"}}')
    assert not missing, "\n".join(dict.fromkeys(missing))


class TestProvisioning:
    def test_the_datasource_is_the_default_prometheus(self):
        config = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())

        (datasource,) = config["datasources"]
        assert datasource["type"] == "prometheus"
        assert datasource["isDefault"] is True
        assert datasource["url"].startswith("http")

    def test_the_dashboard_provider_points_at_the_dashboards_folder(self):
        config = yaml.safe_load((GRAFANA / "provisioning/dashboards/shopfast.yml").read_text())

        (provider,) = config["providers"]
        assert provider["type"] == "file"
        path = Path(provider["options"]["path"].replace("${SHOPFAST_GRAFANA_DIR}", str(GRAFANA)))
        assert path.is_dir(), path
        assert sorted(path.glob("*.json")) == DASHBOARDS

    def test_prometheus_scrapes_the_app_every_15_seconds(self):
        config = yaml.safe_load((GRAFANA / "prometheus.yml").read_text())

        (job,) = config["scrape_configs"]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert job["scrape_interval"] == "15s"
        assert [t for c in job["static_configs"] for t in c["targets"]] == ["127.0.0.1:8000"]
