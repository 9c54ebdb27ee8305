"""Human-readable labels for columns (plan labels first, then built-in ones)."""

from __future__ import annotations

from fibrosurvey.analysis.plan import Plan

__all__ = ["label_of"]

_BUILT_IN = {
    "aea": "anandamide (AEA)",
    "twoag": "2-AG",
    "pea": "PEA",
    "oea": "OEA",
    "sea": "SEA",
    "fiqr_total": "FIQR total",
    "fsq_wpi": "Widespread pain index",
    "fsq_sss": "Symptom severity scale",
    "fsq_acr2016": "ACR 2016 fibromyalgia criteria met",
    "phq9_total": "PHQ-9 total",
    "gad7_total": "GAD-7 total",
    "jss_total": "Jenkins Sleep Scale total",
    "peg_score": "PEG score",
    "demo_age": "Age (years)",
    "demo_bmi": "Body mass index",
    "demo_sex": "Sex",
}


def label_of(plan: Plan, column: str) -> str:
    for derivation in plan.derive:
        if derivation.name == column and derivation.label:
            return derivation.label
    return _BUILT_IN.get(column, column)
