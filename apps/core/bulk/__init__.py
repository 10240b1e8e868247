"""Streaming bulk pipelines: read a file row by row, validate and write it batch by batch.

``reader`` turns a CSV or JSONL file into numbered rows (a bad line becomes a reported error, never
an exception or a memory blow-up), ``pipeline`` batches, validates and writes them (one transaction
per batch), ``report`` keeps the rejected rows and the summary, ``progress`` shows how far it got,
``copy`` loads a batch into a temporary table with ``COPY``.
"""
