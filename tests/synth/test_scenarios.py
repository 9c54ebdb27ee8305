"""The planted truth is present in generated samples and matches the stored population values.

Sample statistics are computed with independent tools: ranks from scipy, OLS residuals from
statsmodels, Pearson from numpy, ANCOVA with statsmodels' formula API (R: lm).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.formula.api as smf
from scipy.stats import rankdata
from statsmodels.regression.linear_model import OLS

from fibrosurvey.synth import SynthResult
from fibrosurvey.synth.truth import C1_COVARIATES

LAB_N_SE = 1 / np.sqrt(7_000)  # standard error of a correlation near 0 with ~8,000 lab draws


def _lab(result: SynthResult) -> pl.DataFrame:
    lab = result.data.filter((pl.col("event") == "baseline") & pl.col("aea").is_not_null())
    # The plan's matrix code (the truth's covariate): 1 = serum.
    return lab.with_columns(
        (pl.col("lab_matrix") == "serum").cast(pl.Int8).alias("lab_matrix_code")
    )


def _partial_spearman(frame: pl.DataFrame, x: str, y: str) -> float:
    complete = frame.drop_nulls([x, y, *C1_COVARIATES])
    z = np.column_stack(
        [np.ones(complete.height)] + [rankdata(complete[c].to_numpy()) for c in C1_COVARIATES]
    )
    rx = OLS(rankdata(complete[x].to_numpy()), z).fit().resid
    ry = OLS(rankdata(complete[y].to_numpy()), z).fit().resid
    return float(np.corrcoef(rx, ry)[0, 1])


def test_seed_claims_low_aea_goes_with_more_pain_fatigue_and_poorer_sleep(
    seed_claims: SynthResult,
) -> None:
    lab = _lab(seed_claims)
    truth = seed_claims.truth["population"]["c1"]["partial_spearman"]["aea"]
    for outcome in ("nrs_pain", "fsq_wpi", "nrs_fatigue", "jss_total", "nrs_sleep_quality"):
        estimate = _partial_spearman(lab, "aea", outcome)
        sign = 1 if outcome == "nrs_sleep_quality" else -1  # sleep quality: higher is better
        assert sign * estimate > 0.1, (outcome, estimate)
        assert estimate == pytest.approx(truth[outcome], abs=4 * LAB_N_SE), outcome


def test_null_has_no_biomarker_symptom_association(null_cohort: SynthResult) -> None:
    lab = _lab(null_cohort)
    for analyte in ("aea", "twoag", "pea", "oea", "sea"):
        for outcome in ("nrs_pain", "fsq_wpi", "jss_total"):
            estimate = _partial_spearman(lab, analyte, outcome)
            assert abs(estimate) < 4 * LAB_N_SE, (analyte, outcome, estimate)
    stored = null_cohort.truth["population"]["c1"]["partial_spearman"]
    assert max(abs(v) for row in stored.values() for v in row.values()) < 0.02


def test_literature_has_no_aea_link_but_higher_ethanolamides_in_fm(
    literature: SynthResult,
) -> None:
    lab = _lab(literature)
    assert abs(_partial_spearman(lab, "aea", "nrs_pain")) < 4 * LAB_N_SE
    fm = lab.filter(pl.col("fsq_acr2016") == 1)
    other = lab.filter(pl.col("fsq_acr2016") == 0)

    def smd(analyte: str) -> float:
        a, b = np.log(fm[analyte].to_numpy()), np.log(other[analyte].to_numpy())
        return float((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))

    assert smd("sea") > 0.15 and smd("oea") > 0.1 and smd("pea") > 0.05
    assert abs(smd("aea")) < 0.1 and abs(smd("twoag")) < 0.1


def _risk_difference(lab: pl.DataFrame, column: str, threshold: float) -> float:
    cut = lab["aea"].quantile(1 / 3)
    frame = lab.drop_nulls(column).with_columns(
        (pl.col(column) >= threshold).alias("case"), (pl.col("aea") < cut).alias("ced")
    )
    ced = frame.filter(pl.col("ced"))["case"].mean()
    other = frame.filter(~pl.col("ced"))["case"].mean()
    return float(ced) - float(other)  # type: ignore[arg-type]


def test_seed_claims_ced_suspected_have_more_depression_anxiety_migraine_ibs(
    seed_claims: SynthResult, null_cohort: SynthResult
) -> None:
    checks = [("phq9_total", 10), ("gad7_total", 10), ("migraine_positive", 1), ("ibs_positive", 1)]
    for column, threshold in checks:
        assert _risk_difference(_lab(seed_claims), column, threshold) > 0.05, column
        assert abs(_risk_difference(_lab(null_cohort), column, threshold)) < 0.04, column


def _ancova(result: SynthResult) -> tuple[float, float, float]:
    """Lifestyle vs analgesics-only effect on 3-month FIQR, adjusted for baseline FIQR etc."""
    data = result.data
    baseline = data.filter(pl.col("event") == "baseline").select(
        "participant_id",
        pl.col("fiqr_total").alias("fiqr_0"),
        "demo_age",
        "demo_sex",
        "demo_bmi",
        lifestyle=(
            (pl.col("tx_omega3_supplement") == 1)
            | (pl.col("tx_fish_servings_week") >= 2)
            | (pl.col("tx_aerobic_min_week") >= 150)
            | (pl.col("tx_resistance_sessions_week") >= 2)
            | (pl.col("tx_mindbody_sessions_week") >= 1)
            | (pl.col("tx_sleep_hygiene") == 1)
            # Any CBD product (isolate, broad- or full-spectrum), or THC up to 5 mg/day.
            | (pl.col("tx_cbd_product").is_in([1, 2, 3]) & (pl.col("tx_cbd_days_week") >= 1))
            | ((pl.col("tx_thc_mg_day") > 0) & (pl.col("tx_thc_mg_day") <= 5))
        ),
        analgesic=(pl.col("tx_opioid") == 1) | (pl.col("tx_gabapentinoid") == 1),
    )
    followup = data.filter(pl.col("event") == "followup_3m").select(
        "participant_id", pl.col("fiqr_total").alias("fiqr_3")
    )
    frame = (
        baseline.join(followup, on="participant_id")
        .filter(pl.col("lifestyle") | pl.col("analgesic"))
        .drop_nulls()
        .with_columns(pl.col("lifestyle").cast(pl.Int8))
        .to_pandas()
    )
    fit = smf.ols("fiqr_3 ~ lifestyle + fiqr_0 + demo_age + demo_sex + demo_bmi", frame).fit()
    low, high = fit.conf_int(alpha=0.001).loc["lifestyle"]
    return float(fit.params["lifestyle"]), float(low), float(high)


def test_seed_claims_lifestyle_improves_fiqr_more_than_analgesics_alone(
    seed_claims: SynthResult,
) -> None:
    estimate, low, high = _ancova(seed_claims)
    truth = seed_claims.truth["population"]["c3"]["ancova_lifestyle_vs_analgesics_only"]
    assert high < -2
    assert low <= truth <= high, (estimate, truth)


def test_null_has_no_lifestyle_effect(null_cohort: SynthResult) -> None:
    estimate, low, high = _ancova(null_cohort)
    assert low <= 0 <= high, estimate
    assert null_cohort.truth["population"]["c3"]["att_fiqr_points"] == 0


def test_followup_regresses_to_the_mean(null_cohort: SynthResult) -> None:
    data = null_cohort.data
    wide = (
        data.filter(pl.col("event") == "baseline")
        .select("participant_id", pl.col("fiqr_total").alias("b"))
        .join(
            data.filter(pl.col("event") == "followup_3m").select(
                "participant_id", pl.col("fiqr_total").alias("f")
            ),
            on="participant_id",
        )
        .drop_nulls()
    )
    top = wide.filter(pl.col("b") >= wide["b"].quantile(0.8))
    bottom = wide.filter(pl.col("b") <= wide["b"].quantile(0.2))
    assert float((top["f"] - top["b"]).mean()) < -3  # type: ignore[arg-type]
    assert float((bottom["f"] - bottom["b"]).mean()) > 3  # type: ignore[arg-type]
