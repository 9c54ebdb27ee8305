"""Design-based models in the plan (R ``svyglm``), the plan's ``design.primary`` and the report.

Reference values: ``tests/data/r_plan_design_models.R`` (R survey's ``svyglm`` on the
stratified cluster design of ``tests/data/plan_design_models.csv``), read from its JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from fibrosurvey.analysis import Results, run_plan
from fibrosurvey.analysis.design_models import DESIGN_LABEL, MODEL_LABEL
from fibrosurvey.analysis.plan import PlanError, parse_plan
from fibrosurvey.report.html import render_html

DATA = Path(__file__).resolve().parents[1] / "data"

PLAN = """
plan_version: 1
title: "Design-based models"
registered: "2026-12-03"
design:
  weights: design_weight
  strata: design_stratum
  psu: design_psu
  fpc: design_fpc
  primary: {primary}
missing: {{sensitivity: none}}
covariate_sets:
  basic: [demo_age, demo_sex, demo_bmi]
categorical: [demo_sex]
claims:
  - id: C1
    statement: "Lower AEA goes with more widespread pain."
    analyses:
      - kind: partial_correlation
        covariates: basic
        exposures: [log_aea]
        expected: negative
        outcomes: [fsq_wpi]
  - id: C2
    statement: "CED-suspected people have more anxiety."
    analyses:
      - kind: group_comparison
        group: ced_suspected
        covariates: basic
        outcomes: [dx_anxiety]
  - id: C3
    statement: "Exercise improves FIQR more than standard analgesics."
    analyses:
      - kind: change
        outcome: fiqr_total
        exposure_event: baseline
        covariates: basic
        ipw: false
        exposures: [exercise_vs_standard]
"""


@pytest.fixture(scope="module")
def r_reference() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "r_plan_design_models.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return pl.read_csv(DATA / "plan_design_models.csv", infer_schema_length=None)


def _run(data: pl.DataFrame, primary: str) -> Results:
    return run_plan(data, parse_plan(PLAN.format(primary=primary)))


@pytest.fixture(scope="module")
def model_primary(data: pl.DataFrame) -> Results:
    return _run(data, "model")


@pytest.fixture(scope="module")
def design_primary(data: pl.DataFrame) -> Results:
    return _run(data, "design")


@pytest.mark.parametrize(
    ("model", "claim"), [("linear", "C1"), ("logistic", "C2"), ("change", "C3")]
)
def test_design_based_models_equal_r_svyglm(
    model_primary: Results, r_reference: dict[str, Any], model: str, claim: str
) -> None:
    expected = r_reference[model]
    (row,) = model_primary.hypotheses_of(claim)
    record = row.extra["design_based"]
    assert record["status"] == "ok"
    assert record["n"] == expected["n"]
    assert record["df"] == expected["df_residual"]
    terms = record["terms"]
    assert len(terms["names"]) == len(expected["names"])
    assert terms["estimate"] == pytest.approx(expected["estimate"], rel=1e-6)
    assert terms["se"] == pytest.approx(expected["se"], rel=1e-6)
    assert record["coefficient"] == pytest.approx(expected["estimate"][1], rel=1e-6)
    assert record["se"] == pytest.approx(expected["se"][1], rel=1e-6)
    assert record["p"] == pytest.approx(expected["p"][1], rel=1e-6)


def test_odds_ratio_is_the_exponentiated_coefficient(
    model_primary: Results, r_reference: dict[str, Any]
) -> None:
    (row,) = model_primary.hypotheses_of("C2")
    record = row.extra["design_based"]
    import math

    assert record["estimate"] == pytest.approx(
        math.exp(r_reference["logistic"]["estimate"][1]), rel=1e-6
    )
    assert record["ci_low"] < record["estimate"] < record["ci_high"]
    assert record["null_value"] == 1.0


def test_primary_model_keeps_the_model_based_verdict(model_primary: Results) -> None:
    (row,) = model_primary.hypotheses_of("C1")
    assert row.effect == "partial Spearman rho"
    assert "model_based" not in row.extra


def test_primary_design_puts_the_design_based_analysis_in_the_verdict(
    model_primary: Results, design_primary: Results, r_reference: dict[str, Any]
) -> None:
    for claim in ("C1", "C2", "C3"):
        (model_row,) = model_primary.hypotheses_of(claim)
        (design_row,) = design_primary.hypotheses_of(claim)
        design_record = model_row.extra["design_based"]
        assert design_row.estimate == pytest.approx(design_record["estimate"], rel=1e-12)
        assert design_row.p == pytest.approx(design_record["p"], rel=1e-12)
        assert design_row.effect.startswith("design-based")
        kept = design_row.extra["model_based"]
        assert kept["estimate"] == pytest.approx(model_row.estimate, rel=1e-12)
        assert kept["p"] == pytest.approx(model_row.p, rel=1e-12)
    (c2,) = design_primary.hypotheses_of("C2")
    assert c2.null_value == 1.0
    assert c2.p == pytest.approx(r_reference["logistic"]["p"][1], rel=1e-6)


def _analysis_table(html: str, claim: str) -> str:
    start = html.index(f"Model-based and design-based analyses of {claim}")
    return html[start : html.index("</table>", start)]


@pytest.mark.parametrize("primary", ["model", "design"])
def test_report_shows_both_analyses_primary_first(
    model_primary: Results, design_primary: Results, primary: str
) -> None:
    results = model_primary if primary == "model" else design_primary
    table = _analysis_table(render_html(results), "C2")
    assert f"(primary: {primary}-based)" in table
    first, second = (
        (DESIGN_LABEL, MODEL_LABEL) if primary == "design" else (MODEL_LABEL, DESIGN_LABEL)
    )
    assert table.index(f"Primary: {first}") < table.index(f"Secondary: {second}")
    (row,) = results.hypotheses_of("C2")
    other = row.extra["model_based" if primary == "design" else "design_based"]
    # Both odds ratios appear, as the report rounds them.
    assert f"{row.estimate:.1f}" in table and f"{other['estimate']:.1f}" in table


def test_plan_refuses_an_unknown_primary_analysis() -> None:
    with pytest.raises(PlanError, match=r"line 10 \(design\.primary\).*'model' or 'design'"):
        parse_plan(PLAN.format(primary="weighted"))


def test_plan_refuses_a_design_primary_without_a_design() -> None:
    text = PLAN.format(primary="design")
    for line in ("weights", "strata", "psu", "fpc"):
        text = "\n".join(x for x in text.splitlines() if not x.startswith(f"  {line}:"))
    with pytest.raises(PlanError, match="primary: design needs a design"):
        parse_plan(text)


def test_svyglm_still_names_a_separating_predictor() -> None:
    """The separation check runs only when IRLS diverges; it must still name the column."""
    import numpy as np

    from fibrosurvey.stats.survey_design import SurveyDesign

    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    flag = (np.arange(400) < 40).astype(float)
    y = np.where(flag == 1, 1.0, (rng.random(400) < 0.3).astype(float))
    design = SurveyDesign(rng.uniform(1, 3, 400), psu=np.arange(400) // 10)
    with pytest.raises(ValueError, match=r"separation by .*flag"):
        design.glm(y, np.column_stack([x, flag]), "binomial", names=["x", "flag"])
    fitted = design.glm(y, x[:, None], "binomial", names=["x"])
    assert np.isfinite(fitted.se).all()
