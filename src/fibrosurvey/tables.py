"""Reading and writing flat survey tables (CSV or Parquet) without silent coercion."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from fibrosurvey.instruments import load_instruments

__all__ = ["TableError", "coerce_items", "read_table", "write_table"]

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
