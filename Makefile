# shopfast: `make serve` runs the service with demo data, `make test` runs every check.
# Lazy (=): `make help` needs no uv.
UV = $(shell scripts/ensure-uv)
RUN = $(UV) run --frozen

.PHONY: help serve test sync lint format seed bench contract perf-compare perf-checkout perf-gate perf-regressions perf-gate-regression test-pgbouncer sql-check import-bench import-bench-small import-api cluster cluster-down cluster-status cluster-smoke cluster-drill

help: ## list the targets
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / {printf "  make %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

sync: ## install the locked dependencies into .venv (uv; installed into .tools/ when missing)
	$(UV) sync --frozen

serve: sync ## migrate, seed 10,000 products into an empty DB, serve on http://127.0.0.1:8000
	$(RUN) python manage.py serve

test: sync lint ## ruff, then the whole pytest suite (real PostgreSQL and Redis, embedded if absent)
	$(RUN) pytest

lint: ## ruff check and ruff format --check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: ## ruff format and ruff check --fix
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

seed: sync ## make seed PRODUCTS=100000
	$(RUN) python manage.py seed_catalog --products $${PRODUCTS:-10000} --seed $${SEED:-42}

bench: sync ## in-process benchmarks, JSON kept in perf/reports/
	mkdir -p perf/reports
	$(RUN) pytest benchmarks --benchmark-enable --benchmark-json=perf/reports/benchmarks.json

perf-compare: sync ## wrk: hello-world vs our product list (cached, uncached) vs a DRF ModelViewSet; ratio gates
	$(RUN) python -m perf.http_compare

perf-checkout: sync ## wrk: /healthz vs checkout (500 SKUs, one hot SKU) vs add-to-cart; gates on their ratios
	$(RUN) python -m perf.checkout_compare

contract: sync ## schemathesis, every check, against the real server (authenticated and anonymous): 0 failures
	$(RUN) python -m perf.contract

test-pgbouncer: sync ## checkout concurrency, stock-feed and lock tests once through pgbouncer (transaction pooling)
	$(RUN) python -m perf.pgbouncer test apps/orders/tests/test_concurrency.py apps/inventory/tests/test_feeds.py apps/inventory/tests/test_locks.py -q

perf-gate: sync ## Locust through pgbouncer + granian (2 workers, prod settings): fails on errors, p95, throughput, stock invariants
	$(RUN) python -m perf.gate

perf-regressions: sync ## the wrk gates with deliberate regressions: passes only if each comparison fails
	PERF_INJECT_REGRESSION=sleep $(RUN) python -m perf.http_compare --rounds 1 --report perf/reports/http_compare_regressed.json; test $$? -eq 1
	PERF_INJECT_REGRESSION=write-sleep $(RUN) python -m perf.checkout_compare --rounds 1 --report perf/reports/checkout_compare_regressed.json; test $$? -eq 1

perf-gate-regression: sync ## the gate with a deliberate 100 ms sleep in the product list: passes only if the gate fails
	$(RUN) python -m perf.gate --inject sleep; test $$? -eq 1

sql-check: sync ## the migration SQL files in migrations_sql/ match sqlmigrate
	$(RUN) python manage.py migrations_sql --check

import-bench: sync ## 1,000,000-row catalog, stock and price imports as commands: rows/s, peak RSS, vs save() loops
	$(RUN) python -m perf.import_bench --rows 1000000 --baseline-rows 5000

import-bench-small: sync ## the same on 50,000 rows, plus COPY + SQL vs the ORM bulk API on 20,000
	$(RUN) python -m perf.import_bench --rows 50000 --baseline-rows 1000 --compare-rows 20000 --no-gate


import-api: sync ## 1,000,000 catalog rows through POST /api/v1/imports/ and the worker: time, rows/s, peak RSS of web and worker
	$(RUN) python -m perf.import_api --rows $${ROWS:-1000000}
cluster: sync ## etcd + Patroni (primary, synchronous standby) + pgbouncer + HAProxy + Redis + 3 app instances + worker, on loopback
	$(RUN) python -m perf.cluster up

cluster-down: ## stop every process make cluster started
	$(RUN) python -m perf.cluster down

cluster-status: ## Patroni's members, the cluster's processes and URLs
	$(RUN) python -m perf.cluster status

cluster-smoke: sync ## start the cluster, a read served by the replica, writes seen at once on every instance, stop it
	$(RUN) python -m perf.cluster_checks

cluster-drill: sync ## kill the standby, an app instance, Redis, then the primary under load: lost, duplicated, stock, 5xx
	$(RUN) python -m perf.cluster_drill
