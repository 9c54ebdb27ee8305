"""Separation in a covariate, rare categories counted per model, and inestimable hypotheses
kept in their Benjamini-Hochberg family (issue 14 #2)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from fibrosurvey.analysis import Plan, Results, load_plan, run_plan
from fibrosurvey.analysis.derive import apply_derivations

C2_COVARIATES = [
    "demo_age",
    "demo_bmi",
    "tx_cannabis_recreational",
    "lab_fasting",
    "lab_minutes_to_centrifuge",
]
IC = "C2:ced_suspected:dx_interstitial_cystitis"


def _c2_only() -> Plan:
    plan = load_plan()
    return plan.model_copy(update={"claims": [c for c in plan.claims if c.id == "C2"]})


def _with_other_sex(cohort: pl.DataFrame, with_blood: int, without_blood: int) -> pl.DataFrame:
    """Participants of sex 3 ("other"): ``with_blood`` in the C2 model's complete cases, none
    with interstitial cystitis, and ``without_blood`` who have no AEA (outside the model)."""
    base = cohort.filter(pl.col("event") == "baseline")
    needed = ["aea", "dx_interstitial_cystitis", "demo_sex", *C2_COVARIATES]
    complete = base.drop_nulls(needed).get_column("participant_id").to_list()
    no_blood = base.filter(pl.col("aea").is_null()).get_column("participant_id").to_list()
    other = complete[:with_blood] + no_blood[:without_blood]
    is_other = pl.col("participant_id").is_in(other)
    return cohort.with_columns(
        pl.when(is_other)
        .then(3)
        .when(pl.col("demo_sex") == 3)
        .then(1)
        .otherwise(pl.col("demo_sex"))
        .cast(pl.Int16)
        .alias("demo_sex"),
        pl.when(pl.col("participant_id").is_in(complete[:with_blood]))
        .then(0)
        .otherwise(pl.col("dx_interstitial_cystitis"))
        .cast(pl.Int16)
        .alias("dx_interstitial_cystitis"),
    )


def _row(results: Results, hypothesis_id: str):  # type: ignore[no-untyped-def]
    return next(h for h in results.hypotheses if h.id == hypothesis_id)


def test_a_category_rare_among_the_models_complete_cases_joins_the_reference(
    cohort: pl.DataFrame,
) -> None:
    # 40 participants of "other" sex overall (>= 30), but only 22 in the model, none of them
    # with interstitial cystitis: counted over all rows, the indicator stayed and separated.
    data = _with_other_sex(cohort, with_blood=22, without_blood=18)
    results = run_plan(data, _c2_only(), sensitivity=False, describe=False)
    row = _row(results, IC)
    assert row.status == "ok", row.note
    base = apply_derivations(data, load_plan()).filter(pl.col("event") == "baseline")
    needed = [
        "dx_interstitial_cystitis",
        "ced_suspected",
        "demo_sex",
        "lab_matrix_code",
        *C2_COVARIATES,
    ]
    frame = base.select(needed).drop_nulls().to_pandas()
    assert (frame["demo_sex"] == 3).sum() == 22
    # The sample matrix: serum (64 samples, >= 30) gets its own indicator, plasma the reference.
    assert (frame["lab_matrix_code"] == 1).sum() >= 30
    x = frame[["ced_suspected", *C2_COVARIATES]].assign(
        sex2=(frame["demo_sex"] == 2) * 1.0, serum=(frame["lab_matrix_code"] == 1) * 1.0
    )
    fit = sm.Logit(frame["dx_interstitial_cystitis"], sm.add_constant(x)).fit(disp=False)
    assert row.n == len(frame)
    assert row.estimate == pytest.approx(math.exp(fit.params["ced_suspected"]), rel=1e-6)


def test_a_level_that_separates_only_itself_is_left_out_not_the_hypothesis(
    cohort: pl.DataFrame,
) -> None:
    # 35 participants of "other" sex in the model (>= 30: an indicator of their own), none with
    # interstitial cystitis. Only the sex indicator is separated; the exposure OR exists.
    data = _with_other_sex(cohort, with_blood=35, without_blood=0)
    results = run_plan(data, _c2_only(), sensitivity=False, describe=False)
    row = _row(results, IC)
    assert row.status == "ok", row.note
    assert "demo_sex=3 = 1: none of its 35 participants" in row.note
    base = apply_derivations(data, load_plan()).filter(pl.col("event") == "baseline")
    needed = [
        "dx_interstitial_cystitis",
        "ced_suspected",
        "demo_sex",
        "lab_matrix_code",
        *C2_COVARIATES,
    ]
    frame = base.select(needed).drop_nulls().filter(pl.col("demo_sex") != 3).to_pandas()
    # The sample matrix: serum (64 samples, >= 30) gets its own indicator, plasma the reference.
    assert (frame["lab_matrix_code"] == 1).sum() >= 30
    x = frame[["ced_suspected", *C2_COVARIATES]].assign(
        sex2=(frame["demo_sex"] == 2) * 1.0, serum=(frame["lab_matrix_code"] == 1) * 1.0
    )
    fit = sm.Logit(frame["dx_interstitial_cystitis"], sm.add_constant(x)).fit(disp=False)
    assert row.estimate == pytest.approx(math.exp(fit.params["ced_suspected"]), rel=1e-6)
    assert row.p == pytest.approx(fit.pvalues["ced_suspected"], rel=1e-6)


def test_an_inestimable_hypothesis_stays_in_its_family_with_p_one(cohort: pl.DataFrame) -> None:
    # No interstitial cystitis among the CED-suspected: the exposure itself separates.
    plan = _c2_only()
    derived = apply_derivations(cohort, load_plan())
    flagged = derived.filter(
        (pl.col("event") == "baseline") & (pl.col("ced_suspected") == 1)
    ).get_column("participant_id")
    data = cohort.with_columns(
        pl.when(pl.col("participant_id").is_in(flagged.implode()))
        .then(0)
        .otherwise(pl.col("dx_interstitial_cystitis"))
        .cast(pl.Int16)
        .alias("dx_interstitial_cystitis")
    )
    results = run_plan(data, plan, sensitivity=False, describe=False)
    row = _row(results, IC)
    assert row.status == "separation" and math.isnan(row.p)
    assert row.verdict == "not supported" and "inestimable" in row.note
    family = results.hypotheses_of("C2")
    assert len(family) == 10 and all(math.isfinite(h.q) for h in family)
    expected = multipletests([1.0 if math.isnan(h.p) else h.p for h in family], method="fdr_bh")
    np.testing.assert_allclose([h.q for h in family], expected[1], rtol=1e-12)
