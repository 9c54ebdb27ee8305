"""Reading and writing flat survey tables (CSV or Parquet) without silent coercion."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from fibrosurvey.instruments import load_instruments

__all__ = ["TableError", "coerce_items", "json_cell", "read_table", "write_table"]

SUFFIXES = (".csv", ".parquet")


class TableError(ValueError):
    """A file that cannot be read as a table; the message says what to do next."""


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise TableError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    return suffix


def read_table(path: Path) -> pl.DataFrame:
    """Read a CSV (every cell as text, so validation sees exactly what was written) or Parquet."""
    if not path.exists():
        raise TableError(f"{path}: no such file")
    try:
        if _suffix(path) == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema=False)
    except TableError:
        raise
    except (pl.exceptions.ComputeError, pl.exceptions.PolarsError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise TableError(
            f"{path}: cannot be read as a {path.suffix} table ({first_line}); check that it is "
            "UTF-8, comma-separated, with one header row"
        ) from error


def coerce_items(frame: pl.DataFrame) -> pl.DataFrame:
    """Turn validated item columns into numbers: integers for codes, floats for measurements."""
    casts = []
    for instrument in load_instruments().values():
        for item in instrument.items:
            if item.column not in frame.columns:
                continue
            target = pl.Float64 if item.kind == "number" else pl.Int64
            column = pl.col(item.column)
            if frame.schema[item.column] == pl.String:
                column = pl.when(column.str.strip_chars() != "").then(column.str.strip_chars())
                column = column.cast(pl.Float64)
            casts.append(column.cast(target).alias(item.column))
    return frame.with_columns(casts) if casts else frame


def write_table(frame: pl.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write CSV or Parquet by suffix; metadata goes into Parquet metadata or a JSON sidecar."""
    suffix = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.write_parquet(path, metadata=metadata)
        return
    frame.write_csv(path)
    if metadata:
        sidecar = path.with_name(path.name + ".meta.json")
        sidecar.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def json_cell(value: Any) -> Any:
    """A table cell as stored in a JSON column: NumPy scalars as Python numbers, NaN and
    infinity as null (JSON has neither), whole floats as integers (an answer code 3.0 is 3)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # a NumPy scalar
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
