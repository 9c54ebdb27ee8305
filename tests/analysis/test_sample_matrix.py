"""The sample matrix: a planted serum-plasma difference that confounds, and the plan's adjustment.

Serum levels are higher than plasma levels (ex-vivo formation while clotting; the offsets of
:mod:`fibrosurvey.synth.labs`). When serum comes mostly from participants with fibromyalgia
(specialist clinics send serum), a pooled analysis finds biomarkers "associated" with symptoms
that have no association at all in the null scenario. The default plan adjusts for the matrix;
the test compares the adjusted and unadjusted estimates with the planted truth.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from fibrosurvey.analysis import load_plan
from fibrosurvey.analysis.derive import apply_derivations
from fibrosurvey.analysis.describe import cohort_table
from fibrosurvey.analysis.methods import correlation_task
from fibrosurvey.analysis.methods_text import methods_in_words
from fibrosurvey.analysis.plan import CorrelationAnalysis, Plan
from fibrosurvey.synth import generate
from fibrosurvey.synth.scenarios import SCENARIOS
from fibrosurvey.synth.truth import stored_truth

CONFOUNDED = replace(SCENARIOS["null"], serum_share_by_fm=(0.6, 0.05))


@pytest.fixture(scope="module")
def confounded() -> pl.DataFrame:
    data = generate(CONFOUNDED, 4000, 7).data
    return apply_derivations(data, load_plan())


def _without_matrix(plan: Plan) -> Plan:
    sets = {
        name: [c for c in columns if c != "lab_matrix_code"]
        for name, columns in plan.covariate_sets.items()
    }
    return plan.model_copy(update={"covariate_sets": sets})


def _c1(plan: Plan) -> CorrelationAnalysis:
    analysis = next(a for c in plan.claims if c.id == "C1" for a in c.analyses)
    assert isinstance(analysis, CorrelationAnalysis)
    return analysis


def test_the_default_plan_adjusts_every_biomarker_analysis_for_the_matrix() -> None:
    plan = load_plan()
    assert "lab_matrix_code" in plan.covariate_sets["confounders"]
    assert "lab_matrix_code" in plan.categorical
    for claim in plan.claims:
        for analysis in claim.analyses:
            if claim.id in ("C0", "C1", "C2"):
                assert "lab_matrix_code" in plan.covariates_of(analysis), claim.id
    methods = " ".join(methods_in_words(plan, 0))
    assert "adjusts for the matrix (lab_matrix_code" in methods
    assert "plasma samples only" in methods


def test_the_synthetic_cohort_plants_a_matrix_difference(confounded: pl.DataFrame) -> None:
    medians = (
        confounded.filter(pl.col("lab_matrix").is_not_null())
        .group_by("lab_matrix")
        .agg(pl.col("aea").median())
        .sort("lab_matrix")
    )
    plasma, serum = medians.get_column("aea").to_list()
    assert serum / plasma > 1.25  # the planted +40% (exp 0.34), blurred by the FM mix


def test_adjusting_for_the_matrix_recovers_the_planted_null(confounded: pl.DataFrame) -> None:
    truth = stored_truth()["null"]["c1"]["partial_spearman"]["aea"]["fsq_wpi"]
    assert abs(truth) < 0.01
    plan = load_plan()
    adjusted = correlation_task(_c1(plan), plan, "log_aea", "fsq_wpi")(confounded)
    crude_plan = _without_matrix(plan)
    unadjusted = correlation_task(_c1(crude_plan), crude_plan, "log_aea", "fsq_wpi")(confounded)
    assert adjusted.ok and unadjusted.ok
    # Pooled serum and plasma: a spurious positive correlation whose interval excludes the truth.
    assert unadjusted.ci_low > truth
    # Adjusted: the interval holds the truth and the estimate moved towards it.
    assert adjusted.ci_low <= truth <= adjusted.ci_high
    assert abs(adjusted.estimate - truth) < abs(unadjusted.estimate - truth) / 2


def test_a_rare_matrix_is_left_out_not_pooled(confounded: pl.DataFrame) -> None:
    # 20 serum samples: too few for an indicator, so they leave the model (plasma only).
    serum_ids = (
        confounded.filter(pl.col("lab_matrix") == "serum")
        .get_column("participant_id")
        .unique()
        .sort()
        .head(20)
    )
    few = confounded.filter(
        (pl.col("lab_matrix") != "serum")
        | pl.col("lab_matrix").is_null()
        | pl.col("participant_id").is_in(serum_ids.implode())
    )
    plan = load_plan()
    result = correlation_task(_c1(plan), plan, "log_aea", "fsq_wpi")(few)
    with_plasma = few.filter(pl.col("lab_matrix") == "plasma")
    plasma_rows = with_plasma.filter(
        (pl.col("event") == "baseline")
        & pl.all_horizontal(
            [
                pl.col(c).is_not_null()
                for c in ["log_aea", "fsq_wpi", *plan.covariate_sets["confounders"]]
            ]
        )
    ).height
    assert result.n == plasma_rows


def test_table_one_shows_plasma_and_serum_separately(confounded: pl.DataFrame) -> None:
    table = cohort_table(confounded)
    labels = [row["label"] for row in table["rows"]]
    assert "AEA in plasma, pmol/mL, median [IQR]" in labels
    assert "AEA in serum, pmol/mL, median [IQR]" in labels
    assert not any(label.startswith("AEA, pmol/mL") for label in labels)
    base = confounded.filter(pl.col("event") == "baseline")
    counts = dict(zip(labels, (row["values"][0] for row in table["rows"]), strict=True))
    serum = base.filter((pl.col("lab_matrix") == "serum") & pl.col("aea").is_not_null()).height
    assert counts["Serum samples, n"] == f"{serum:,}"
