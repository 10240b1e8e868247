"""Export the catalog in the import format (CSV or JSONL), streamed in keyset chunks.

Each chunk is one plain query, ``WHERE variant.id > <last id> ORDER BY id LIMIT n``: no
server-side cursor and no transaction held across chunks, so it works behind pgbouncer in
transaction pooling mode, and memory holds one chunk whatever the catalog's size. The export is
not one snapshot: a variant changed while it runs shows up as it was when its chunk was read.
Re-importing the file with ``import_catalog`` gives back the same catalog.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import IO

import orjson
from django.db import connection

from apps.catalog.imports import CATALOG_COLUMNS, TAG_SEPARATOR
from apps.catalog.models import Tag

DEFAULT_CHUNK_SIZE = 5000
EXPORT_FORMATS = ("csv", "jsonl")


# Raw SQL rather than the ORM: Django's per-row conversion doubled the time per row. Tags come
# as ids (an index-only scan per product) and are named in Python from one small map.
CHUNK_SQL = """
SELECT v.id, v.sku, p.slug, p.name, c.slug, v.name, v.price, v.currency, p.description,
       ARRAY(SELECT pt.tag_id FROM catalog_product_tags pt WHERE pt.product_id = p.id)
  FROM catalog_variant v
  JOIN catalog_product p ON p.id = v.product_id
  JOIN catalog_category c ON c.id = p.category_id
 WHERE v.id > %s
 ORDER BY v.id
 LIMIT %s"""


def catalog_export_chunks(chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[tuple]]:
    """Yield every variant as a row of CATALOG_COLUMNS values, one keyset chunk at a time."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    tag_slugs: dict[int, str] = {}
    last_id = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(CHUNK_SQL, [last_id, chunk_size])
            chunk = cursor.fetchall()
        if not chunk:
            return
        last_id = chunk[-1][0]
        if any(tag_id not in tag_slugs for row in chunk for tag_id in row[9]):
            tag_slugs = dict(Tag.objects.values_list("id", "slug"))  # new tags since: reload
        yield [
            (*row[1:9], sorted(tag_slugs[tag_id] for tag_id in row[9] if tag_id in tag_slugs))
            for row in chunk
        ]
        if len(chunk) < chunk_size:
            return


def _csv_writer(stream: IO[str]) -> Callable[[tuple], None]:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CATALOG_COLUMNS)

    def write(row: tuple) -> None:
        writer.writerow((*row[:5], f"{row[5]:.2f}", row[6], row[7], TAG_SEPARATOR.join(row[8])))

    return write


def _jsonl_writer(stream: IO[str]) -> Callable[[tuple], None]:
    def write(row: tuple) -> None:
        item = dict(zip(CATALOG_COLUMNS, row, strict=True))
        item["price"] = f"{row[5]:.2f}"
        stream.write(orjson.dumps(item).decode())
        stream.write("\n")

    return write


def catalog_export(
    stream: IO[str],
    fmt: str = "csv",
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the whole catalog to ``stream`` as CSV or JSONL; return the number of rows."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(EXPORT_FORMATS)}")
    write = _csv_writer(stream) if fmt == "csv" else _jsonl_writer(stream)
    rows = 0
    for chunk in catalog_export_chunks(chunk_size):
        for row in chunk:
            write(row)
        rows += len(chunk)
        if progress:
            progress(rows)
    return rows
