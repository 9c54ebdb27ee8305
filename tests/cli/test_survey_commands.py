"""CLI: fibrosurvey estimate (multi-stage, intervals, quantiles, ratios) and weights calibrate.

R numbers come from tests/data/r_survey_design.R (r_survey_design.json); the tests never run R.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.cli import main
from tests.stats.r_survey_reference import DATA, api, reference

REL = 1e-6


def _estimate(*args: str) -> list[dict[str, Any]]:
    outcome = CliRunner().invoke(main, ["estimate", *args, "--json"])
    assert outcome.exit_code == 0, outcome.output
    rows: list[dict[str, Any]] = json.loads(outcome.output)
    return rows


@pytest.fixture(scope="module")
def clus2_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("survey") / "clus2.csv"
    api("api_clus2.csv").write_csv(path)
    return path


@pytest.fixture(scope="module")
def clus1_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("survey") / "clus1.csv"
    api("api_clus1.csv").write_csv(path)
    return path


def test_estimate_two_stage_mean_matches_the_published_r_value(clus2_csv: Path) -> None:
    (row,) = _estimate(str(clus2_csv), "--var", "api00", "--psu", "dnum,snum",
                       "--fpc", "fpc1,fpc2")  # fmt: skip
    expected = reference()["dclus2"]["mean_api00"]
    assert row["estimate"] == pytest.approx(expected["estimate"], rel=REL)
    assert row["se"] == pytest.approx(expected["se"], rel=REL)
    assert round(row["se"], 3) == 30.099


def test_estimate_proportion_defaults_to_the_logit_interval_of_svyciprop(clus2_csv: Path) -> None:
    (row,) = _estimate(str(clus2_csv), "--var", "sch_wide", "--psu", "dnum,snum",
                       "--fpc", "fpc1,fpc2")  # fmt: skip
    assert row["kind"] == "proportion" and row["interval"] == "logit"
    expected = reference()["dclus2"]["ciprop_logit"]["ci"]
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(expected, rel=REL)
    (wald,) = _estimate(str(clus2_csv), "--var", "sch_wide", "--psu", "dnum,snum",
                        "--fpc", "fpc1,fpc2", "--ci", "beta")  # fmt: skip
    beta = reference()["dclus2"]["ciprop_beta"]["ci"]
    assert [wald["ci_low"], wald["ci_high"]] == pytest.approx(beta, rel=REL)


def test_estimate_quantiles_and_ratio_match_r(clus2_csv: Path) -> None:
    design = ["--psu", "dnum,snum", "--fpc", "fpc1,fpc2"]
    rows = _estimate(str(clus2_csv), "--var", "api00", "--quantiles", "0.25,0.5", *design)
    expected = reference()["dclus2"]["quantile_api00"]
    assert [r["estimate"] for r in rows] == pytest.approx(expected["quantile"][1:3], rel=REL)
    assert [r["se"] for r in rows] == pytest.approx(expected["se"][1:3], rel=REL)
    (ratio,) = _estimate(str(clus2_csv), "--var", "api.stu", "--ratio-to", "enroll", *design)
    assert ratio["estimate"] == pytest.approx(
        reference()["dclus2"]["ratio_stu_enroll"]["estimate"], rel=REL
    )
    assert ratio["se"] == pytest.approx(reference()["dclus2"]["ratio_stu_enroll"]["se"], rel=REL)


def test_estimate_lonely_unit_fails_only_when_asked_with_a_clear_message(tmp_path: Path) -> None:
    data = api("api_clus2.csv").with_columns(pl.lit(float("inf")).alias("inf"))
    path = tmp_path / "d.csv"
    data.write_csv(path)
    args = ["estimate", str(path), "--var", "api00", "--weights", "pw", "--psu", "dnum,snum",
            "--fpc", "fpc1,inf"]  # fmt: skip
    failed = CliRunner().invoke(main, [*args, "--lonely-psu", "fail"])
    assert failed.exit_code == 1
    assert "single sampled unit at stage 2" in failed.output
    assert CliRunner().invoke(main, args).exit_code == 0


@pytest.mark.parametrize(
    ("method", "margins", "case"),
    [
        ("poststratify", "margins_stype.yaml", "dclus1_poststratify_stype"),
        ("rake", "margins_stype_schwide.yaml", "dclus1_rake_stype_schwide"),
        ("linear", "margins_stype_api99.yaml", "dclus1_linear_stype_api99"),
    ],
)
def test_weights_calibrate_then_estimate_matches_r(
    clus1_csv: Path, tmp_path: Path, method: str, margins: str, case: str
) -> None:
    out = tmp_path / "calibrated.parquet"
    done = CliRunner().invoke(
        main,
        ["weights", "calibrate", str(clus1_csv), "--margins", str(DATA / margins), "--method",
         method, "--weights", "pw", "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    written = pl.read_parquet(out)
    assert written["calibrated_weight"].to_list() == pytest.approx(
        reference()[case]["weights"], rel=REL
    )
    sidecar = json.loads((tmp_path / "calibrated.parquet.calibration.json").read_text())
    assert sidecar["method"] == method and sidecar["base_weights"] == "pw"
    # The sidecar is found from --weights; the SE accounts for the calibration.
    (row,) = _estimate(str(out), "--var", "api00", "--weights", "calibrated_weight",
                       "--psu", "dnum", "--fpc", "fpc")  # fmt: skip
    expected = reference()[case]["mean_api00"]
    assert row["estimate"] == pytest.approx(expected["estimate"], rel=REL)
    assert row["se"] == pytest.approx(expected["se"], rel=REL)
    sidecar_file = str(tmp_path / "calibrated.parquet.calibration.json")
    by = _estimate(str(out), "--var", "api00", "--by", "sch.wide", "--psu", "dnum", "--fpc",
                   "fpc", "--calibration", sidecar_file)  # fmt: skip
    assert [r["se"] for r in by] == pytest.approx(reference()[case]["by_schwide"]["se"], rel=REL)


def test_estimate_refuses_a_calibrated_column_that_no_longer_matches_its_sidecar(
    clus1_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "c.csv"
    CliRunner().invoke(
        main,
        ["weights", "calibrate", str(clus1_csv), "--margins", str(DATA / "margins_stype.yaml"),
         "--method", "poststratify", "--weights", "pw", "-o", str(out)],
    )  # fmt: skip
    edited = pl.read_csv(out).with_columns(pl.col("calibrated_weight") * 1.01)
    edited.write_csv(out)
    outcome = CliRunner().invoke(
        main, ["estimate", str(out), "--var", "api00", "--weights", "calibrated_weight"]
    )
    assert outcome.exit_code == 1
    assert "differs from a re-run of the calibration" in outcome.output


def test_weights_calibrate_bad_margins_name_the_problem_and_write_nothing(
    clus1_csv: Path, tmp_path: Path
) -> None:
    margins = tmp_path / "m.yaml"
    margins.write_text("margins:\n  - by: stype\n    population: {E: 4421, H: 755}\n")
    out = tmp_path / "out.csv"
    outcome = CliRunner().invoke(
        main,
        ["weights", "calibrate", str(clus1_csv), "--margins", str(margins), "--method",
         "poststratify", "-o", str(out)],
    )  # fmt: skip
    assert outcome.exit_code == 1
    assert "has 'M', which is not in the population margin (allowed: E, H)" in outcome.output
    assert not out.exists()
    assert "Traceback" not in outcome.output


def test_weights_and_estimate_have_help() -> None:
    for command in (["weights", "calibrate", "--help"], ["estimate", "--help"]):
        outcome = CliRunner().invoke(main, command)
        assert outcome.exit_code == 0 and "Usage:" in outcome.output


def test_event_of_a_calibrated_file_is_a_domain_of_the_calibrated_design(tmp_path: Path) -> None:
    # The 'baseline' rows are the sch.wide == "Yes" schools, so the estimate must equal R's
    # svyby(~api00, ~sch.wide, rake(dclus1, ...), svymean) for "Yes".
    data = api("api_clus1.csv").with_columns(
        pl.when(pl.col("sch.wide") == "Yes").then(pl.lit("baseline")).otherwise(pl.lit("later"))
        .alias("event")
    )  # fmt: skip
    source, out = tmp_path / "events.csv", tmp_path / "raked.csv"
    data.write_csv(source)
    done = CliRunner().invoke(
        main,
        ["weights", "calibrate", str(source), "--margins", str(DATA / "margins_stype_schwide.yaml"),
         "--method", "rake", "--weights", "pw", "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    (row,) = _estimate(str(out), "--var", "api00", "--weights", "calibrated_weight", "--psu",
                       "dnum", "--fpc", "fpc", "--event", "baseline")  # fmt: skip
    expected = reference()["dclus1_rake_stype_schwide"]["by_schwide"]
    assert row["estimate"] == pytest.approx(expected["estimate"][1], rel=REL)
    assert row["se"] == pytest.approx(expected["se"][1], rel=REL)


@pytest.mark.parametrize("method", ["logit", "beta"])
def test_estimate_by_group_proportion_intervals_match_r_svyby_svyciprop(
    clus2_csv: Path, method: str
) -> None:
    rows = _estimate(str(clus2_csv), "--var", "sch_wide", "--by", "stype", "--psu", "dnum,snum",
                     "--fpc", "fpc1,fpc2", "--ci", method)  # fmt: skip
    expected = reference()["dclus2"][f"by_stype_ciprop_{method}"]
    assert [r["group"] for r in rows] == expected["levels"]
    assert [r["ci_low"] for r in rows] == pytest.approx(expected["ci_low"], rel=REL)
    assert [r["ci_high"] for r in rows] == pytest.approx(expected["ci_high"], rel=REL)


def test_estimate_by_group_medians_match_r_svyby_svyquantile(clus2_csv: Path) -> None:
    rows = _estimate(str(clus2_csv), "--var", "api00", "--by", "stype", "--quantiles", "0.5",
                     "--psu", "dnum,snum", "--fpc", "fpc1,fpc2")  # fmt: skip
    expected = reference()["dclus2"]["by_stype_median"]
    assert [r["estimate"] for r in rows] == pytest.approx(expected["estimate"], rel=REL)
    assert [r["se"] for r in rows] == pytest.approx(expected["se"], rel=REL)


def test_calibrating_equal_weights_then_estimating_with_an_fpc_starts_from_equal_weights(
    tmp_path: Path,
) -> None:
    # In apistrat the fpc-derived weights N_h / n_h differ by stratum, so post-stratifying them
    # by sch.wide gives other weights than equal weights: estimate must re-run from equal ones.
    source, out, margins = tmp_path / "strat.csv", tmp_path / "eq.csv", tmp_path / "m.yaml"
    api("api_strat.csv").write_csv(source)
    margins.write_text('margins:\n  - by: sch.wide\n    population: {"No": 1072, "Yes": 5122}\n')
    done = CliRunner().invoke(
        main,
        ["weights", "calibrate", str(source), "--margins", str(margins), "--method",
         "poststratify", "-o", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    outcome = CliRunner().invoke(
        main, ["estimate", str(out), "--var", "api00", "--weights", "calibrated_weight",
               "--strata", "stype", "--fpc", "fpc", "--json"],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.output)[0]["method"] == "svymean"
