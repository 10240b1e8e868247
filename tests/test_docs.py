"""The README and docs/ as a newcomer uses them: every command works as written after the first
README command, every link names a file of the repository, the API walk-through runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands

from tests import live_server

BASE_DIR = Path(__file__).resolve().parent.parent
DOCS = [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").glob("*.md"))]
VENV_BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(?:sh|bash|console)?\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`((?:\.venv/bin/|make |scripts/|uv |python -m )[^`]*)`")


def shell_lines(text: str) -> list[str]:
    """Commands of the fenced shell blocks and inline code spans, continuation lines joined."""
    lines = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    lines += INLINE.findall(text)
    return lines


def make_targets() -> set[str]:
    makefile = (BASE_DIR / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE))


def problem(command: str, targets: set[str]) -> str | None:
    """Why ``command`` would not work as written in a fresh clone after `make serve`, or None."""
    try:
        words = shlex.split(command.replace("$(", "").replace("<", "").replace(">", ""))
    except ValueError:  # a quote opened on a line and closed on the next: the words are enough
        words = command.split()
    assignments = []
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value prefixes
        assignments.append(words.pop(0))
    if not words:
        return None
    head = words[0]
    if head == "uv":
        return "uv is not on every machine: use scripts/uv (or .venv/bin/...)"
    if head == "make":
        missing = [
            w for w in words[1:] if not w.startswith("-") and "=" not in w and w not in targets
        ]
        return f"no make target {missing}" if missing else None
    if head.startswith(".venv/bin/"):
        tool = VENV_BIN / head.removeprefix(".venv/bin/")
        if not tool.exists():
            return f"{head} is not installed by make"
        # silk's commands exist with PROFILING=1 only (its app is installed only then).
        silk = words[2:3] and words[2].startswith("silk_") and "PROFILING=1" in assignments
        if words[1:2] == ["manage.py"] and words[2] not in get_commands() and not silk:
            return f"no management command {words[2]}"
        if words[1:2] == ["-m"] and find_spec(words[2]) is None:
            return f"no module {words[2]}"
    if head.startswith("scripts/") and not os.access(BASE_DIR / head, os.X_OK):
        return f"{head} is not an executable of the repository"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_in_the_docs_works_as_written(doc):
    targets = make_targets()
    problems = [
        (line, why) for line in shell_lines(doc.read_text()) if (why := problem(line, targets))
    ]
    assert problems == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_docs_link_only_files_of_the_repository(doc):
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if not re.match(r"https?://|mailto:", target):
            assert (doc.parent / target).resolve().exists(), target
    assert not re.search(r"(?<![\w.])/(work|root|home)/", text), "a path outside the repository"


def test_make_help_lists_every_target():
    done = subprocess.run(
        ["make", "help"], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    listed = set(re.findall(r"make (\S+)", done.stdout))
    assert listed == make_targets() - {"help"} | {"help"}


# --- the API walk-through (docs/api.md) against a real server ------------------------------------
PLACEHOLDERS = re.compile(r"<(slug|sku|line id|number)>")


@pytest.fixture
def catalog_server(transactional_db):
    call_command("seed_catalog", products=30, seed=5, verbosity=0)
    with live_server.launched(workers=1) as (_, port):
        yield port


def resolve(port: int, token: str, name: str) -> str:
    """A real value for a placeholder of the walk-through, from the server's current state."""
    auth = {"Authorization": f"Token {token}"}
    if name in ("slug", "sku"):
        products = json.loads(live_server.get(port, "/api/v1/products/?in_stock=true")[1])
        slug = products["results"][0]["slug"]
        if name == "slug":
            return slug
        detail = json.loads(live_server.get(port, f"/api/v1/products/{slug}/")[1])
        skus = [v["sku"] for v in detail["variants"] if v["available"] >= 5]
        assert skus, detail["variants"]
        return skus[0]
    if name == "line id":
        cart = json.loads(live_server.request(port, "GET", "/api/v1/cart/", headers=auth)[1])
        return str(cart["lines"][0]["id"])
    orders = json.loads(live_server.request(port, "GET", "/api/v1/orders/", headers=auth)[1])
    return orders["results"][0]["number"]


def test_the_api_walk_through_runs_against_a_real_server(catalog_server):
    port = catalog_server
    text = (BASE_DIR / "docs" / "api.md").read_text()
    lines = [
        line for block in FENCE.findall(text) for line in block.replace("\\\n", " ").splitlines()
    ]
    curls = [line.split("  #")[0].strip() for line in lines if line.startswith("curl ")]
    documented_token = re.search(r"Token ([0-9a-f]{40})", text).group(1)
    env = {**os.environ, "B": f"http://127.0.0.1:{port}/api/v1"}
    token = None
    statuses = []
    for command in curls:
        if token:
            env["T"] = f"Authorization: Token {token}"
            command = PLACEHOLDERS.sub(lambda m, t=token: resolve(port, t, m.group(1)), command)
        done = subprocess.run(
            ["bash", "-c", command + " -w '\\nstatus=%{http_code}'"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        status = int(done.stdout.rsplit("status=", 1)[1])
        statuses.append((command[:70], status))
        if '"token"' in done.stdout and token is None:
            token = json.loads(done.stdout.rsplit("\n", 1)[0])["token"]
    assert token and documented_token not in env.get("T", "")
    assert len(curls) >= 15
    assert [s for s in statuses if not 200 <= s[1] < 300] == [], statuses
