"""The minimal detectable effect (MDE) attached to every *not supported* verdict.

The MDE is the smallest true effect the test would have found with the plan's power, at a
two-sided level of alpha divided by the family size (a Bonferroni bound, conservative for
Benjamini-Hochberg), given the complete-case sample size the test actually had. The numbers
come from :mod:`fibrosurvey.stats.power`; this module only chooses the right function and its
inputs for each kind of analysis.
"""

from __future__ import annotations

import math

from fibrosurvey.analysis.plan import Plan
from fibrosurvey.analysis.results import HypothesisResult
from fibrosurvey.stats.power import (
    mde_auc_gain,
    mde_correlation,
    mde_mean_difference,
    mde_proportions,
)

__all__ = ["minimal_detectable_effect"]


def minimal_detectable_effect(
    row: HypothesisResult, plan: Plan, family_size: int
) -> tuple[float, str]:
    """``(mde, unit)`` for one hypothesis; NaN with a reason when it cannot be computed."""
    alpha = plan.alpha / max(family_size, 1)
    power = plan.power
    extra = row.extra
    try:
        if row.kind in ("correlation", "partial_correlation"):
            k = int(extra.get("k_covariates", 0))
            if row.n - 3 - k < 1:
                return math.nan, "too few complete cases"
            result = mde_correlation(row.n, alpha=alpha, power=power, k_covariates=k)
            return float(result.estimate), "absolute correlation |rho|"
        if row.kind == "group_comparison":
            n1, n0 = int(extra.get("n_exposed", 0)), int(extra.get("n_other", 0))
            p0 = float(extra.get("risk_other", math.nan))
            if n1 < 2 or n0 < 2 or not 0 < p0 < 1:
                return math.nan, "groups too small or outcome constant in the comparison group"
            result = mde_proportions(n1, n0, p0, alpha=alpha, power=power)
            if row.effect == "risk difference":
                return float(result.estimate), "risk difference"
            return float(result.odds_ratio), "odds ratio"
        if row.kind == "change":
            groups = extra.get("groups", {})
            n1 = int(groups.get("exposed", {}).get("n", 0))
            n0 = int(groups.get("comparator", {}).get("n", 0))
            sd = float(extra.get("outcome_sd", math.nan))
            r = float(extra.get("r_baseline", 0.0))
            if n1 < 2 or n0 < 2 or not math.isfinite(sd) or not -1 < r < 1:
                return math.nan, "groups too small"
            result = mde_mean_difference(
                n1,
                n0,
                sd=sd,
                alpha=alpha,
                power=power,
                r_baseline=r,
                k_covariates=int(extra.get("k_covariates", 0)),
            )
            return float(result.estimate), "points of adjusted difference"
        if row.kind == "discrimination":
            events = int(extra.get("n_events", 0))
            base = float(extra.get("auc_base", math.nan))
            if events < 2 or row.n - events < 2 or not math.isfinite(base):
                return math.nan, "too few events"
            result = mde_auc_gain(
                events, row.n - events, min(max(base, 0.5), 0.99), alpha=alpha, power=power
            )
            return float(result.estimate), "AUC gain"
    except ValueError as error:
        return math.nan, str(error)
    return math.nan, ""
