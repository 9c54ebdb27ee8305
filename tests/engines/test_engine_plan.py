"""``analyze --engine duckdb|spark``: the plan's derived variables and design-based estimates in
the engine equal the memory path on every row; the rest runs on the documented seeded sample."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.analysis.derive import apply_derivations
from fibrosurvey.analysis.design import design_estimates
from fibrosurvey.analysis.frames import to_numeric
from fibrosurvey.analysis.out_of_core import (
    derived_columns_sql,
    engine_descriptive,
    participant_sample,
)
from fibrosurvey.analysis.plan import PlanError, load_plan
from fibrosurvey.cli import main
from fibrosurvey.engines import read_parquet_source
from fibrosurvey.engines.backends import DuckDBEngine, SparkEngine, SqlEngine
from fibrosurvey.engines.sql import DATA_VIEW
from tests.engines.conftest import SQL_ENGINES


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan") / "survey"
    args = ["synth", "--scenario", "seed-claims", "--n", "3000", "--seed", "11",
            "--partitioned", str(folder), "--chunk-rows", "1000"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return folder


def _engine(name: str, source: Path) -> SqlEngine:
    return DuckDBEngine(source) if name == "duckdb" else SparkEngine(source)


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_derived_columns_in_sql_equal_the_polars_derivations(
    engine: str, partitioned: Path
) -> None:
    plan = load_plan()
    memory = apply_derivations(to_numeric(read_parquet_source(partitioned)), plan)
    backend = _engine(engine, partitioned)
    try:
        derived = derived_columns_sql(backend, plan)
        backend.add_columns(derived.items)
        names = [d.name for d in plan.derive]
        quoted = ", ".join(backend.quote(n) for n in ["participant_id", "event", *names])
        sql = backend.query(f"SELECT {quoted} FROM {DATA_VIEW}")
    finally:
        backend.close()
    keys = ["participant_id", "event"]
    ours = sql.sort(keys)
    theirs = memory.select([*keys, *names]).sort(keys)
    assert ours.height == theirs.height == memory.height
    for name in names:
        a = ours.get_column(name).cast(pl.Float64)
        b = theirs.get_column(name).cast(pl.Float64)
        assert a.is_null().to_list() == b.is_null().to_list(), name
        assert (a.fill_null(0) - b.fill_null(0)).abs().max() <= 1e-12, name  # type: ignore[operator]
    # The quantile cut is the whole data's (R type 7), as the memory path computes it.
    baseline = memory.filter(pl.col("event") == "baseline").get_column("aea").drop_nulls()
    assert derived.cuts["ced_suspected"] == pytest.approx(
        float(baseline.quantile(0.3333333333, "linear")),
        rel=1e-12,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_descriptive_estimates_on_the_engine_equal_memory(engine: str, partitioned: Path) -> None:
    plan = load_plan()
    memory = design_estimates(
        plan, apply_derivations(to_numeric(read_parquet_source(partitioned)), plan)
    )
    backend = _engine(engine, partitioned)
    try:
        backend.add_columns(derived_columns_sql(backend, plan).items)
        ours = engine_descriptive(backend, plan)
    finally:
        backend.close()
    assert [t["label"] for t in ours] == [t["label"] for t in memory]
    compared = 0
    for mine, theirs in zip(ours, memory, strict=True):
        assert [(r["variable"], r["group"]) for r in mine["estimates"]] == [
            (r["variable"], r["group"]) for r in theirs["estimates"]
        ]
        for a, b in zip(mine["estimates"], theirs["estimates"], strict=True):
            assert (a["method"], a["n"]) == (b["method"], b["n"])
            for field in ("estimate", "se", "ci_low", "ci_high", "unweighted"):
                assert _close(a[field], b[field]), (a["variable"], a["group"], field)
                compared += 1
    assert compared == 5 * (7 + 2 * 4 + 7)


def test_the_sample_is_seeded_and_keeps_every_event_of_a_participant(partitioned: Path) -> None:
    first, participants = participant_sample(partitioned, 400, seed=5)
    again, _ = participant_sample(partitioned, 400, seed=5)
    other, _ = participant_sample(partitioned, 400, seed=6)
    assert participants == 3000
    assert first["participant_id"].n_unique() == 400
    assert first.sort(["participant_id", "event"]).equals(again.sort(["participant_id", "event"]))
    assert set(first["participant_id"]) != set(other["participant_id"])
    every = read_parquet_source(partitioned)
    chosen = every.filter(pl.col("participant_id").is_in(first["participant_id"].implode()))
    assert first.height == chosen.height  # follow-up rows come with their participant


def test_a_non_positive_value_under_a_log_is_refused_with_the_column(
    partitioned: Path, tmp_path: Path
) -> None:
    frame = read_parquet_source(partitioned).head(50)
    frame = frame.with_columns(pl.when(pl.int_range(50) == 7).then(0.0).otherwise(pl.col("aea"))
                               .alias("aea"))  # fmt: skip
    frame.write_parquet(tmp_path / "d.parquet")
    backend = DuckDBEngine(tmp_path / "d.parquet")
    try:
        with pytest.raises(PlanError, match=r"derive\[1\].*1 rows have aea <= 0 \(lowest 0.0\)"):
            derived_columns_sql(backend, load_plan())
    finally:
        backend.close()


def _analyze(folder: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "results.json"
    args = ["analyze", str(folder), "--out", str(tmp_path / "report.html"), "--json", str(out),
            "--imputations", "0", *extra]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(out.read_text())
    return loaded


def test_analyze_duckdb_reports_where_each_part_ran_and_with_what_n(
    partitioned: Path, tmp_path: Path
) -> None:
    ours = _analyze(partitioned, tmp_path / "duck", "--engine", "duckdb", "--sample", "1200")
    memory = _analyze(partitioned, tmp_path / "mem")
    engine = ours["provenance"]["engine"]
    assert (engine["rows"], engine["participants"]) == (memory["provenance"]["rows"], 3000)
    assert engine["sample_participants"] == 1200
    assert engine["sample_rows"] == ours["provenance"]["rows"] < engine["rows"]
    note = ours["methods"][-1]
    assert "simple random sample of 1,200 of the 3,000 participants" in note
    assert f"seeded {load_plan().seed}" in note
    report = (tmp_path / "duck" / "report.html").read_text()
    assert "simple random sample of 1,200 of the 3,000 participants" in report
    # The design-based estimates ran over every row: the memory run's numbers.
    for mine, theirs in zip(ours["descriptive"], memory["descriptive"], strict=True):
        for a, b in zip(mine["estimates"], theirs["estimates"], strict=True):
            assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-9)
            assert a["n"] == b["n"]
    # Hypotheses ran on the sample: their n is the sample's, not the whole data's.
    c1 = [h for h in ours["hypotheses"] if h["claim"] == "C1"]
    assert c1 and all(h["n"] <= 1200 for h in c1)


def test_analyze_duckdb_refuses_items_without_scores(tmp_path: Path) -> None:
    frame = pl.DataFrame({"participant_id": ["P1"], "event": ["baseline"], "phq9_1": [1]})
    frame.write_parquet(tmp_path / "items.parquet")
    args = ["analyze", str(tmp_path / "items.parquet"), "--engine", "duckdb",
            "--out", str(tmp_path / "r.html")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "score the data first" in result.output
