"""Calibration targets of the seed-claims cohort at n = 20,000 (see synth/clinical.py).

Scores are recomputed here from the items with plain NumPy sums over COMPLETE answers
(independent of fibrosurvey.scoring), and the scoring engine's ACR 2016 status is checked
against the same hand computation.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fibrosurvey.synth import SynthResult
from fibrosurvey.synth.clinical import FSQ_SITES

SYMPTOMS = ("fatigue", "unrefreshed", "cognitive", "headache", "abdominal", "depression")
REGIONS = (
    ("shoulder_l", "upperarm_l", "lowerarm_l"),
    ("shoulder_r", "upperarm_r", "lowerarm_r"),
    ("hip_l", "upperleg_l", "lowerleg_l"),
    ("hip_r", "upperleg_r", "lowerleg_r"),
    ("neck", "upperback", "lowerback"),
)


def _hand_scores(baseline: pl.DataFrame) -> pl.DataFrame:
    """ACR 2016 (Wolfe 2016), FIQR (Bennett 2009), PHQ-9, GAD-7, ID-Migraine, Manning by hand."""
    wpi = pl.sum_horizontal(pl.col(f"fsq_{s}") for s in FSQ_SITES)
    sss = pl.sum_horizontal(pl.col(f"fsq_{s}") for s in SYMPTOMS)
    regions = pl.sum_horizontal(
        pl.max_horizontal(pl.col(f"fsq_{s}") for s in group) for group in REGIONS
    )
    acr = (
        (((wpi >= 7) & (sss >= 5)) | (wpi.is_between(4, 6) & (sss >= 9)))
        & (regions >= 4)
        & (pl.col("fsq_duration") == 1)
    )
    fiqr = (
        pl.sum_horizontal(pl.col(f"fiqr_{i:02d}") for i in range(1, 10)) / 3
        + pl.sum_horizontal(pl.col(f"fiqr_{i:02d}") for i in range(10, 12))
        + pl.sum_horizontal(pl.col(f"fiqr_{i:02d}") for i in range(12, 22)) / 2
    )
    complete = {
        "fsq": [f"fsq_{s}" for s in (*FSQ_SITES, *SYMPTOMS, "duration")],
        "fiqr": [f"fiqr_{i:02d}" for i in range(1, 22)],
        "phq9": [f"phq9_{i}" for i in range(1, 10)],
        "gad7": [f"gad7_{i}" for i in range(1, 8)],
        "migraine": [f"migraine_{i}" for i in range(1, 4)],
        "ibs": [f"ibs_{i}" for i in range(1, 7)],
    }

    def when_complete(name: str, expr: pl.Expr) -> pl.Expr:
        return pl.when(pl.all_horizontal(pl.col(complete[name]).is_not_null())).then(expr)

    return baseline.select(
        when_complete("fsq", acr.cast(pl.Int8)).alias("acr"),
        when_complete("fsq", wpi + sss).alias("fs"),
        when_complete("fiqr", fiqr).alias("fiqr"),
        when_complete("phq9", pl.sum_horizontal(pl.col(complete["phq9"])) >= 10).alias("phq9"),
        when_complete("gad7", pl.sum_horizontal(pl.col(complete["gad7"])) >= 10).alias("gad7"),
        when_complete("migraine", pl.sum_horizontal(pl.col(complete["migraine"])) >= 2).alias(
            "migraine"
        ),
        when_complete("ibs", pl.sum_horizontal(pl.col(complete["ibs"])) >= 3).alias("ibs"),
        pl.col("demo_sex"),
        pl.col("fsq_acr2016").alias("engine_acr"),
    )


@pytest.fixture(scope="module")
def scores(seed_claims: SynthResult) -> pl.DataFrame:
    return _hand_scores(seed_claims.data.filter(pl.col("event") == "baseline"))


def _mean(frame: pl.DataFrame, column: str) -> float:
    return float(frame[column].drop_nulls().cast(pl.Float64).mean())  # type: ignore[arg-type]


def test_scoring_engine_agrees_with_the_hand_acr_2016(scores: pl.DataFrame) -> None:
    both = scores.drop_nulls(["acr", "engine_acr"])
    assert both.height > 15_000
    assert (both["acr"] == both["engine_acr"]).all()


def test_about_seventy_percent_meet_acr_2016(scores: pl.DataFrame) -> None:
    assert _mean(scores, "acr") == pytest.approx(0.70, abs=0.03)


def test_fiqr_in_fm_has_mean_about_48_and_sd_about_20(scores: pl.DataFrame) -> None:
    fm = scores.filter(pl.col("acr") == 1)["fiqr"].drop_nulls().to_numpy()
    assert fm.mean() == pytest.approx(48, abs=3)
    assert fm.std(ddof=1) == pytest.approx(20, abs=3)


def test_fs_in_criteria_positive_is_about_21(scores: pl.DataFrame) -> None:
    assert _mean(scores.filter(pl.col("acr") == 1), "fs") == pytest.approx(21, abs=1.5)


@pytest.mark.parametrize(
    ("column", "target"),
    [("migraine", 0.56), ("ibs", 0.50), ("phq9", 0.45), ("gad7", 0.40)],
)
def test_comorbidity_rates_in_fm(scores: pl.DataFrame, column: str, target: float) -> None:
    assert _mean(scores.filter(pl.col("acr") == 1), column) == pytest.approx(target, abs=0.05)


def test_about_ninety_percent_of_fm_are_women(scores: pl.DataFrame) -> None:
    fm = scores.filter(pl.col("acr") == 1)
    assert float((fm["demo_sex"] == 1).mean()) == pytest.approx(0.90, abs=0.03)  # type: ignore[arg-type]


def test_severity_is_higher_in_fm_across_instruments(seed_claims: SynthResult) -> None:
    baseline = seed_claims.data.filter(pl.col("event") == "baseline")
    for column in ("fiqr_total", "phq9_total", "gad7_total", "jss_total", "peg_score", "nrs_pain"):
        fm = _mean(baseline.filter(pl.col("fsq_acr2016") == 1), column)
        other = _mean(baseline.filter(pl.col("fsq_acr2016") == 0), column)
        assert fm > other, column
    # Items of one instrument hang together (a shared latent severity).
    fiqr = baseline.select([f"fiqr_{i:02d}" for i in range(1, 22)]).drop_nulls().to_numpy()
    k = fiqr.shape[1]
    alpha = k / (k - 1) * (1 - fiqr.var(axis=0, ddof=1).sum() / fiqr.sum(axis=1).var(ddof=1))
    assert alpha > 0.85
    assert (
        np.corrcoef(
            baseline.drop_nulls(["fiqr_total", "nrs_pain"])["fiqr_total"],
            baseline.drop_nulls(["fiqr_total", "nrs_pain"])["nrs_pain"],
        )[0, 1]
        > 0.5
    )
