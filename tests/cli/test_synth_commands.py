"""``fibrosurvey synth`` writes the table and its truth sidecar; bad usage exits 2."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.cli import main
from fibrosurvey.synth import generate


def test_synth_writes_csv_and_truth_sidecar(tmp_path: Path) -> None:
    out = tmp_path / "survey.csv"
    result = CliRunner().invoke(
        main, ["synth", "--scenario", "null", "--n", "300", "--seed", "7", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pl.read_csv(out, infer_schema_length=None)
    assert table.filter(pl.col("event") == "baseline").height == 300
    truth = json.loads((tmp_path / "survey.csv.truth.json").read_text())
    assert truth["scenario"] == "null" and truth["seed"] == 7 and truth["n"] == 300
    # The file holds the same numbers as the Python API with the same seed.
    expected = generate("null", 300, seed=7).data
    assert table["fiqr_total"].drop_nulls().sum() == pytest.approx(
        expected["fiqr_total"].drop_nulls().sum(), rel=1e-12
    )
    assert table["fiqr_01"].to_list() == expected["fiqr_01"].to_list()


def test_synth_writes_parquet(tmp_path: Path) -> None:
    out = tmp_path / "survey.parquet"
    args = ["synth", "--scenario", "literature", "--n", "200", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).filter(pl.col("event") == "baseline").height == 200
    assert (tmp_path / "survey.parquet.truth.json").exists()


def test_synth_in_another_country_uses_its_region_codes(tmp_path: Path) -> None:
    out = tmp_path / "mexico.parquet"
    args = ["synth", "--scenario", "null", "--n", "400", "--country", "MX", "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    strata = pl.read_parquet(out)["design_stratum"].unique().sort().to_list()
    assert strata == list(range(201, 233))  # Mexico's 32 federal entities (INEGI order)
    unknown = CliRunner().invoke(main, [*args[:-2], "--country", "FR", "-o", str(out)])
    assert unknown.exit_code == 2 and "'US', 'ES', 'MX'" in unknown.output


def test_bad_extension_is_a_usage_error_saying_what_to_do(tmp_path: Path) -> None:
    args = ["synth", "--scenario", "null", "--n", "10", "-o", str(tmp_path / "x.xlsx")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert ".csv or .parquet" in result.output


def test_unknown_scenario_and_bad_n_exit_2() -> None:
    result = CliRunner().invoke(main, ["synth", "--scenario", "rosy", "-o", "x.csv"])
    assert result.exit_code == 2 and "seed-claims" in result.output
    result = CliRunner().invoke(main, ["synth", "--scenario", "null", "--n", "0", "-o", "x.csv"])
    assert result.exit_code == 2


def test_help_describes_the_scenarios() -> None:
    result = CliRunner().invoke(main, ["synth", "--help"])
    assert result.exit_code == 0
    assert "literature" in result.output and "truth.json" in result.output
