"""The locustfiles: what counts as a success, the user mix, and the filters browsing sends."""

import json
import random
import subprocess
import sys
from pathlib import Path

from locustfiles.common import CatalogSample, expect

BASE_DIR = Path(__file__).resolve().parents[2]


class Answer:
    """What Locust hands a ``catch_response`` block: a status, a body, and a verdict to record."""

    def __init__(self, status: int, body: str = "{}") -> None:
        self.status_code = status
        self.text = body
        self.verdict: str | None = None

    def json(self):
        return json.loads(self.text)

    def success(self) -> None:
        self.verdict = "success"

    def failure(self, message: str) -> None:
        self.verdict = f"failure: {message}"


def test_an_expected_status_is_a_success_and_any_other_a_failure():
    ok = Answer(201)
    assert expect(ok, 201) and ok.verdict == "success"
    server_error = Answer(500, "boom")
    assert not expect(server_error, 201, 409)
    assert server_error.verdict == "failure: status 500: boom"


def test_a_409_counts_only_with_the_expected_error_code():
    sold_out = Answer(409, '{"code": "insufficient_stock", "detail": "x"}')
    assert expect(sold_out, 201, 409, code="insufficient_stock")
    in_flight = Answer(409, '{"code": "idempotency_key_in_flight", "detail": "x"}')
    assert not expect(in_flight, 201, 409, code="insufficient_stock")
    assert "without code" in in_flight.verdict


def test_mixed_runs_nine_browsing_users_to_one_buyer():
    # In a child: importing locust monkey-patches the whole process (gevent).
    script = (
        "import json; from locust import User; from locustfiles import mixed; "
        "print(json.dumps({n: c.weight for n, c in vars(mixed).items() "
        "if isinstance(c, type) and issubclass(c, User)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {"MixedBrowseUser": 9, "MixedBuyerUser": 1}


def test_browsing_filters_are_varied_and_always_ordered():
    sample = CatalogSample(categories=["shoes", "bags"], tags=["sale"], slugs=["a"], skus={})
    rng = random.Random(3)
    combos = [sample.filters(rng) for _ in range(300)]
    assert all(c["ordering"] in {"price", "-price", "name", "-created_at"} for c in combos)
    assert {"category", "tag", "in_stock", "min_price", "page_size"} <= {
        k for c in combos for k in c
    }
    assert len({tuple(sorted(c.items())) for c in combos}) > 100  # many cache keys, not a few


def test_a_buyer_keeps_to_one_currency_in_proportion_to_its_skus():
    sample = CatalogSample(skus={"EUR": ["E1", "E2", "E3"], "USD": ["U1"]})
    rng = random.Random(5)
    picks = [sample.skus_of_one_currency(rng) for _ in range(400)]
    assert {tuple(p) for p in picks} == {("E1", "E2", "E3"), ("U1",)}
    assert 200 < sum(p == ["E1", "E2", "E3"] for p in picks) < 380


def test_load_test_registrations_always_pass_the_password_validators():
    # A random hex password beside a hex username was refused as "too similar" once in a gate run.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password

    from locustfiles.common import registration_body

    bodies = [registration_body("lb") for _ in range(500)]
    assert len({body["username"] for body in bodies}) == 500
    for body in bodies:
        user = get_user_model()(username=body["username"], email=body["email"])
        validate_password(body["password"], user)  # raises ValidationError when refused
