"""The checkout throughput run's scenarios and options (the pure parts of checkout_compare)."""

import argparse
import json

import pytest

from config.bootstrap import database_url_named
from perf.checkout_compare import (
    HOT_SKU,
    SPREAD3_BODIES,
    parse_args,
    parse_scenarios,
    perf_db_name,
    scenario_bodies,
    spread_skus,
)


def skus_of(body: str) -> list[str]:
    return [line["sku"] for line in json.loads(body)["lines"]]


def test_spread_scenario_buys_one_unit_of_each_sku_once_in_shuffled_order():
    skus = spread_skus(500)
    bodies = scenario_bodies("spread", skus)
    bought = [skus_of(body) for body in bodies]
    assert all(len(lines) == 1 for lines in bought)
    assert sorted(lines[0] for lines in bought) == sorted(skus)
    assert [lines[0] for lines in bought] != skus
    assert {json.loads(body)["lines"][0]["quantity"] for body in bodies} == {1}


def test_hot_scenario_buys_the_one_hot_sku_every_time():
    assert [skus_of(body) for body in scenario_bodies("hot", spread_skus(500))] == [[HOT_SKU]]


def test_three_line_scenario_buys_three_distinct_spread_skus_per_order():
    skus = spread_skus(500)
    bodies = scenario_bodies("spread3", skus)
    assert len(bodies) == SPREAD3_BODIES
    for body in bodies:
        lines = skus_of(body)
        assert len(set(lines)) == 3 and set(lines) <= set(skus)


def test_scenario_bodies_are_the_same_for_the_same_seed_and_differ_for_another():
    skus = spread_skus(50)
    assert scenario_bodies("spread", skus, seed=1) == scenario_bodies("spread", skus, seed=1)
    assert scenario_bodies("spread", skus, seed=1) != scenario_bodies("spread", skus, seed=2)


def test_scenario_bodies_reject_an_unknown_scenario():
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_bodies("lukewarm", spread_skus(10))


def test_spread_skus_are_distinct_and_never_the_hot_sku():
    skus = spread_skus(500)
    assert len(set(skus)) == 500
    assert HOT_SKU not in skus


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("healthz,spread,hot", ["healthz", "spread", "hot"]),
        (" hot , spread3,healthz,spread,cart", ["hot", "spread3", "healthz", "spread", "cart"]),
    ],
)
def test_scenarios_option_accepts_distinct_known_names(value, expected):
    assert parse_scenarios(value) == expected


@pytest.mark.parametrize(
    "value", ["healthz,spread,lukewarm", "healthz,spread,hot,hot", "", "spread,hot", "healthz,cart"]
)
def test_scenarios_option_refuses_unknown_repeated_or_ratio_less_lists(value):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_scenarios(value)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (
            "postgres://postgres@127.0.0.1:5432/shopfast",
            "postgres://postgres@127.0.0.1:5432/shopfast_checkout_perf",
        ),
        (
            "postgres://u:p@db:6432/shopfast?sslmode=disable",
            "postgres://u:p@db:6432/shopfast_checkout_perf?sslmode=disable",
        ),
        (
            "postgresql://postgres:@/shopfast?host=/tmp/pg",
            "postgresql://postgres:@/shopfast_checkout_perf?host=/tmp/pg",
        ),
    ],
)
def test_database_url_keeps_server_user_and_options_and_swaps_the_name(base, expected):
    assert database_url_named(base, "shopfast_checkout_perf") == expected


def test_database_option_accepts_only_a_perf_database_since_its_orders_are_deleted():
    assert perf_db_name("shopfast_checkout_perf") == "shopfast_checkout_perf"
    for name in ("shopfast", "test_shopfast_lead", "perf; DROP TABLE x", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            perf_db_name(name)


@pytest.mark.parametrize(
    "argv",
    [
        ["--rounds", "0"],
        ["--duration", "-1"],
        ["--connections", "many"],
        ["--min-ratio", "nan"],
        ["--threads", "4", "--connections", "2"],
    ],
)
def test_options_refuse_zero_negative_non_numbers_and_fewer_connections_than_threads(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_options_default_to_two_rounds_of_ten_seconds_on_sixteen_connections():
    args = parse_args([])
    assert (args.rounds, args.duration, args.connections, args.threads) == (2, 10, 16, 2)
    assert args.scenarios == ["healthz", "spread", "hot", "cart"]
    assert (args.min_spread, args.min_ratio, args.min_cart) == (0.09, 0.70, 0.16)


def test_cart_scenario_adds_one_unit_of_each_spread_sku_in_shuffled_order():
    skus = spread_skus(50)
    bodies = [json.loads(body) for body in scenario_bodies("cart", skus)]
    assert sorted(body["sku"] for body in bodies) == sorted(skus)
    assert {body["quantity"] for body in bodies} == {1}


def test_wrk_durations_are_whole_seconds():
    with pytest.raises(SystemExit):
        parse_args(["--duration", "0.5"])
    assert parse_args(["--warmup", "1"]).warmup == 1
