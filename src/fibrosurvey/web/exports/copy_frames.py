"""Query results as Polars frames through PostgreSQL's ``COPY ... TO STDOUT`` (CSV).

The export reads millions of answer and lab rows. Built through the ORM, every row becomes a
Python tuple of Python objects, then a frame: that per-row work, not the database, was most of
the export's time (6x a raw ``COPY``). Here the queryset's own SQL (so the ORM still writes the
joins, filters and site limits) runs inside ``COPY``; its CSV bytes go to Polars' CSV reader in
one call and are typed by column, with no Python object per row.

PostgreSQL writes ``float8`` in the shortest form that reads back exactly (PostgreSQL >= 12),
so numbers arrive bit for bit; ``timestamptz`` in the session time zone (UTC, Django's
``USE_TZ``), parsed with its offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import polars as pl
from django.db import connection
from django.db.models import QuerySet

__all__ = ["BOOLEAN", "copy_frame"]

# A PostgreSQL boolean ('t'/'f' in CSV) read as 1/0 (Int64), as the export's flag columns.
BOOLEAN: Literal["boolean"] = "boolean"
ColumnType = pl.DataType | type[pl.DataType] | Literal["boolean"]
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.f%#z"


def _typed(name: str, kind: ColumnType) -> pl.Expr:
    text = pl.col(name)
    if kind == BOOLEAN:
        return pl.when(text == "t").then(1).when(text == "f").then(0).cast(pl.Int64).alias(name)
    assert not isinstance(kind, str)
    dtype = kind() if isinstance(kind, type) else kind
    if isinstance(dtype, pl.Datetime):
        parsed = text.str.to_datetime(_TIMESTAMP_FORMAT, time_unit="us", time_zone="UTC")
        return parsed.cast(dtype).alias(name)
    if isinstance(dtype, pl.Date):
        return text.str.to_date("%Y-%m-%d").alias(name)
    if dtype == pl.String:
        return text
    return text.cast(dtype).alias(name)


def copy_frame(queryset: QuerySet[Any], schema: Mapping[str, ColumnType]) -> pl.DataFrame:
    """The rows of ``queryset`` (a ``values_list`` of ``len(schema)`` columns, in that order)
    as a frame with ``schema``'s names and types, read through ``COPY``."""
    names = list(schema)
    if connection.vendor != "postgresql":
        # SQLite (the embedded default) has no COPY: the same frame from the ORM's rows.
        return _orm_frame(queryset, schema)
    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        # The psycopg cursor under Django's wrapper: COPY binds the parameters client-side.
        raw = cursor.cursor
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            data = b"".join(bytes(block) for block in copy)
    if not data:
        empty = {n: (pl.Int64 if k == BOOLEAN else k) for n, k in schema.items()}
        return pl.DataFrame(schema=empty)
    text = pl.read_csv(
        data,
        has_header=False,
        new_columns=names,
        schema={n: pl.String for n in names},
    )
    return text.select(_typed(n, k) for n, k in schema.items())


def _orm_frame(queryset: QuerySet[Any], schema: Mapping[str, ColumnType]) -> pl.DataFrame:
    rows = [
        tuple(
            (None if value is None else int(bool(value))) if kind == BOOLEAN else value
            for value, kind in zip(row, schema.values(), strict=True)
        )
        for row in queryset
    ]
    typed = {n: (pl.Int64 if k == BOOLEAN else k) for n, k in schema.items()}
    return pl.DataFrame(rows, schema=typed, orient="row")
