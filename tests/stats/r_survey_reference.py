"""R survey 4.1.1 reference values and data written by ``tests/data/r_survey_design.R``."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

DATA = Path(__file__).resolve().parent.parent / "data"


@cache
def reference() -> dict[str, Any]:
    return dict(json.loads((DATA / "r_survey_design.json").read_text()))


@cache
def api(name: str) -> pl.DataFrame:
    frame = pl.read_csv(DATA / name, null_values="", infer_schema_length=None)
    return frame.with_columns((pl.col("sch.wide") == "Yes").cast(pl.Float64).alias("sch_wide"))


def number(value: Any) -> float:
    """A JSON number, or NaN for R's NA/NaN (written as text)."""
    return math.nan if isinstance(value, str) else float(value)
