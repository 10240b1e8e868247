"""The wait-event report of checkout_compare --waits: sessions per sample and its table."""

from collections import Counter

from perf.checkout_waits import WaitSampler, waits_table

LOCK_QUERY = 'SELECT "inventory_stock"."id" AS "pk" FROM inventory_stock FOR UPDATE'


def sampled(label: str, samples: int, seen: dict[tuple[str, str, str], int]) -> WaitSampler:
    sampler = WaitSampler("postgres://unused/db")
    sampler.samples[label] = samples
    sampler.seen[label] = Counter(seen)
    return sampler


def test_report_gives_the_average_sessions_per_sample_most_frequent_first():
    sampler = sampled(
        "hot",
        100,
        {
            ("idle", "Client:ClientRead", ""): 290,
            ("active", "Lock:transactionid", LOCK_QUERY): 25,
            ("active", "IO:WALSync", "COMMIT"): 10,
            ("active", "CPU", "UPDATE inventory_stock"): 4,
            ("idle in transaction", "Client:ClientRead", ""): 160,
        },
    )
    rows = sampler.report()["hot"]
    assert [(r["wait"], r["sessions"]) for r in rows] == [
        ("Client:ClientRead", 2.9),
        ("Client:ClientRead", 1.6),
        ("Lock:transactionid", 0.25),
        ("IO:WALSync", 0.1),
        ("CPU", 0.04),
    ]
    assert rows[2]["query"] == LOCK_QUERY


def test_report_keeps_only_the_top_entries_per_label():
    seen = {("active", f"LWLock:L{i}", "q"): 100 - i for i in range(15)}
    assert len(sampled("spread", 10, seen).report(top=12)["spread"]) == 12


def test_table_has_one_row_per_label_and_wait():
    sampler = sampled("hot", 4, {("active", "Lock:tuple", LOCK_QUERY): 1})
    sampler.samples["spread"] = 4
    sampler.seen["spread"] = Counter({("active", "CPU", "COMMIT"): 2})
    table = waits_table(sampler.report())
    assert f"| hot | 0.25 | active | Lock:tuple | `{LOCK_QUERY}` |" in table
    assert "| spread | 0.50 | active | CPU | `COMMIT` |" in table
