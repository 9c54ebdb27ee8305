"""Engine tests: random designs written as Parquet, and one Spark session for the whole run."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

# Spark runs wherever the tests run (CI installs a headless JDK in .ci/run).
# Small data: a few shuffle partitions keep local Spark quick on a 2-core machine.
os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "2")
SQL_ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="session", autouse=True)
def _stop_spark_at_the_end() -> Iterator[None]:
    yield
    from fibrosurvey.engines import backends

    if backends.spark_started():
        backends.spark_session().stop()


def random_design_frame(seed: int, rows: int = 600) -> tuple[pl.DataFrame, dict[str, Any]]:
    """A stratified two-stage sample with lonely units, missing outcomes and fpc.

    Returns the frame and the keyword arguments of a matching ``DesignColumns``; the seed
    chooses string or integer labels, fpc as population sizes or fractions, and the number of
    stages that carry an fpc.
    """
    rng = np.random.default_rng(seed)
    n_strata = int(rng.integers(1, 6))
    stratum = rng.integers(0, n_strata, rows)
    psu = rng.integers(0, int(rng.integers(1, 5)) + 1, rows)
    lonely = stratum == 0  # stratum 0 has one PSU: lonely at the first stage
    psu = np.where(lonely, 0, psu)
    ssu = rng.integers(0, 3, rows)
    as_text = bool(seed % 2)
    frame = pl.DataFrame(
        {
            "w": rng.uniform(0.5, 4.0, rows),
            "stratum": [f"s{v}" for v in stratum] if as_text else stratum,
            "psu": [f"p{v}" for v in psu] if as_text else psu,
            "ssu": ssu,
            "y": np.where(rng.random(rows) < 0.15, math.nan, rng.normal(40, 12, rows)),
            "flag": [
                None if gone else float(v)
                for gone, v in zip(rng.random(rows) < 0.1, rng.integers(0, 2, rows), strict=True)
            ],
            "event": np.where(rng.random(rows) < 0.5, "baseline", "month3"),
        },
        strict=False,
    )
    n_psu = frame.group_by("stratum").agg(pl.col("psu").n_unique().alias("n_psu"))
    frame = frame.join(n_psu, on="stratum", how="left")
    fraction_form = seed % 3 == 0
    frame = frame.with_columns(
        (1 / (pl.col("n_psu") + 2) if fraction_form else pl.col("n_psu") * 3.0).alias("fpc1"),
        pl.lit(0.5 if fraction_form else 6.0).alias("fpc2"),
    ).drop("n_psu")
    fpc_stages = seed % 3  # none, one or two stages with an fpc
    design = {
        "weights": "w",
        "strata": ("stratum",),
        "psu": ("psu", "ssu"),
        "fpc": ("fpc1", "fpc2")[:fpc_stages],
    }
    return frame, design


def write_partitioned(frame: pl.DataFrame, folder: Path, parts: int = 3) -> Path:
    """``frame`` as ``part=<k>/data.parquet`` files (the layout ``synth --partitioned`` writes)."""
    size = math.ceil(frame.height / parts)
    for k in range(parts):
        target = folder / f"part={k}"
        target.mkdir(parents=True)
        frame.slice(k * size, size).write_parquet(target / "data.parquet")
    return folder
