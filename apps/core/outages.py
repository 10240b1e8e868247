"""Dependency outages, logged once when they start, once per interval with a count, once at the end.

Under load a dependency that is away fails every request: a log line (worse, a traceback) per
failure buries the one fact worth reading. Each process keeps one ``Outage`` per dependency.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)


class Outage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.since = 0.0  # monotonic start of the outage under way; 0.0 while it answers
        self.logged = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self.since != 0.0

    def failed(self, error: BaseException | str | None = None) -> None:
        """Count a call the dependency did not serve; log the start, then once per interval."""
        now = time.monotonic()
        with self._lock:
            self.calls += 1
            if not self.since:
                self.since = self.logged = now
                logger.warning("%s unavailable: %s", self.name, error)
            elif now - self.logged >= settings.CACHE_OUTAGE_LOG_SECONDS:
                self.logged = now
                logger.warning(
                    "%s still unavailable after %.0f s; %d calls served without it so far",
                    self.name,
                    now - self.since,
                    self.calls,
                )

    def recovered(self) -> None:
        """Log the end of the outage under way (nothing when there is none)."""
        with self._lock:
            if not self.since:
                return
            logger.warning(
                "%s is back after %.1f s; %d calls were served without it",
                self.name,
                time.monotonic() - self.since,
                self.calls,
            )
            self.since = self.logged = 0.0
            self.calls = 0

    def reset(self) -> None:
        with self._lock:
            self.since = self.logged = 0.0
            self.calls = 0
