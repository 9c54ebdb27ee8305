"""svyglm by aggregation (one grouped sum per Newton step) equals the memory engine's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from fibrosurvey.engines import DesignColumns
from fibrosurvey.engines.glm import glm
from tests.engines.conftest import random_design_frame

REL = 1e-9


def _with_predictors(seed: int, folder: Path) -> tuple[Path, DesignColumns]:
    frame, columns = random_design_frame(seed, rows=800)
    rng = np.random.default_rng([seed, 9])
    x2 = np.where(rng.random(frame.height) < 0.05, np.nan, rng.normal(0, 1, frame.height))
    frame = frame.with_columns(pl.Series("x1", rng.normal(0, 1, frame.height)), pl.Series("x2", x2))
    source = folder / "glm.parquet"
    frame.write_parquet(source)
    return source, DesignColumns(**columns)


@pytest.mark.parametrize(
    ("engine", "seed"),
    [
        ("duckdb", 0),
        ("duckdb", 1),
        ("duckdb", 2),
        pytest.param("spark", 3, marks=pytest.mark.spark),
    ],
)
@pytest.mark.parametrize(("family", "outcome"), [("gaussian", "y"), ("binomial", "flag")])
def test_engine_svyglm_equals_the_memory_engine(
    engine: str, seed: int, family: str, outcome: str, tmp_path: Path
) -> None:
    source, design = _with_predictors(seed, tmp_path)
    expected = glm(source, design, outcome, ["x1", "x2"], family, "memory")
    actual = glm(source, design, outcome, ["x1", "x2"], family, engine)
    for field in ("params", "se", "ci_low", "ci_high", "p"):
        assert getattr(actual, field) == pytest.approx(getattr(expected, field), rel=REL), field
    assert (actual.n, actual.df, actual.names) == (expected.n, expected.df, expected.names)


def test_engine_binomial_glm_refuses_a_non_binary_outcome(tmp_path: Path) -> None:
    source, design = _with_predictors(1, tmp_path)
    with pytest.raises(ValueError, match=r"y: \d+ values are not 0 or 1"):
        glm(source, design, "y", ["x1"], "binomial", "duckdb")
