"""Read and judge the wrk runs of ``perf.checkout_compare``: statuses, validity, summary."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from perf.http_compare import parse_wrk


@dataclass
class CheckoutRun:
    """One wrk run of one scenario, with the statuses checkout.lua counted."""

    scenario: str
    round: int
    requests: int
    orders_per_sec: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    samples: dict[int, str]
    socket_errors: int
    orders_created: int


def parse_statuses(output: str) -> tuple[dict[int, int], dict[int, str]]:
    """Read the per-status counts and sample bodies that perf/checkout.lua prints in done()."""
    counts = {
        int(code): int(count)
        for code, count in re.findall(r"^checkout-status (\d+) (\d+)$", output, re.MULTILINE)
    }
    samples = {
        int(code): body
        for code, body in re.findall(r"^checkout-sample (\d+) (.*)$", output, re.MULTILINE)
    }
    if not counts:
        raise ValueError(f"wrk output has no checkout-status lines:\n{output}")
    return counts, samples


def run_from_output(output: str, scenario: str, round_: int, orders_created: int) -> CheckoutRun:
    wrk = parse_wrk(output, scenario, round_)
    statuses, samples = parse_statuses(output)
    ok = statuses.get(201, 0)
    return CheckoutRun(
        scenario=scenario,
        round=round_,
        requests=wrk.requests,
        orders_per_sec=wrk.requests_per_sec * ok / wrk.requests if wrk.requests else 0.0,
        p50_ms=wrk.p50_ms,
        p99_ms=wrk.p99_ms,
        statuses=statuses,
        samples=samples,
        socket_errors=wrk.socket_errors,
        orders_created=orders_created,
    )


def run_problems(run: CheckoutRun, connections: int) -> list[str]:
    """Return why this run is not a valid measurement (empty when it is)."""
    problems = []
    label = f"{run.scenario} round {run.round}"
    others = {code: n for code, n in run.statuses.items() if code != 201}
    for code, count in sorted(others.items()):
        sample = run.samples.get(code, "")
        problems.append(f"{label}: {count} responses with status {code}: {sample}")
    if run.socket_errors:
        problems.append(f"{label}: {run.socket_errors} socket errors")
    if sum(run.statuses.values()) != run.requests:
        problems.append(
            f"{label}: wrk counted {run.requests} requests, the script saw a different number"
        )
    ok = run.statuses.get(201, 0)
    # wrk stops counting at the deadline; the server still finishes what was in flight.
    if not 0 <= run.orders_created - ok <= connections:
        problems.append(f"{label}: {run.orders_created} orders created for {ok} responses 201")
    return problems


def summarize(runs: list[CheckoutRun], scenarios: list[str]) -> dict[str, dict]:
    summary = {}
    for name in scenarios:
        mine = [r for r in runs if r.scenario == name]
        summary[name] = {
            "orders_per_sec": round(statistics.fmean(r.orders_per_sec for r in mine), 1),
            "p50_ms": round(statistics.median(r.p50_ms for r in mine), 2),
            "p99_ms": round(max(r.p99_ms for r in mine), 2),
            "orders": sum(r.statuses.get(201, 0) for r in mine),
            "other_statuses": sum(n for r in mine for c, n in r.statuses.items() if c != 201),
            "socket_errors": sum(r.socket_errors for r in mine),
        }
    return summary


def markdown_table(summary: dict[str, dict]) -> str:
    lines = [
        "| scenario | orders/s | p50 ms | p99 ms | orders | non-201 | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {s['orders_per_sec']:.1f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | "
        f"{s['orders']} | {s['other_statuses']} | {s['socket_errors']} |"
        for name, s in summary.items()
    ]
    return "\n".join(lines)
