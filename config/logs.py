"""Logging handlers for the settings' LOGGING."""

import logging
import sys


class CurrentStderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is when a record is emitted, not when configured.

    pytest swaps ``sys.stderr`` for a capture stream while it runs and closes that stream at the
    end; a plain StreamHandler keeps writing to it, so anything logged at exit (the embedded
    PostgreSQL's stop) ended in "I/O operation on closed file" tracebacks.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current sys.stderr
