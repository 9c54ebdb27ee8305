"""DuckDB and Spark give the memory engine's design-based estimates to 1e-9 relative."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from fibrosurvey.engines import DesignColumns, Estimand, estimate
from fibrosurvey.stats.survey_results import SurveyEstimate
from tests.engines.conftest import SQL_ENGINES, random_design_frame, write_partitioned
from tests.stats.r_survey_reference import DATA, number

REL = 1e-9
LONELY = ("adjust", "certainty", "remove", "average")
INTERVALS = ("logit", "wald", "mean", "asin", "beta", "xlogit")


def assert_same(expected: SurveyEstimate, actual: SurveyEstimate) -> None:
    for field in ("estimate", "se", "ci_low", "ci_high", "p"):
        want, got = getattr(expected, field), getattr(actual, field)
        assert got == pytest.approx(want, rel=REL, abs=1e-300, nan_ok=True), field
    assert (actual.n, actual.df, actual.method) == (expected.n, expected.df, expected.method)
    assert actual.note == expected.note


def estimands(seed: int) -> list[Estimand]:
    return [
        Estimand("mean", "y"),
        Estimand("total", "y"),
        Estimand("proportion", "flag", ci=INTERVALS[seed % len(INTERVALS)]),
    ]


@pytest.mark.parametrize(
    ("engine", "seed"),
    [("duckdb", seed) for seed in range(8)]
    + [pytest.param("spark", seed, marks=pytest.mark.spark) for seed in range(4)],
)
def test_sql_engine_equals_memory_on_random_multistage_designs(
    engine: str, seed: int, tmp_path: Path
) -> None:
    frame, columns = random_design_frame(seed)
    source = tmp_path / "data.parquet"
    frame.write_parquet(source)
    design = DesignColumns(**columns, lonely_psu=LONELY[seed % len(LONELY)])
    expected = estimate(source, design, estimands(seed), "memory")
    actual = estimate(source, design, estimands(seed), engine)
    for want, got in zip(expected, actual, strict=True):
        assert_same(want, got)
    assert expected[0].se > 0  # the comparison is not between two empty variances


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_partitioned_folder_gives_the_single_file_estimates(engine: str, tmp_path: Path) -> None:
    frame, columns = random_design_frame(4, rows=900)
    single = tmp_path / "one.parquet"
    frame.write_parquet(single)
    folder = write_partitioned(frame, tmp_path / "parts")
    design = DesignColumns(**columns)
    expected = estimate(single, design, estimands(4), "memory")
    for want, got in zip(expected, estimate(folder, design, estimands(4), engine), strict=True):
        assert_same(want, got)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_event_filter_builds_the_design_from_those_rows_only(engine: str, tmp_path: Path) -> None:
    frame, columns = random_design_frame(5)
    source = tmp_path / "data.parquet"
    frame.write_parquet(source)
    design = DesignColumns(**columns, where=(("event", "month3"),))
    expected = estimate(source, design, estimands(5), "memory")
    actual = estimate(source, design, estimands(5), engine)
    assert (
        actual[0].n == frame.filter((pl.col("event") == "month3") & pl.col("y").is_not_nan()).height
    )
    for want, got in zip(expected, actual, strict=True):
        assert_same(want, got)


R_CASES = json.loads((DATA / "r_survey_random_designs.json").read_text())["cases"]


def _r_case_parquet(case: dict[str, object], folder: Path) -> Path:
    data = pl.read_csv(DATA / str(case["file"]), null_values="", infer_schema_length=None)
    data = data.with_columns(pl.lit(1).alias("s2"), pl.lit(math.inf).alias("fpc4"))
    path = folder / "design.parquet"
    data.write_parquet(path)
    return path


@pytest.mark.parametrize(
    ("engine", "k"),
    [("duckdb", k) for k in range(len(R_CASES))]
    + [pytest.param("spark", 0, marks=pytest.mark.spark)],
)
@pytest.mark.parametrize("option", ["adjust", "average", "certainty"])
def test_four_stage_designs_match_r_survey_and_the_memory_engine(
    engine: str, k: int, option: str, tmp_path: Path
) -> None:
    case = R_CASES[k]
    source = _r_case_parquet(case, tmp_path)
    design = DesignColumns(
        "w", strata=("s1", "s2", "s3"), psu=("p1", "p2", "p3", "p4"),
        fpc=("fpc1", "fpc2", "fpc3", "fpc4"), lonely_psu=option,
    )  # fmt: skip
    wanted = [Estimand("mean", "y"), Estimand("total", "y"), Estimand("proportion", "x")]
    memory = estimate(source, design, wanted, "memory")
    actual = estimate(source, design, wanted, engine)
    for want, got in zip(memory, actual, strict=True):
        assert_same(want, got)
    expected = case[option]
    assert actual[0].df == expected["df"]
    for result, (value, se) in zip(actual[:2], (expected["mean"], expected["total"]), strict=True):
        assert result.estimate == pytest.approx(value, rel=1e-6)
        assert result.se == pytest.approx(number(se), rel=1e-6, nan_ok=True)
    logit = [number(v) for v in expected["ciprop_logit"]]
    assert actual[2].conf_int() == pytest.approx(logit, rel=1e-6, nan_ok=True)


def test_nan_outcomes_in_parquet_count_as_missing_on_duckdb(tmp_path: Path) -> None:
    # Parquet statistics omit NaN; DuckDB used to fold isnan() to false from them.
    source = tmp_path / "nan.parquet"
    pl.DataFrame({"w": [1.0, 2.0, 3.0, 1.0], "y": [1.0, math.nan, 3.0, 5.0]}).write_parquet(source)
    (result,) = estimate(source, DesignColumns("w"), [Estimand("mean", "y")], "duckdb")
    assert result.n == 3
    assert result.estimate == pytest.approx((1.0 + 9.0 + 5.0) / 5.0, rel=1e-12)


@pytest.fixture
def small_design(tmp_path: Path) -> Path:
    source = tmp_path / "small.parquet"
    pl.DataFrame(
        {
            "w": [1.0, 2.0, 1.5, 1.0, 2.5, 1.0],
            "stratum": ["north", "north", "south", "south", "west", "west"],
            "psu": [1, 2, 3, 4, 5, 5],
            "y": [1.0, 0.0, 1.0, 1.0, 0.0, 2.0],
        }
    ).write_parquet(source)
    return source


@pytest.mark.parametrize(
    ("design", "estimand", "message"),
    [
        (DesignColumns("w", ("stratum",), ("psu",), lonely_psu="fail"), Estimand("mean", "y"),
         "stratum=.west. has a single PSU"),
        (DesignColumns("w"), Estimand("proportion", "y"), "y: 1 values are not 0 or 1"),
        (DesignColumns("w", ("stratum",), ("missing_column",)), Estimand("mean", "y"),
         "column.s. not in the data: missing_column"),
    ],
)  # fmt: skip
def test_bad_design_or_outcome_is_a_clear_error_on_duckdb(
    small_design: Path, design: DesignColumns, estimand: Estimand, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        estimate(small_design, design, [estimand], "duckdb")


def test_non_positive_weights_are_refused_naming_the_column(tmp_path: Path) -> None:
    source = tmp_path / "bad.parquet"
    pl.DataFrame({"wt": [1.0, 0.0, np.nan], "y": [1.0, 2.0, 3.0]}).write_parquet(source)
    with pytest.raises(ValueError, match=r"weights: 2 rows of 'wt' are missing or not positive"):
        estimate(source, DesignColumns("wt"), [Estimand("mean", "y")], "duckdb")


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_domain_means_equal_mean_by_of_the_memory_engine(engine: str, tmp_path: Path) -> None:
    frame, columns = random_design_frame(6)
    frame = frame.with_columns(pl.col("ssu").cast(pl.Float64).alias("group"))
    source = tmp_path / "data.parquet"
    frame.write_parquet(source)
    design = DesignColumns(**columns)
    wanted = [Estimand("mean", "y", domain=("group", level)) for level in (0.0, 1.0, 2.0)]
    expected = estimate(source, design, wanted, "memory")
    actual = estimate(source, design, wanted, engine)
    assert [r.group for r in actual] == ["0.0", "1.0", "2.0"]
    for want, got in zip(expected, actual, strict=True):
        assert_same(want, got)
    assert expected[0].method == "svyby_mean"
