"""The planted truth: scenario parameters and the population values an analysis should recover.

The population values are computed numerically on a large complete cohort (no item
non-response, everyone with a lab draw and a follow-up; the lab draw and attrition do not change
these estimands except through MAR attrition, see below) by :func:`population_truth`, once per
scenario, and shipped in ``truth_values.json``; ``python -m fibrosurvey.synth.truth`` recomputes
them. Definitions:

* ``c1.partial_spearman[analyte][outcome]``: partial Spearman correlation of the measured
  concentration (with pre-analytical artefacts and LLOQ censoring) and the outcome, adjusted for
  ``c1.covariates`` = demo_age, demo_sex, demo_bmi, tx_cannabis_recreational, lab_fasting,
  lab_minutes_to_centrifuge, lab_matrix_code (1 = serum). Method: rank every variable (average
  ties), regress the ranks of x and y on the covariate ranks by OLS and correlate the residuals
  (R: ``ppcor::pcor.test(x, y, z, method = "spearman")``; pingouin
  ``partial_corr(method="spearman")``). Outcomes: fsq_wpi,
  nrs_pain, peg_score, fsq_fatigue, nrs_fatigue, jss_total, nrs_sleep_quality (higher = BETTER
  sleep, so C1 predicts a POSITIVE correlation there and negative ones elsewhere).
* ``c2``: CED-suspected = AEA below the population's lowest tertile of measured AEA. For each
  outcome (phq9_total >= 10, gad7_total >= 10, migraine_positive, ibs_positive, dx_depression,
  dx_anxiety, dx_migraine, dx_ibs): prevalence in CED-suspected and others, risk difference
  (CED - other) and odds ratio, unadjusted.
* ``c3``: exposure groups from BASELINE tx (see fibrosurvey.synth.treatments): ``lifestyle`` =
  any lifestyle domain, ``analgesics_only`` = opioid or gabapentinoid and no lifestyle domain.
  ``ancova_lifestyle_vs_analgesics_only``: OLS coefficient of lifestyle in fiqr_total_3m ~
  lifestyle + fiqr_total_baseline + demo_age + demo_sex + demo_bmi among the two groups
  (statsmodels ``ols``; R ``lm``). ``att_fiqr_points``: the causal effect of the planted
  effects on FIQR at 3 months among the lifestyle group, from the same seed drawn with and
  without the effects (exact counterfactual). ``latent_effects``: the data-generating values.
* ``c2...adjusted_odds_ratio``: exp(coefficient of CED-suspected) in an unpenalised logistic
  model of the outcome on CED-suspected plus the C1 covariates (R: ``glm(family = binomial)``).
* ``c4``: per analyte, standardised mean difference of log concentration (criteria-positive
  minus negative, pooled SD) and the AUC of the concentration alone for fsq_acr2016.
* ``c4_panel``: population AUC (logistic model fitted on the whole population, so no
  optimism) for fsq_acr2016 and for high severity (FIQR total >= 60) of the clinical model
  (age, sex, BMI) and of the five log biomarkers plus the clinical model, and the AUC gain.
* ``calibration``: the headline rates of the complete population (FM share etc.).

Complete-case analyses of a generated sample estimate these values up to sampling error and a
small bias from MAR non-response and attrition.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from scipy.stats import rankdata

from fibrosurvey.dataset import ANALYTES
from fibrosurvey.synth.scenarios import SCENARIOS
from fibrosurvey.synth.simulation import Simulation, simulate, without_effects

__all__ = [
    "C1_COVARIATES",
    "C1_OUTCOMES",
    "C2_OUTCOMES",
    "complete_scores",
    "partial_spearman",
    "population_truth",
    "stored_truth",
    "truth_for",
]

C1_OUTCOMES = (
    "fsq_wpi",
    "nrs_pain",
    "peg_score",
    "fsq_fatigue",
    "nrs_fatigue",
    "jss_total",
    "nrs_sleep_quality",
)
C1_COVARIATES = (
    "demo_age",
    "demo_sex",
    "demo_bmi",
    "tx_cannabis_recreational",
    "lab_fasting",
    "lab_minutes_to_centrifuge",
    "lab_matrix_code",
)
C2_OUTCOMES = (
    "phq9_moderate",
    "gad7_moderate",
    "migraine_positive",
    "ibs_positive",
    "dx_depression",
    "dx_anxiety",
    "dx_migraine",
    "dx_ibs",
)
# 300,000: Monte Carlo error of a correlation about 0.002, far below every test tolerance
# (1,000,000 before; on a shared 2-core machine that took most of an hour).
TRUTH_N = 300_000
HIGH_SEVERITY_FIQR = 60.0  # "high severity" for C4: FIQR total >= 60
TRUTH_SEED = 20261123
Arrays = dict[str, np.ndarray]


def _sum(items: Arrays, prefix: str, k: int, width: int = 0) -> np.ndarray:
    return np.asarray(
        sum(items[f"{prefix}{i:0{width}d}"].astype(np.float64) for i in range(1, k + 1))
    )


def complete_scores(items: Arrays) -> Arrays:
    """Scores of COMPLETE answers (no proration), for calibration and truth only.

    The public scores come from :func:`fibrosurvey.scoring.score_frame`; this small version
    exists so the truth does not depend on the scoring engine it is used to test.
    """
    from fibrosurvey.synth.clinical import FSQ_SITES

    out: Arrays = {}
    if "fsq_neck" in items:
        wpi = sum(items[f"fsq_{s}"].astype(np.int64) for s in FSQ_SITES)
        sss = sum(
            items[f"fsq_{s}"].astype(np.int64)
            for s in ("fatigue", "unrefreshed", "cognitive", "headache", "abdominal", "depression")
        )
        regions = _regions(items)
        out["fsq_wpi"] = np.asarray(wpi, dtype=np.float64)
        out["fsq_sss"] = np.asarray(sss, dtype=np.float64)
        out["fsq_fs"] = out["fsq_wpi"] + out["fsq_sss"]
        out["fsq_fatigue"] = items["fsq_fatigue"].astype(np.float64)
        criteria = ((wpi >= 7) & (sss >= 5)) | ((wpi >= 4) & (wpi <= 6) & (sss >= 9))
        out["fsq_acr2016"] = (criteria & (regions >= 4) & (items["fsq_duration"] == 1)).astype(
            np.float64
        )
    if "phq9_1" in items:
        out["phq9_total"] = _sum(items, "phq9_", 9)
        out["phq9_moderate"] = (out["phq9_total"] >= 10).astype(np.float64)
        out["gad7_total"] = _sum(items, "gad7_", 7)
        out["gad7_moderate"] = (out["gad7_total"] >= 10).astype(np.float64)
        out["jss_total"] = _sum(items, "jss_", 4)
        out["migraine_positive"] = (_sum(items, "migraine_", 3) >= 2).astype(np.float64)
        out["ibs_positive"] = (_sum(items, "ibs_", 6) >= 3).astype(np.float64)
    out["fiqr_total"] = np.asarray(
        sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(1, 10)) / 3
        + sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(10, 12))
        + sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(12, 22)) / 2
    )
    out["peg_score"] = _sum(items, "peg_", 3) / 3
    for column in ("nrs_pain", "nrs_fatigue", "nrs_sleep_quality"):
        out[column] = items[column].astype(np.float64)
    if "demo_weight_kg" in items:
        out["demo_bmi"] = items["demo_weight_kg"] / (items["demo_height_cm"] / 100) ** 2
    return out


def _regions(items: Arrays) -> np.ndarray:
    groups = [
        ("shoulder_l", "upperarm_l", "lowerarm_l"),
        ("shoulder_r", "upperarm_r", "lowerarm_r"),
        ("hip_l", "upperleg_l", "lowerleg_l"),
        ("hip_r", "upperleg_r", "lowerleg_r"),
        ("neck", "upperback", "lowerback"),
    ]
    return np.asarray(
        sum(
            np.any(np.stack([items[f"fsq_{s}"] == 1 for s in group]), axis=0).astype(np.int64)
            for group in groups
        )
    )


def partial_spearman(x: np.ndarray, y: np.ndarray, covariates: np.ndarray) -> float:
    """Partial Spearman correlation: Pearson correlation of rank residuals after OLS on ranks."""
    ranks = [rankdata(x), rankdata(y)]
    z = np.column_stack([np.ones(x.size), *[rankdata(c) for c in covariates.T]])
    residuals = [r - z @ np.linalg.lstsq(z, r, rcond=None)[0] for r in ranks]
    return float(np.corrcoef(residuals[0], residuals[1])[0, 1])


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    """Mann-Whitney AUC with average ranks for ties."""
    ranks = rankdata(score)
    positives = label == 1
    n1, n0 = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _logistic(features: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unpenalised logistic regression (R: glm(family = binomial)) on standardised features.

    Returns (coefficients on the ORIGINAL feature scale, linear predictor).
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float64)
    centre, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=5000).fit((x - centre) / scale, label)
    return model.coef_[0] / scale, model.decision_function((x - centre) / scale)


def population_truth(scenario: str, n: int = TRUTH_N, seed: int = TRUTH_SEED) -> dict[str, Any]:
    """Compute the population values of one scenario on a complete cohort of size ``n``."""
    sim = simulate(scenario, n, seed)
    base = {**sim.baseline}
    scores = complete_scores(base)
    labs = sim.labs
    covariates = np.column_stack(
        [
            base["demo_age"],
            base["demo_sex"],
            scores["demo_bmi"],
            base["tx_cannabis_recreational"],
            labs["lab_fasting"],
            labs["lab_minutes_to_centrifuge"],
            labs["lab_matrix"],  # 1 = serum (the plan's lab_matrix_code; plasma 0)
        ]
    ).astype(np.float64)
    c1 = {
        analyte: {
            outcome: round(partial_spearman(labs[analyte], scores[outcome], covariates), 4)
            for outcome in C1_OUTCOMES
        }
        for analyte in ANALYTES
    }
    c1_values = {**scores, **{k: base[k].astype(np.float64) for k in base if k.startswith("dx_")}}
    ced = labs["aea"] < np.quantile(labs["aea"], 1 / 3)
    c2: dict[str, dict[str, float]] = {}
    for outcome in C2_OUTCOMES:
        values = c1_values[outcome]
        p1, p0 = float(values[ced].mean()), float(values[~ced].mean())
        c2[outcome] = {
            "prevalence_ced": round(p1, 4),
            "prevalence_other": round(p0, 4),
            "risk_difference": round(p1 - p0, 4),
            "odds_ratio": round((p1 / (1 - p1)) / (p0 / (1 - p0)), 4),
            "adjusted_odds_ratio": round(
                float(np.exp(_logistic(np.column_stack([ced, covariates]), values)[0][0])), 4
            ),
        }

    followup_scores = complete_scores(sim.followup)
    counterfactual = simulate(without_effects(sim.scenario), n, seed)
    cf_scores = complete_scores(counterfactual.followup)
    lifestyle = sim.domains["any_lifestyle"] == 1
    analgesic_only = (sim.domains["analgesic"] == 1) & ~lifestyle
    groups = lifestyle | analgesic_only
    design = np.column_stack(
        [
            np.ones(n),
            lifestyle,
            scores["fiqr_total"],
            base["demo_age"],
            base["demo_sex"],
            scores["demo_bmi"],
        ]
    )[groups]
    beta = np.linalg.lstsq(design, followup_scores["fiqr_total"][groups], rcond=None)[0]
    att = followup_scores["fiqr_total"][lifestyle] - cf_scores["fiqr_total"][lifestyle]
    c3 = {
        "ancova_lifestyle_vs_analgesics_only": round(float(beta[1]), 3),
        "att_fiqr_points": round(float(att.mean()), 3),
        "share_lifestyle": round(float(lifestyle.mean()), 4),
        "share_analgesics_only": round(float(analgesic_only.mean()), 4),
        "mean_fiqr_change": round(
            float((followup_scores["fiqr_total"] - scores["fiqr_total"]).mean()), 3
        ),
    }
    fm = scores["fsq_acr2016"] == 1
    c4: dict[str, dict[str, float]] = {}
    for analyte in ANALYTES:
        log_c = np.log(labs[analyte])
        pooled = np.sqrt((log_c[fm].var(ddof=1) + log_c[~fm].var(ddof=1)) / 2)
        c4[analyte] = {
            "smd_log_fm": round(float((log_c[fm].mean() - log_c[~fm].mean()) / pooled), 4),
            "auc_fm": round(_auc(log_c, fm.astype(np.int8)), 4),
        }
    severe = (scores["fiqr_total"] >= HIGH_SEVERITY_FIQR).astype(np.int8)
    clinical = np.column_stack([base["demo_age"], base["demo_sex"], scores["demo_bmi"]])
    panel = np.column_stack([np.log(labs[a]) for a in ANALYTES])
    c4_panel: dict[str, float] = {}
    for name, label in (("fm", fm.astype(np.int8)), ("high_severity", severe)):
        clinical_auc = _auc(_logistic(clinical, label)[1], label)
        both_auc = _auc(_logistic(np.column_stack([panel, clinical]), label)[1], label)
        c4_panel[f"auc_{name}_clinical"] = round(clinical_auc, 4)
        c4_panel[f"auc_{name}_panel_plus_clinical"] = round(both_auc, 4)
        c4_panel[f"auc_gain_{name}"] = round(both_auc - clinical_auc, 4)
    calibration = {
        "fm_share": round(float(fm.mean()), 4),
        "fiqr_mean_fm": round(float(scores["fiqr_total"][fm].mean()), 2),
        "fiqr_sd_fm": round(float(scores["fiqr_total"][fm].std(ddof=1)), 2),
        "fs_mean_fm": round(float(scores["fsq_fs"][fm].mean()), 2),
        "migraine_positive_fm": round(float(scores["migraine_positive"][fm].mean()), 4),
        "ibs_positive_fm": round(float(scores["ibs_positive"][fm].mean()), 4),
        "phq9_ge10_fm": round(float(scores["phq9_moderate"][fm].mean()), 4),
        "gad7_ge10_fm": round(float(scores["gad7_moderate"][fm].mean()), 4),
        "female_fm": round(float((base["demo_sex"][fm] == 1).mean()), 4),
    }
    return {
        "population_n": n,
        "population_seed": seed,
        "c1": {"covariates": list(C1_COVARIATES), "partial_spearman": c1},
        "c2": {"rule": "aea < lowest tertile of measured aea", "outcomes": c2},
        "c3": c3,
        "c4": c4,
        "c4_panel": c4_panel,
        "calibration": calibration,
    }


@cache
def stored_truth() -> dict[str, Any]:
    """The shipped population values, keyed by scenario."""
    path = resources.files("fibrosurvey.synth") / "truth_values.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def truth_for(sim: Simulation, rows: int) -> dict[str, Any]:
    """The truth sidecar of one generated sample."""
    from fibrosurvey.synth.scenarios import get_scenario

    scenario = sim.scenario
    population = stored_truth().get(scenario.name, {})
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "n": sim.n,
        "seed": sim.seed,
        "parameters": get_scenario(scenario.name).parameters(),
        "latent_effects_c3": {
            "any_lifestyle": scenario.effect_any_lifestyle,
            "exercise": scenario.effect_exercise,
            "mindbody": scenario.effect_mindbody,
            "gabapentinoid": scenario.effect_gabapentinoid,
        },
        "sample": {
            "participants": sim.n,
            "with_lab": int(sim.has_lab.sum()),
            "with_followup": int(sim.answered_followup.sum()),
            "rows": rows,
        },
        "definitions": {
            "c1": "partial Spearman, ranks residualised on covariate ranks (see truth.py)",
            "c2": "CED-suspected = aea below the lowest tertile; unadjusted RD and OR",
            "c3": "lifestyle = any of omega3, exercise, mindbody, sleep_hygiene, cannabinoid "
            "domains at baseline; analgesics_only = opioid or gabapentinoid without lifestyle",
            "c4_panel": "population AUC of logistic models: clinical (age, sex, BMI) vs five "
            "log biomarkers plus clinical, for fsq_acr2016 and for FIQR total >= 60",
            "population": "values of the infinite population (n=3e5 complete cohort, no "
            "non-response); see fibrosurvey.synth.truth",
            "nrs_sleep_quality": "higher is better sleep",
        },
        "population": population,
    }


def _main() -> None:  # pragma: no cover - maintenance entry point
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else TRUTH_N
    values = {name: population_truth(name, n) for name in SCENARIOS}
    target = resources.files("fibrosurvey.synth") / "truth_values.json"
    with open(str(target), "w", encoding="utf-8") as handle:
        json.dump(values, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"wrote {target}")


if __name__ == "__main__":  # pragma: no cover
    _main()
