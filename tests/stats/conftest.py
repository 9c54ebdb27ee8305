"""Fixtures: the R survey package's API samples exported to tests/data (see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

DATA = Path(__file__).resolve().parent.parent / "data"


def _read(name: str) -> pl.DataFrame:
    frame = pl.read_csv(DATA / name, null_values="", infer_schema_length=None)
    return frame.with_columns((pl.col("sch.wide") == "Yes").cast(pl.Float64).alias("sch_wide"))


@pytest.fixture(scope="session")
def apistrat() -> pl.DataFrame:
    return _read("api_strat.csv")


@pytest.fixture(scope="session")
def apiclus1() -> pl.DataFrame:
    return _read("api_clus1.csv")


@pytest.fixture(scope="session")
def r_models() -> dict[str, Any]:
    """R's numbers for the non-survey families, as ``reference_models.R`` wrote them."""
    loaded: dict[str, Any] = json.loads((DATA / "reference_models.json").read_text())
    return loaded


@pytest.fixture(scope="session")
def r_values() -> dict[str, Any]:
    """R survey's numbers for ``test_survey_design.py``, as ``reference_values.R`` wrote them."""
    loaded: dict[str, Any] = json.loads((DATA / "reference_values.json").read_text())
    return loaded
