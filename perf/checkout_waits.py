"""Sample what the app's PostgreSQL sessions are doing during a run (``checkout_compare --waits``).

Every ``interval`` seconds one query on pg_stat_activity records, for each client session of the
run's database, its state, its wait event (``CPU`` when active and not waiting) and, when active,
the start of its query. The report gives the average number of sessions in each of those per
sample: on a hot SKU, time under the row lock shows up as sessions waiting on ``Lock:transactionid``
behind the one holding the lock, and the holder's own wait (``IO:WALSync``, ``CPU``) shows what the
lock window is made of.
"""

from __future__ import annotations

import threading
from collections import Counter

import psycopg

SAMPLE_SQL = """
SELECT state,
       CASE WHEN state = 'active' AND wait_event IS NULL THEN 'CPU'
            ELSE coalesce(wait_event_type || ':' || wait_event, '-') END,
       CASE WHEN state = 'active' THEN left(regexp_replace(query, '\\s+', ' ', 'g'), 60) END
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND backend_type = 'client backend'
"""


class WaitSampler:
    """Poll pg_stat_activity in a thread between ``start(label)`` and ``stop()``."""

    def __init__(self, database_url: str, interval: float = 0.01) -> None:
        self.database_url = database_url
        self.interval = interval
        self.samples: Counter[str] = Counter()
        self.seen: dict[str, Counter[tuple[str, str, str]]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, label: str) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, args=(label,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _poll(self, label: str) -> None:
        seen = self.seen.setdefault(label, Counter())
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self._stop.is_set():
                for state, wait, query in conn.execute(SAMPLE_SQL):
                    seen[(state or "-", wait, query or "")] += 1
                self.samples[label] += 1
                self._stop.wait(self.interval)

    def report(self, top: int = 12) -> dict[str, list[dict]]:
        """Return per label the most frequent (state, wait, query) with sessions per sample."""
        return {
            label: [
                {
                    "state": state,
                    "wait": wait,
                    "query": query,
                    "sessions": round(count / self.samples[label], 3),
                }
                for (state, wait, query), count in seen.most_common(top)
            ]
            for label, seen in self.seen.items()
        }


def waits_table(report: dict[str, list[dict]]) -> str:
    lines = ["", "| scenario | sessions/sample | state | wait | query |", "|---|---:|---|---|---|"]
    for label, rows in report.items():
        lines += [
            f"| {label} | {r['sessions']:.2f} | {r['state']} | {r['wait']} | `{r['query']}` |"
            for r in rows
        ]
    return "\n".join(lines)
