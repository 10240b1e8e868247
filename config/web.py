"""Production launch: granian serving ``config.wsgi``, every worker's metrics in one scrape.

    python -m config.web [--host H] [--port P] [--workers N] [--blocking-threads T]

Runs nothing else: migrations and ``collectstatic`` are one separate deploy step, not the job of
each instance (README, "Production"). It replaces itself with granian (``exec``), so a supervisor's
stop signal reaches granian directly. Two things a bare ``granian`` command line gets wrong:

- metrics: prometheus_client keeps each worker's counters in that worker unless
  ``PROMETHEUS_MULTIPROC_DIR`` names a folder they all write to; a scrape then reports one worker's
  share. The folder is emptied at every launch (the figures of a previous run are not this one's);
- a worker that dies (OOM killer, segfault) is started again (``--respawn-failed-workers``) instead
  of granian exiting and the whole instance going with it.

Before that it runs Django's system checks and refuses to start on an error (a payment provider
that cannot be loaded, say), which a WSGI server never runs by itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STATIC_URL = "/static"
RESPAWN_INTERVAL = "1"  # seconds between a worker's death and its replacement (granian: 3.5)


def granian_command(
    host: str, port: int, workers: int, blocking_threads: int, *extra: str
) -> list[str]:
    """Return the granian command line that serves the app (the launcher and ``serve`` share it)."""
    return [
        sys.executable, "-m", "granian",
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        # granian's default of hundreds of threads measured 10-40% slower for this app.
        "--blocking-threads", str(blocking_threads),
        "--respawn-failed-workers",
        "--respawn-interval", RESPAWN_INTERVAL,
        "--no-ws",
        *extra,
        "config.wsgi:application",
    ]  # fmt: skip


def static_options(static_root: Path) -> list[str]:
    """granian serves the collected static files (admin, Swagger UI) itself, not through Django."""
    return ["--static-path-route", STATIC_URL, "--static-path-mount", str(static_root)]


def metrics_dir_fresh(path: Path) -> Path:
    """Empty ``path`` for this launch's workers and return it."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def checks_run(env: dict[str, str]) -> None:
    """Run ``manage.py check`` with the serving environment; exit on an error."""
    done = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "check"], env=env)
    if done.returncode != 0:
        sys.exit(f"shopfast: system checks failed (exit {done.returncode}); not serving")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m config.web", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default=env.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(env.get("WEB_WORKERS", "2")))
    parser.add_argument(
        "--blocking-threads", type=int, default=int(env.get("WEB_BLOCKING_THREADS", "2"))
    )
    args = parser.parse_args(argv)
    if args.workers < 1 or args.blocking_threads < 1:
        parser.error("--workers and --blocking-threads must be >= 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    env = os.environ.copy()
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
    default_dir = Path(tempfile.gettempdir()) / f"shopfast-metrics-{args.port}"
    metrics_dir = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or default_dir)
    checks_run(env)  # before the metrics folder is set: its figures are not the server's
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir_fresh(metrics_dir))
    static_root = Path(env.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
    static = static_options(static_root) if static_root.is_dir() else []
    if not static:
        print(f"shopfast: no static files at {static_root}: run collectstatic", file=sys.stderr)
    command = granian_command(args.host, args.port, args.workers, args.blocking_threads, *static)
    print(f"shopfast: {' '.join(command[1:])} (metrics in {metrics_dir})", flush=True)
    os.chdir(BASE_DIR)
    os.execve(sys.executable, command, env)


if __name__ == "__main__":
    main()
