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
    "dx_anxiety": "Anxiety (diagnosed)",
    "dx_depression": "Depression (diagnosed)",
    "dx_ibs": "Irritable bowel syndrome (diagnosed)",
    "dx_migraine": "Migraine (diagnosed)",
    "dx_tmd": "Temporomandibular disorder (diagnosed)",
    "dx_interstitial_cystitis": "Interstitial cystitis (diagnosed)",
    "dx_cfs": "Chronic fatigue syndrome (diagnosed)",
    "dx_restless_legs": "Restless legs (diagnosed)",
    "dx_fibromyalgia": "Fibromyalgia (diagnosed)",
    "migraine_positive": "Migraine (ID-Migraine positive)",
    "ibs_positive": "Irritable bowel syndrome (Manning positive)",
    "nrs_pain": "Pain rating (0-10)",
    "nrs_fatigue": "Fatigue rating (0-10)",
    "nrs_sleep_quality": "Sleep quality rating (0-10, higher = better)",
}


def label_of(plan: Plan, column: str) -> str:
    for derivation in plan.derive:
        if derivation.name == column and derivation.label:
            return derivation.label
    return _BUILT_IN.get(column, column)
