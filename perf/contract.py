"""`make contract`: schemathesis against the real server, every check, zero failures allowed.

    make contract   (python -m perf.contract [--max-examples 100] [--seed 7] [--report-dir DIR])

The run's own database (created, migrated, seeded with 100 products, dropped at the end);
granian with production settings on a free loopback port, through the production launcher
(``config.web``). Through the API itself it registers a user, fills a cart and places orders, so
that path parameters and cursors name real resources. Then schemathesis runs twice over the
whole OpenAPI document, ``--checks all``: once with the user's token, once anonymous.

Its configuration (``schemathesis.toml``, written into the report folder) names real values for
``number``, ``slug`` and the two lists' ``cursor`` (opaque, server-issued: a random string of the
right characters is still not a cursor), and for the operations whose contract answers some
schema-valid requests with ``400`` or ``422`` (bad credentials, a taken username or a password the
validators refuse, an empty cart, a line over its limit, a reused idempotency key, a payment
webhook without the secret's signature) it says so.
Cart lines are found through the ``Location`` of the ``201`` that created them. Exit 0 only
when both runs report no failure; the last line reads ``contract: N passed, N failed``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from config import bootstrap
from config.bootstrap import database_url_named
from perf.gate_data import _manage
from perf.harness import HOST, CompareError, free_port, stop_server, wait_ready

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "shopfast_contract"
REPORT_ROOT = BASE_DIR / "perf" / "reports" / "contract"

# Operations whose contract refuses some schema-valid requests, with what and why
# (api-contract.md): the answer depends on state or secrets a schema cannot describe.
CONTRACT_REFUSALS = {
    "auth_token": ([400], "bad credentials are a 400"),
    "auth_register": ([400], "a taken username or email; a common password or one like them"),
    "cart_lines_create": ([400], "a line over CART_MAX_LINE_QUANTITY with what it already holds"),
    "checkout": (
        [400, 422],
        "an empty cart and no lines; a line over its limit; a key reused with another body",
    ),
    "payments_webhook": (
        [400],
        "a signature is an HMAC under a secret no schema holds: unsigned or wrongly signed "
        "bodies are a 400 (the signed paths are tested in apps/payments/tests)",
    ),
}


class ContractError(Exception):
    """The run could not be made (not a verdict on the API)."""


def call(port: int, method: str, path: str, body=None, token: str | None = None, **headers):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json", **headers}
    if token:
        headers["Authorization"] = f"Token {token}"
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return response.status, (json.loads(raw) if raw else None)


def expect(answer: tuple[int, object], status: int, what: str):
    if answer[0] != status:
        raise ContractError(f"{what}: {answer[0]} {answer[1]}")
    return answer[1]


def resources_make(port: int) -> dict[str, str]:
    """Create through the API what path parameters and cursors must name; return the token too."""
    user = f"contract-{uuid.uuid4().hex[:8]}"
    body = {"username": user, "email": f"{user}@example.com", "password": "Tq-contract-Pw!"}
    token = expect(call(port, "POST", "/api/v1/auth/register/", body), 201, "register")["token"]
    products = expect(call(port, "GET", "/api/v1/products/?page_size=2&in_stock=true"), 200, "list")
    detail = expect(
        call(port, "GET", f"/api/v1/products/{products['results'][0]['slug']}/"), 200, "d"
    )
    sku = next(v["sku"] for v in detail["variants"] if v["available"] > 0)
    numbers = []
    for _ in range(3):
        order = expect(
            call(
                port,
                "POST",
                "/api/v1/checkout/",
                {"lines": [{"sku": sku, "quantity": 1}]},
                token,
                **{"Idempotency-Key": uuid.uuid4().hex},
            ),
            201,
            "checkout",
        )
        numbers.append(order["number"])
    expect(call(port, "POST", "/api/v1/cart/lines/", {"sku": sku, "quantity": 1}, token), 201, "c")
    orders = expect(call(port, "GET", "/api/v1/orders/?page_size=1", token=token), 200, "orders")
    return {
        "token": token,
        "number": numbers[0],
        "products_cursor": products["next"].split("cursor=")[1].split("&")[0],
        "orders_cursor": orders["next"].split("cursor=")[1].split("&")[0],
        "slug": detail["slug"],
    }


def config_write(path: Path, found: dict[str, str]) -> None:
    """Write schemathesis.toml: real resources, and the contract's accepted 400s per operation."""
    lines = [
        "# Written by perf/contract.py for one run.",
        "[parameters]",
        f'"path.number" = "{found["number"]}"',
        f'"path.slug" = "{found["slug"]}"',
        "",
        "[[operations]]",
        'include-operation-id = "products_list"',
        f'parameters = {{ "query.cursor" = "{found["products_cursor"]}" }}',
        "",
        "[[operations]]",
        'include-operation-id = "orders_list"',
        f'parameters = {{ "query.cursor" = "{found["orders_cursor"]}" }}',
    ]
    for operation, (statuses, why) in CONTRACT_REFUSALS.items():
        expected = ["2XX", "3XX", 401, 403, 404, 409, 429, *statuses]
        lines += [
            "",
            f"# {why}",
            "[[operations]]",
            f'include-operation-id = "{operation}"',
            f"checks.positive_data_acceptance.expected-statuses = {json.dumps(expected)}",
        ]
    path.write_text("\n".join(lines) + "\n")


def schemathesis_run(config: Path, url: str, args, label: str, token: str | None) -> int:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        url,
        "--checks",
        "all",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        # One worker: with two, hypothesis' lambda descriptions parse source in two threads at
        # once, and CPython 3.11's parser can fail with "AST constructor recursion depth
        # mismatch" (a tool error, seen once in CI) instead of testing the operation.
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(args.out / f"{label}.xml"),
    ]
    if token:
        command += ["-H", f"Authorization: Token {token}"]
    print(f"contract: schemathesis, {label}", flush=True)
    with (args.out / f"{label}.txt").open("w") as log:
        done = subprocess.run(command, cwd=args.out, stdout=subprocess.PIPE, text=True, check=False)
        log.write(done.stdout)
    print("\n".join(done.stdout.splitlines()[-25:]), flush=True)
    return done.returncode


def server_start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "config.web", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    wait_ready(process, port, log)  # the harness's own wait: /healthz, or the log's tail
    return process


def database_reset(base_url: str, create: bool) -> str:
    with psycopg.connect(database_url_named(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    return database_url_named(base_url, DATABASE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.contract", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    args.out = args.report_dir or REPORT_ROOT / time.strftime("%Y%m%d-%H%M%S")
    args.out.mkdir(parents=True, exist_ok=True)
    bootstrap.discover()  # tooling: the local servers unless the environment names them
    base_url = os.environ["DATABASE_URL"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_reset(base_url, create=True),
        "CACHE_KEY_PREFIX": f"shopfast-contract-{uuid.uuid4().hex[:8]}",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        # The run checks the API, not the limiter: 429s are documented, but would be most answers.
        "THROTTLE_REGISTER": "1000000/min",
        "THROTTLE_TOKEN": "1000000/min",
        "THROTTLE_CHECKOUT": "1000000/min",
    }
    server = None
    results: dict[str, int] = {}
    try:
        _manage(env, "migrate", "--no-input", "-v", "0")
        # Demo data comes from the dev app, which production settings leave out.
        seed_env = {**env, "DJANGO_SETTINGS_MODULE": "perf.settings_perf"}
        _manage(seed_env, "seed_catalog", "--products", "100", "--seed", "3")
        port = free_port()
        server = server_start(env, port, args.out / "server.log")
        found = resources_make(port)
        config = args.out / "schemathesis.toml"
        config_write(config, found)
        url = f"http://{HOST}:{port}/api/schema/"
        results["authenticated"] = schemathesis_run(
            config, url, args, "authenticated", found["token"]
        )
        results["anonymous"] = schemathesis_run(config, url, args, "anonymous", None)
    except (ContractError, CompareError, RuntimeError, OSError, psycopg.Error) as exc:
        print(f"contract: the run broke: {exc}", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            stop_server(server)
        database_reset(base_url, create=False)
    failed = [label for label, code in results.items() if code != 0]
    for label, code in results.items():
        print(f"contract: {label}: schemathesis exit {code}")
    print(
        f"contract: {len(results) - len(failed)} passed, {len(failed)} failed (report {args.out})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
