"""Sensitivity analyses (multiple imputation) and design-based descriptive estimates.

Multiple imputation: for each analysis block the variables it uses (at its event) are
imputed ``m`` times by chained equations (:func:`fibrosurvey.stats.imputation.multiply_impute`;
correlation analyses sharing a visit and covariates share one imputation model), every
hypothesis is re-estimated on each completed copy and the estimates are pooled by Rubin's
rules (:func:`fibrosurvey.stats.imputation.rubin_pool`) on the scale where they are close to
normal: Fisher z for correlations, log odds for odds ratios, the raw scale otherwise. Binary
variables are imputed on the 0-1 scale and rounded; categorical covariates are rounded to the
nearest observed level. Exposure *groups* of change analyses are not imputed (a missing group
there means "in neither group", which is not a missing value), and discrimination analyses are
complete-case only (cross-validated AUCs have no agreed pooling rule).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import polars as pl
from rich.progress import Progress

from fibrosurvey.analysis.frames import at_event, change_frame
from fibrosurvey.analysis.plan import (
    ChangeAnalysis,
    CorrelationAnalysis,
    GroupComparison,
    Plan,
)
from fibrosurvey.analysis.results import HypothesisResult
from fibrosurvey.stats._result import Estimate
from fibrosurvey.stats.imputation import imputation_maker, rubin_pool

__all__ = ["descriptive_estimates", "imputation_sensitivity", "pool_estimates"]

Task = Any


def _scale(result: Estimate) -> tuple[float, float, str, int] | None:
    """(theta, se, back-transform, k_params) for pooling, or None when not poolable."""
    if not result.ok:
        return None
    if hasattr(result, "k_covariates"):
        k = int(result.k_covariates)
        dof = result.n - 3 - k
        if dof < 1 or abs(result.estimate) >= 1:
            return None
        return math.atanh(result.estimate), 1 / math.sqrt(dof), "tanh", k + 2
    # k_params: the model's parameters, so that n - k_params is its complete-data df.
    if hasattr(result, "log_or"):
        k = len(getattr(result, "coefficients", ())) or 2
        return float(result.log_or), float(getattr(result, "se_log_or", math.nan)), "exp", k
    if hasattr(result, "se"):
        k = result.n - int(result.df) if hasattr(result, "df") else 2
        return float(result.estimate), float(result.se), "identity", k
    return None


def pool_estimates(results: list[Estimate], alpha: float) -> dict[str, Any]:
    """Rubin-pool one hypothesis over imputations; returns a sensitivity record."""
    scaled = [_scale(r) for r in results]
    usable = [s for s in scaled if s is not None]
    if len(usable) < 2:
        return {"status": "not poolable", "note": "fewer than 2 imputations gave an estimate"}
    back = usable[0][2]
    thetas = np.array([s[0] for s in usable])
    variances = np.array([s[1] ** 2 for s in usable])
    n_obs = int(min(r.n for r in results))
    pooled = rubin_pool(thetas, variances, n_obs=n_obs, k_params=usable[0][3], alpha=alpha)
    transform = {"tanh": math.tanh, "exp": math.exp, "identity": float}[back]
    return {
        "label": f"multiple imputation (m = {len(usable)}, Rubin's rules)",
        "method": f"{results[0].method} pooled ({back} scale)",
        "n": n_obs,
        "estimate": transform(pooled.estimate),
        "ci_low": transform(pooled.ci_low),
        "ci_high": transform(pooled.ci_high),
        "p": float(pooled.p),
        "fmi": float(pooled.fmi),
        "status": pooled.status,
        "note": pooled.note,
    }


def _block_frame(analysis: Any, plan: Plan, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    covariates = plan.covariates_of(analysis)
    if isinstance(analysis, ChangeAnalysis):
        wide = change_frame(
            frame,
            outcome=analysis.outcome,
            exposures=analysis.exposures,
            covariates=covariates,
            baseline_event=analysis.baseline_event,
            followup_event=analysis.followup_event,
            exposure_event=analysis.exposure_event,
        )
        return wide, ["_base", "_follow", *covariates]
    data = at_event(frame, analysis.event)
    if isinstance(analysis, CorrelationAnalysis):
        columns = [*analysis.exposures, *(o.column for o in analysis.outcomes), *covariates]
    else:
        assert isinstance(analysis, GroupComparison)
        columns = [analysis.group, *(o.column for o in analysis.outcomes), *covariates]
    return data, list(dict.fromkeys(columns))


def _imputer(
    data: pl.DataFrame, columns: list[str], plan: Plan
) -> Callable[[int], pl.DataFrame] | None:
    """A maker of completed copy i (rounded where needed); None when nothing is missing."""
    data = data.with_columns(pl.col(columns).cast(pl.Float64))
    # Only impute columns with something missing; the rest are predictors as they are.
    stats = data.select(
        *[pl.col(c).null_count().alias(f"{c}|nulls") for c in columns],
        *[pl.col(c).drop_nulls().is_in([0.0, 1.0]).all().alias(f"{c}|binary") for c in columns],
    ).row(0, named=True)
    if not any(stats[f"{c}|nulls"] for c in columns):
        return None
    make = imputation_maker(data, columns, seed=plan.seed, max_iter=5)
    rounding: list[pl.Expr] = []
    for column in columns:
        if stats[f"{column}|binary"] or column in plan.categorical:
            rounding.append(pl.col(column).round(0))

    def copy(i: int) -> pl.DataFrame:
        made = make(i)
        return made.with_columns(rounding) if rounding else made

    return copy


def _impute(data: pl.DataFrame, columns: list[str], plan: Plan, m: int) -> list[pl.DataFrame]:
    """All ``m`` completed copies at once (the runner makes them one at a time instead)."""
    make = _imputer(data, columns, plan)
    return [] if make is None else [make(i) for i in range(m)]


# The m re-analyses run on this many threads (NumPy, SciPy and polars release the GIL in the
# heavy parts); each thread makes one imputed copy, analyses it and drops it, so at most this
# many copies are in memory at once.
WORKERS = min(2, os.cpu_count() or 1)


def imputation_sensitivity(
    rows: list[HypothesisResult],
    tasks: list[Task],
    block_of: list[tuple[Any, int]],
    plan: Plan,
    frame: pl.DataFrame,
    m: int,
    bar: Progress,
) -> None:
    """Add ``sensitivity['imputation']`` to every hypothesis of every imputable block."""
    # Correlation analyses at the same visit with the same covariates share one imputation
    # model (the union of their variables): one richer model instead of several, and less work.
    blocks: dict[object, tuple[list[Any], list[int]]] = {}
    for analysis, index in block_of:
        if isinstance(analysis, CorrelationAnalysis):
            key: object = ("correlation", analysis.event, tuple(plan.covariates_of(analysis)))
        elif isinstance(analysis, GroupComparison | ChangeAnalysis):
            key = id(analysis)
        else:
            continue
        members, indexes = blocks.setdefault(key, ([], []))
        if not any(member is analysis for member in members):
            members.append(analysis)
        indexes.append(index)
    progress = bar.add_task(f"multiple imputation (m = {m})", total=len(blocks) * m)
    alpha = 1 - plan.confidence
    for members, indexes in blocks.values():
        data, columns = _block_frame(members[0], plan, frame)
        for other in members[1:]:
            columns = list(dict.fromkeys([*columns, *_block_frame(other, plan, frame)[1]]))
        make = _imputer(data, columns, plan)
        if make is None:
            for i in indexes:
                rows[i].sensitivity["imputation"] = {
                    "status": "no missing data",
                    "note": "nothing to impute; identical to the complete-case result",
                }
            bar.advance(progress, m)
            continue

        def analyse(
            copy_index: int,
            make: Callable[[int], pl.DataFrame] = make,
            indexes: list[int] = indexes,
        ) -> list[Any]:
            copy = make(copy_index)
            estimates = [tasks[i](copy) for i in indexes]
            bar.advance(progress, 1)
            return estimates

        # warnings.catch_warnings (used around model fits) is not thread-safe: two threads
        # leaving it out of order would leave a filter behind. Inside one outer block every
        # such change is undone when the block ends.
        with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=WORKERS) as pool:
            warnings.simplefilter("ignore")
            per_copy = list(pool.map(analyse, range(m)))  # in copy order, as Rubin's rules
        per_row: dict[int, list[Estimate]] = {
            i: [estimates[k] for estimates in per_copy] for k, i in enumerate(indexes)
        }
        for i in indexes:
            rows[i].sensitivity["imputation"] = pool_estimates(per_row[i], alpha)


def descriptive_estimates(plan: Plan, frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Design-based means/proportions (Taylor linearisation) as named by the plan."""
    if not plan.descriptive:
        return []
    from fibrosurvey.analysis.design import design_estimates

    return design_estimates(plan, frame)
