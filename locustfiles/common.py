"""Shared by the locustfiles: request groups, what counts as success, the catalog sample.

Every request carries a ``name`` from ``GROUPS``: Locust aggregates by it, and the perf gate's
thresholds (perf/thresholds.toml) are set per name. A response counts as a success only with a
status the contract promises for that request (``expect``); anything else is a failure, with the
start of the body in the message.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import secrets
import threading
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

API = "/api/v1"
GROUPS = (
    "categories",
    "list",
    "list:next",
    "search",
    "detail",
    "detail:404",
    "conditional",
    "auth:register",
    "cart",
    "cart:add",
    "cart:remove",
    "checkout",
    "checkout:replay",
    "orders",
    "orders:cancel",
    "checkout:deferred",
    "payments:webhook",
    "hello",
)
SAMPLE_PAGES = 8  # list pages of 100 read once per process to learn slugs, tags and SKUs
SAMPLE_DETAILS = 60  # product details read to learn SKUs


def expect(response, *statuses: int, code: str | None = None) -> bool:
    """Mark ``response`` (opened with ``catch_response=True``) a success iff its status is expected.

    ``code``: a 409 must carry this error code to count (a sold-out SKU is expected; another
    conflict is not).
    """
    if response.status_code in statuses:
        if response.status_code == 409 and code is not None:
            body = _json(response)
            if not isinstance(body, dict) or body.get("code") != code:
                response.failure(f"409 without code {code!r}: {response.text[:200]}")
                return False
        response.success()
        return True
    response.failure(f"status {response.status_code}: {(response.text or '')[:200]}")
    return False


def _json(response):
    try:
        return response.json()
    except (ValueError, TypeError):
        return None


def idempotency_key() -> str:
    return uuid.uuid4().hex


_users = itertools.count()


def user_rng(kind: str) -> random.Random:
    """Return a random stream of its own for each new user, the same from run to run.

    The same requests in every run (as far as scheduling allows) keep cache hit ratios, and so
    throughput, comparable between runs; ``LOCUST_SEED`` picks another set of streams.
    """
    return random.Random(f"{os.environ.get('LOCUST_SEED', '1')}-{kind}-{next(_users)}")


# No hex digit in a password: Django's similarity validator compares character multisets, and two
# random hex strings (a uuid username and a uuid password) came out "too similar" 1 time in ~25.
_PASSWORD_ALPHABET = "GHJKLMNPQRSTUVWXYZghjkmnpqrstuvwxyz"


def registration_body(prefix: str) -> dict[str, str]:
    """Return a new user's registration: unique name, a password no validator refuses."""
    name = f"{prefix}-{uuid.uuid4().hex[:20]}"
    password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(24))
    return {"username": name, "email": f"{name}@load.invalid", "password": password}


def register(client, prefix: str) -> str:
    """Register a new user through the API with ``client`` (a Locust user's); return its token."""
    with client.post(
        f"{API}/auth/register/",
        json=registration_body(prefix),
        name="auth:register",
        catch_response=True,
    ) as response:
        if not expect(response, 201):
            raise RuntimeError(f"registration failed: {response.status_code}")
        return response.json()["token"]


_buyer_tokens: list[str] | None = None
_next_buyer = itertools.count()


def buyer_token(client, prefix: str) -> str:
    """The next token of ``FLASH_TOKENS_FILE`` (one per buyer, made by the perf gate before the
    sale, as a shop has its customers), else a newly registered user's."""
    global _buyer_tokens
    if _buyer_tokens is None:
        path = os.environ.get("FLASH_TOKENS_FILE")
        _buyer_tokens = Path(path).read_text().split() if path else []
    index = next(_next_buyer)
    return _buyer_tokens[index] if index < len(_buyer_tokens) else register(client, prefix)


def think_time(default: float = 0.0) -> float:
    """Return the longest pause between a user's tasks (``LOCUST_WAIT_MAX``; 0: none)."""
    return float(os.environ.get("LOCUST_WAIT_MAX", default))


@dataclass
class CatalogSample:
    """What browsing and buying pick from: learnt through the public API, once per process."""

    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    # Variants that had units when sampled, by currency (a cart holds one currency).
    skus: dict[str, list[str]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)

    def skus_of_one_currency(self, rng: random.Random) -> list[str]:
        """Return the SKUs of one currency, picked in proportion to how many it has."""
        currencies = sorted(self.skus)
        weights = [len(self.skus[c]) for c in currencies]
        return self.skus[rng.choices(currencies, weights)[0]]

    def filters(self, rng: random.Random) -> dict[str, str]:
        """Return a random, realistic combination of list filters."""
        params: dict[str, str] = {}
        if self.categories and rng.random() < 0.6:
            params["category"] = rng.choice(self.categories)
        if self.tags and rng.random() < 0.2:
            params["tag"] = rng.choice(self.tags)
        if rng.random() < 0.3:
            params["in_stock"] = rng.choice(("true", "false"))
        if rng.random() < 0.2:
            low = rng.choice((5, 10, 20, 50))
            params["min_price"] = str(low)
            params["max_price"] = str(low * rng.choice((2, 4, 10)))
        params["ordering"] = rng.choice(("price", "-price", "name", "-created_at"))
        if rng.random() < 0.3:
            params["page_size"] = rng.choice(("12", "48"))
        return params


_sample: CatalogSample | None = None
_sample_lock = threading.Lock()


def catalog_sample(host: str) -> CatalogSample:
    """Return this process's sample of the catalog at ``host``, reading it on first use.

    Plain urllib, not the users' clients: the sampling is set-up, not load, and stays out of the
    statistics the gate judges.
    """
    global _sample
    with _sample_lock:
        if _sample is None:
            _sample = _read_sample(host.rstrip("/"))
    return _sample


def _get(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _read_sample(host: str) -> CatalogSample:
    sample = CatalogSample()
    sample.categories = [c["slug"] for c in _get(f"{host}{API}/categories/") if c["product_count"]]
    url = f"{host}{API}/products/?page_size=100"
    tags, words = set(), set()
    for _ in range(SAMPLE_PAGES):
        page = _get(url)
        for product in page["results"]:
            sample.slugs.append(product["slug"])
            tags.update(product["tags"])
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", product["name"]))
        if not page["next"]:
            break
        url = page["next"]
    sample.tags, sample.words = sorted(tags), sorted(words)
    for slug in random.Random(1).sample(sample.slugs, min(SAMPLE_DETAILS, len(sample.slugs))):
        detail = _get(f"{host}{API}/products/{slug}/")
        in_stock = [v["sku"] for v in detail["variants"] if v["available"] > 0]
        sample.skus.setdefault(detail["currency"], []).extend(in_stock)
    if not (sample.slugs and sample.skus):
        raise RuntimeError(f"{host} lists no products with stock: seed the catalog first")
    return sample
