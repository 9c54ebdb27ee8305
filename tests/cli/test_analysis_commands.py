"""CLI: fibrosurvey analyze / estimate / demo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.cli import main
from fibrosurvey.synth import generate


@pytest.fixture(scope="module")
def unscored_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = generate("seed-claims", 800, 5, score=False).data
    path = tmp_path_factory.mktemp("cli") / "survey.csv"
    data.write_csv(path)
    return path


@pytest.mark.parametrize("command", ["analyze", "estimate", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_analyze_scores_unscored_csv_and_writes_report_and_json(
    unscored_csv: Path, tmp_path: Path
) -> None:
    report, results = tmp_path / "r.html", tmp_path / "r.json"
    outcome = CliRunner().invoke(
        main,
        ["analyze", str(unscored_csv), "--out", str(report), "--json", str(results),
         "--imputations", "0"],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    loaded = json.loads(results.read_text())
    assert len(loaded["hypotheses"]) == 58
    assert loaded["provenance"]["input_sha256"] in report.read_text()
    assert "C1" in outcome.output and "report:" in outcome.output


def test_analyze_reports_a_broken_plan_with_its_line(unscored_csv: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "plan_version: 1\ntitle: t\nregistered: x\nclaims:\n  - id: A\n    statment: s\n"
    )
    outcome = CliRunner().invoke(main, ["analyze", str(unscored_csv), "--plan", str(plan)])
    assert outcome.exit_code == 1
    assert "line 6 (claims[0].statment)" in outcome.output


def test_estimate_weighted_proportion_equals_the_weighted_mean(tmp_path: Path) -> None:
    data = generate("seed-claims", 600, 9).data.filter(pl.col("event") == "baseline")
    path = tmp_path / "d.parquet"
    data.write_parquet(path)
    outcome = CliRunner().invoke(
        main,
        ["estimate", str(path), "--var", "dx_anxiety", "--weights", "design_weight", "--strata",
         "design_stratum", "--psu", "design_psu", "--fpc", "design_fpc", "--json"],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    (row,) = json.loads(outcome.output)
    known = data.drop_nulls("dx_anxiety")
    w, y = known["design_weight"].to_numpy(), known["dx_anxiety"].to_numpy()
    assert row["kind"] == "proportion"
    assert row["estimate"] == pytest.approx(float(np.sum(w * y) / np.sum(w)), rel=1e-12)
    assert row["n"] == known.height
    assert row["ci_low"] < row["estimate"] < row["ci_high"]


def test_estimate_by_group_and_unknown_column_message(tmp_path: Path) -> None:
    data = generate("seed-claims", 400, 9).data
    path = tmp_path / "d.parquet"
    data.write_parquet(path)
    outcome = CliRunner().invoke(
        main, ["estimate", str(path), "--var", "fiqr_total", "--by", "event", "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    rows = json.loads(outcome.output)
    assert {r["group"] for r in rows} == {"baseline", "followup_3m"}
    base = data.filter(pl.col("event") == "baseline")["fiqr_total"].mean()
    assert next(r for r in rows if r["group"] == "baseline")["estimate"] == pytest.approx(base)
    missing = CliRunner().invoke(main, ["estimate", str(path), "--var", "nope"])
    assert missing.exit_code == 2
    assert "column(s) not in" in missing.output


def test_demo_writes_report_and_prints_its_path(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main, ["demo", "--out", str(tmp_path), "--n", "600", "--imputations", "0"]
    )
    assert outcome.exit_code == 0, outcome.output
    printed = Path(outcome.output.strip().splitlines()[-1])
    assert printed == (tmp_path / "report.html").resolve()
    assert printed.exists() and (tmp_path / "results.json").exists()
