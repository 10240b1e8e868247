"""Timing for the in-run ratio gates: interleaved rounds, run in a child on production settings.

A gate compares two timings taken in the same run, round by round, so a slow or busy machine moves
both sides together; it never compares against a time measured elsewhere. The child process runs
without the test settings' N+1 detector patches, which tax ORM-heavy baselines far more than ours
(see bench_product_list.py), and reads the calling test's committed data.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import zeal

from benchmarks.bench_product_list import BASE_DIR, n_plus_one_listeners_paused, production_env

CHILD_SCRIPT = (
    "import importlib, json, sys; import django; django.setup(); "
    "module, name = sys.argv[1].split(':'); "
    "print(json.dumps(getattr(importlib.import_module(module), name)(*sys.argv[2:])))"
)


@contextlib.contextmanager
def detectors_paused() -> Iterator[None]:
    """Switch both N+1 detectors off while a benchmark repeats a call already made under them.

    Repeats add no coverage. Left on, zeal walks the stack on every relation access (even inside
    ``zeal_ignore``) and nplusone keeps every loaded instance, and both would be timed with the
    code. nplusone's queryset patches stay installed regardless (see bench_renderers.py).
    """
    # zeal has no public "off": setup() remembers the test's context in its token, teardown()
    # without a token installs a disabled one, teardown(token) puts the test's context back.
    token = zeal.setup()
    zeal.teardown()
    try:
        with n_plus_one_listeners_paused():
            yield
    finally:
        zeal.teardown(token)


def interleaved_samples(
    candidates: dict[str, Callable[[], object]], rounds: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Warm up, then time each candidate once per round, alternating who goes first."""
    for _ in range(warmup):
        for run in candidates.values():
            run()
    names = list(candidates)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for n in range(rounds):
        # Alternate the order so neither always runs right after the other's garbage.
        for name in names if n % 2 == 0 else reversed(names):
            start = time.perf_counter()
            candidates[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


def best(samples: dict[str, list[float]]) -> dict[str, float]:
    """Keep each candidate's fastest round: noise on a shared machine only ever adds time."""
    return {name: min(times) for name, times in samples.items()}


def child_run(target: str, *args: str, timeout: float = 300) -> Any:
    """Call ``"module:function"`` with ``args`` in a child on production settings; return its
    JSON-decoded result (the function's return value must be JSON-serializable)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT, target, *args],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
