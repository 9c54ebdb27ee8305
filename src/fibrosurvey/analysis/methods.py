"""One function per analysis kind: plan analysis + data -> hypothesis results.

These functions only arrange the data (vectorised) and call :mod:`fibrosurvey.stats`; no
statistic is computed here. Verdicts, q-values and minimal detectable effects are filled in by
the runner once a whole family is done.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl

from fibrosurvey.analysis.frames import (
    at_event,
    change_frame,
    column_ranks,
    covariate_matrix,
    model_covariate_mask,
    model_covariates,
    vector,
)
from fibrosurvey.analysis.labels import label_of
from fibrosurvey.analysis.plan import (
    ChangeAnalysis,
    CorrelationAnalysis,
    Discrimination,
    GroupComparison,
    GroupsDerive,
    Plan,
)
from fibrosurvey.analysis.results import HypothesisResult
from fibrosurvey.stats._result import Array, Estimate, complete_cases
from fibrosurvey.stats.change import AncovaResult, ancova, ipw_effect, mean_t_interval
from fibrosurvey.stats.comparison import (
    adjusted_logistic,
    logistic_lr_test,
    odds_ratio,
    risk_difference,
    wilson_interval,
)
from fibrosurvey.stats.correlation import (
    partial_spearman,
    partial_spearman_of_ranks,
    spearman,
)
from fibrosurvey.stats.discrimination import (
    DiscriminationResult,
    cv_auc,
    panel_level_association,
)

__all__ = [
    "Task",
    "change_tasks",
    "correlation_tasks",
    "discrimination_tasks",
    "group_comparison_tasks",
]

# A task computes one hypothesis from a frame (the primary data, an imputed copy or a subset).
Task = Callable[[pl.DataFrame], Estimate]


def _row(
    *,
    claim: str,
    family: str,
    kind: str,
    exposure: str,
    exposure_label: str,
    outcome: str,
    outcome_label: str,
    expected: str,
    effect: str,
    null_value: float,
    result: Estimate,
    extra: dict[str, Any] | None = None,
) -> HypothesisResult:
    return HypothesisResult(
        id=f"{claim}:{exposure}:{outcome}",
        claim=claim,
        family=family,
        kind=kind,
        method=result.method,
        exposure=exposure,
        exposure_label=exposure_label,
        outcome=outcome,
        outcome_label=outcome_label,
        expected=expected,
        effect=effect,
        null_value=null_value,
        n=int(result.n),
        estimate=float(result.estimate),
        ci_low=float(result.ci_low),
        ci_high=float(result.ci_high),
        p=float(result.p),
        status=result.status,
        note=result.note,
        extra=extra or {},
    )


# --- correlation ------------------------------------------------------------------------------


def correlation_task(
    analysis: CorrelationAnalysis, plan: Plan, exposure: str, outcome: str
) -> Task:
    covariates = plan.covariates_of(analysis)
    alpha = 1 - plan.confidence

    def run(frame: pl.DataFrame) -> Estimate:
        data = at_event(frame, analysis.event)
        x, y = vector(data, exposure), vector(data, outcome)
        if analysis.kind == "correlation" or not covariates:
            return spearman(x, y, alpha=alpha)
        z, names = covariate_matrix(data, covariates, plan.categorical, plan.restrict_rare_levels)
        keep = complete_cases(x, y, z)
        if keep.all() and data.height > 1:
            # Every row complete (an imputed copy): rank each variable once per copy.
            used = model_covariate_mask(z, names)
            if used.any():
                ranks = np.column_stack(
                    [
                        column_ranks(data, exposure, x),
                        column_ranks(data, outcome, y),
                        column_ranks(data, ("covariates", *covariates), z)[:, used],
                    ]
                )
                return partial_spearman_of_ranks(ranks, alpha=alpha)
        z, _ = model_covariates(z[keep], names)
        return partial_spearman(x[keep], y[keep], z, alpha=alpha)

    return run


def correlation_tasks(
    analysis: CorrelationAnalysis, plan: Plan, claim: str, family: str, frame: pl.DataFrame
) -> list[tuple[HypothesisResult, Task]]:
    out = []
    data = at_event(frame, analysis.event)
    binary = {
        o.column: bool(
            data.select(
                pl.col(o.column).drop_nulls().cast(pl.Float64).is_in([0.0, 1.0]).all()
            ).item()
        )
        for o in analysis.outcomes
    }
    for exposure in analysis.exposures:
        for outcome in analysis.outcomes:
            task = correlation_task(analysis, plan, exposure, outcome.column)
            result = task(frame)
            expected = outcome.expected or analysis.expected
            row = _row(
                claim=claim,
                family=family,
                kind=analysis.kind,
                exposure=exposure,
                exposure_label=label_of(plan, exposure),
                outcome=outcome.column,
                outcome_label=outcome.label or label_of(plan, outcome.column),
                expected=expected,
                effect="partial Spearman rho" if plan.covariates_of(analysis) else "Spearman rho",
                null_value=0.0,
                result=result,
                extra={
                    "k_covariates": getattr(result, "k_covariates", 0),
                    "outcome_binary": binary[outcome.column],
                },
            )
            out.append((row, task))
    return out


# --- group comparison -------------------------------------------------------------------------


def _group_arrays(
    frame: pl.DataFrame, analysis: GroupComparison, plan: Plan, outcome: str
) -> tuple[Array, Array, Array, list[str]]:
    data = at_event(frame, analysis.event)
    y, g = vector(data, outcome), vector(data, analysis.group)
    z, names = covariate_matrix(
        data, plan.covariates_of(analysis), plan.categorical, plan.restrict_rare_levels
    )
    keep = complete_cases(y, g, z)
    z, names = model_covariates(z[keep], names)
    return y[keep], g[keep], z, names


def group_comparison_task(analysis: GroupComparison, plan: Plan, outcome: str) -> Task:
    alpha = 1 - plan.confidence

    def run(frame: pl.DataFrame) -> Estimate:
        y, g, z, names = _group_arrays(frame, analysis, plan, outcome)
        if analysis.effect == "adjusted_or":
            return adjusted_logistic(y, g, z, names=names, alpha=alpha)
        a, n1, b, n0 = _counts(y, g)
        if analysis.effect == "odds_ratio":
            return odds_ratio(a, n1, b, n0, alpha=alpha)
        return risk_difference(a, n1, b, n0, alpha=alpha)

    return run


def _counts(y: Array, g: Array) -> tuple[int, int, int, int]:
    exposed = g == 1
    return (
        int(y[exposed].sum()),
        int(exposed.sum()),
        int(y[~exposed].sum()),
        int((~exposed).sum()),
    )


def group_comparison_tasks(
    analysis: GroupComparison, plan: Plan, claim: str, family: str, frame: pl.DataFrame
) -> list[tuple[HypothesisResult, Task]]:
    alpha = 1 - plan.confidence
    out = []
    for outcome in analysis.outcomes:
        task = group_comparison_task(analysis, plan, outcome.column)
        result = task(frame)
        y, g, _, _ = _group_arrays(frame, analysis, plan, outcome.column)
        extra: dict[str, Any] = {}
        a, n1, b, n0 = _counts(y, g)
        extra.update(events_exposed=a, n_exposed=n1, events_other=b, n_other=n0)
        if n1 > 0 and n0 > 0:
            rd = risk_difference(a, n1, b, n0, alpha=alpha, ci="newcombe")
            crude = odds_ratio(a, n1, b, n0, alpha=alpha)
            extra.update(
                risk_exposed=rd.risk_exposed,
                risk_other=rd.risk_unexposed,
                risk_difference=rd.estimate,
                risk_difference_ci=[rd.ci_low, rd.ci_high],
                risk_difference_p=rd.p,
                odds_ratio=crude.estimate,
                odds_ratio_ci=[crude.ci_low, crude.ci_high],
                odds_ratio_p=crude.p,
                risk_exposed_ci=list(_wilson_ci(a, n1, alpha)),
                risk_other_ci=list(_wilson_ci(b, n0, alpha)),
            )
        effect = {
            "adjusted_or": "adjusted odds ratio",
            "odds_ratio": "odds ratio",
            "risk_difference": "risk difference",
        }[analysis.effect]
        row = _row(
            claim=claim,
            family=family,
            kind=analysis.kind,
            exposure=analysis.group,
            exposure_label=analysis.group_label or label_of(plan, analysis.group),
            outcome=outcome.column,
            outcome_label=outcome.label or label_of(plan, outcome.column),
            expected=outcome.expected or analysis.expected,
            effect=effect,
            null_value=0.0 if analysis.effect == "risk_difference" else 1.0,
            result=result,
            extra=extra,
        )
        out.append((row, task))
    return out


def _wilson_ci(events: int, total: int, alpha: float) -> tuple[float, float]:
    if total == 0:
        return (math.nan, math.nan)
    return wilson_interval(events, total, alpha)


# --- change (ANCOVA, IPW) ---------------------------------------------------------------------


def _wide(frame: pl.DataFrame, analysis: ChangeAnalysis, plan: Plan) -> pl.DataFrame:
    return change_frame(
        frame,
        outcome=analysis.outcome,
        exposures=analysis.exposures,
        covariates=plan.covariates_of(analysis),
        baseline_event=analysis.baseline_event,
        followup_event=analysis.followup_event,
        exposure_event=analysis.exposure_event,
    )


def _change_arrays(
    wide: pl.DataFrame, analysis: ChangeAnalysis, plan: Plan, exposure: str
) -> tuple[Array, Array, Array, Array]:
    post, pre = vector(wide, "_follow"), vector(wide, "_base")
    group = vector(wide, f"_exp_{exposure}")
    z, names = covariate_matrix(
        wide, plan.covariates_of(analysis), plan.categorical, plan.restrict_rare_levels
    )
    keep = complete_cases(post, pre, group, z)
    z, _ = model_covariates(z[keep], names)
    return post[keep], pre[keep], group[keep], z


def change_task(analysis: ChangeAnalysis, plan: Plan, exposure: str, *, ipw: bool = False) -> Task:
    alpha = 1 - plan.confidence

    def run(frame: pl.DataFrame) -> Estimate:
        wide = frame if "_follow" in frame.columns else _wide(frame, analysis, plan)
        post, pre, group, z = _change_arrays(wide, analysis, plan, exposure)
        if ipw:
            # Outcome = change; the propensity model uses the baseline score and covariates.
            # Indicators of a category seen in only one group (e.g. a handful of participants
            # of "other" sex, all in one arm) would separate the model; such a category is
            # merged into the reference category for the propensity model only.
            return ipw_effect(
                post - pre, group, _overlapping(np.column_stack([pre, z]), group), alpha=alpha
            )
        # HC3 when the plan asks for it: observational groups of very different size and
        # spread make the classical interval too narrow (91% coverage for a nominal 95%).
        return ancova(
            post, pre, group, z, alpha=alpha, cov_type="HC3" if analysis.robust else "classical"
        )

    return run


def change_tasks(
    analysis: ChangeAnalysis, plan: Plan, claim: str, family: str, frame: pl.DataFrame
) -> list[tuple[HypothesisResult, Task]]:
    alpha = 1 - plan.confidence
    wide = _wide(frame, analysis, plan)
    out = []
    for exposure in analysis.exposures:
        task = change_task(analysis, plan, exposure)
        result = task(wide)
        post, pre, group, z = _change_arrays(wide, analysis, plan, exposure)
        extra: dict[str, Any] = {"groups": {}}
        for name, mask in (("exposed", group == 1), ("comparator", group == 0)):
            change = mean_t_interval(post[mask] - pre[mask], alpha)
            n = int(mask.sum())
            extra["groups"][name] = {
                "n": n,
                "baseline_mean": float(pre[mask].mean()) if n else math.nan,
                "followup_mean": float(post[mask].mean()) if n else math.nan,
                "change_mean": change.estimate,
                "change_ci": [change.ci_low, change.ci_high],
            }
        extra["labels"] = _group_labels(plan, exposure)
        extra["k_covariates"] = int(z.shape[1])
        if isinstance(result, AncovaResult):
            extra["outcome_sd"] = float(result.baseline_sd)
            extra["r_baseline"] = float(result.r_baseline)
        row = _row(
            claim=claim,
            family=family,
            kind=analysis.kind,
            exposure=exposure,
            exposure_label=label_of(plan, exposure),
            outcome=analysis.outcome,
            outcome_label=analysis.outcome_label or label_of(plan, analysis.outcome),
            expected=analysis.expected,
            effect="adjusted difference in follow-up score (points)",
            null_value=0.0,
            result=result,
            extra=extra,
        )
        if analysis.ipw:
            try:
                ipw_result = change_task(analysis, plan, exposure, ipw=True)(wide)
                row.sensitivity["ipw"] = _sensitivity(ipw_result, "IPW difference in change")
            except np.linalg.LinAlgError as error:  # a propensity model that cannot be fitted
                row.sensitivity["ipw"] = {
                    "label": "IPW difference in change",
                    "status": "not estimable",
                    "note": f"propensity model could not be fitted: {error}",
                }
        out.append((row, task))
    return out


def _overlapping(z: Array, group: Array) -> Array:
    """Drop 0/1 columns whose 1s all fall in one group (no overlap for the propensity model)."""
    binary = np.all((z == 0) | (z == 1), axis=0)
    in_exposed = (z[group == 1] == 1).any(axis=0)
    in_comparator = (z[group == 0] == 1).any(axis=0)
    keep = ~binary | (in_exposed & in_comparator)
    return z[:, keep]


def _group_labels(plan: Plan, exposure: str) -> dict[str, str]:
    for derivation in plan.derive:
        if derivation.name == exposure and isinstance(derivation, GroupsDerive):
            labels = {
                "exposed": derivation.exposed_label,
                "comparator": derivation.comparator_label,
            }
            # "Exercise vs standard analgesics alone" names both groups when labels are unset.
            if " vs " in derivation.label:
                first, second = derivation.label.split(" vs ", 1)
                if labels["exposed"] == "exposed":
                    labels["exposed"] = first[0].lower() + first[1:]
                if labels["comparator"] == "comparator":
                    labels["comparator"] = second
            return labels
    return {"exposed": "exposed", "comparator": "comparator"}


def _sensitivity(result: Estimate, label: str) -> dict[str, Any]:
    return {
        "label": label,
        "method": result.method,
        "n": int(result.n),
        "estimate": float(result.estimate),
        "ci_low": float(result.ci_low),
        "ci_high": float(result.ci_high),
        "p": float(result.p),
        "status": result.status,
        "note": result.note,
    }


# --- discrimination ---------------------------------------------------------------------------


def discrimination_task(analysis: Discrimination, plan: Plan, target: str) -> Task:
    alpha = 1 - plan.confidence

    def run(frame: pl.DataFrame) -> Estimate:
        data = at_event(frame, analysis.event)
        y, panel, z, _ = _discrimination_arrays(data, analysis, plan, target)
        full = np.column_stack([panel, z])
        result = cv_auc(
            y, full, z if z.shape[1] else None, folds=analysis.folds, seed=plan.seed, alpha=alpha
        )
        if not result.ok:
            return result
        # The p-value: likelihood-ratio test of the panel's coefficients. Testing the AUC
        # difference of nested models is invalid (Pepe et al., Stat Med 2013;32:1467-82): under
        # no association the cross-validated gain is negative (overfitting), so the DeLong
        # test "finds" losses. The AUC gain and its DeLong interval remain the effect size.
        lr = logistic_lr_test(y, panel, z)
        note = (
            f"p: likelihood-ratio test of the panel ({lr.df} df)" if lr.status == "ok" else lr.note
        )
        return replace(result, p=lr.p, note="; ".join(n for n in (result.note, note) if n))

    return run


def _discrimination_arrays(
    data: pl.DataFrame, analysis: Discrimination, plan: Plan, target: str
) -> tuple[Array, Array, Array, list[str]]:
    """Target, panel and covariates on the model's complete cases."""
    y = vector(data, target)
    z, names = covariate_matrix(
        data, plan.covariates_of(analysis), plan.categorical, plan.restrict_rare_levels
    )
    panel = data.select(pl.col(analysis.panel).cast(pl.Float64)).fill_null(np.nan).to_numpy()
    keep = complete_cases(y, panel, z)
    z, names = model_covariates(z[keep], names)
    return y[keep], panel[keep], z, names


def _panel_levels(
    data: pl.DataFrame, analysis: Discrimination, plan: Plan, target: str
) -> dict[str, Any]:
    """Which way the panel separates (odds ratio per SD of its mean standardised level)."""
    y, panel, z, names = _discrimination_arrays(data, analysis, plan, target)
    result = panel_level_association(y, panel, z, names=names, alpha=1 - plan.confidence)
    return {
        "claimed": analysis.panel_levels,
        "estimate": result.estimate,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "p": result.p,
        "n": result.n,
        "status": result.status,
        "method": result.method,
    }


def _thin_roc(fpr: Array, tpr: Array, points: int = 101) -> list[list[float]]:
    """The ROC step curve on a fixed FPR grid (keeps JSON and SVG small at any n)."""
    if fpr.size == 0:
        return []
    grid = np.linspace(0.0, 1.0, points)
    # For each grid FPR, the highest TPR reached at or below it (the step function).
    index = np.searchsorted(fpr, grid, side="right") - 1
    values = tpr[np.clip(index, 0, tpr.size - 1)]
    return [[float(f), float(t)] for f, t in zip(grid, values, strict=True)]


def discrimination_tasks(
    analysis: Discrimination, plan: Plan, claim: str, family: str, frame: pl.DataFrame
) -> list[tuple[HypothesisResult, Task]]:
    out = []
    for target in analysis.targets:
        task = discrimination_task(analysis, plan, target.column)
        result = task(frame)
        extra: dict[str, Any] = {}
        if isinstance(result, DiscriminationResult):
            extra = {
                "panel_levels": _panel_levels(
                    at_event(frame, analysis.event), analysis, plan, target.column
                ),
                "auc_full": result.auc_full,
                "auc_full_ci": [result.auc_full_ci_low, result.auc_full_ci_high],
                "auc_base": result.auc_base,
                "auc_base_ci": [result.auc_base_ci_low, result.auc_base_ci_high],
                "n_events": result.n_events,
                "folds": result.folds,
                "roc_full": _thin_roc(result.roc_full_fpr, result.roc_full_tpr),
                "roc_base": _thin_roc(result.roc_base_fpr, result.roc_base_tpr),
            }
        row = _row(
            claim=claim,
            family=family,
            kind=analysis.kind,
            exposure="+".join(analysis.panel),
            exposure_label="biomarker panel",
            outcome=target.column,
            outcome_label=target.label or label_of(plan, target.column),
            expected=target.expected or analysis.expected,
            effect="AUC gain (panel + covariates minus covariates alone)",
            null_value=0.0,
            result=result,
            extra=extra,
        )
        out.append((row, task))
    return out
