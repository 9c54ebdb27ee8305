"""Design-based GLMs (R ``svyglm``) by aggregation: one grouped sum per Newton step.

A linear model needs only its sufficient statistics ``X'WX`` and ``X'Wy`` (one scan); a logistic
model needs ``X'WVX`` and ``X'W(y - mu)`` at the current coefficients, one scan per IRLS step,
with ``mu`` computed in the engine from the coefficients sent as literals. The sandwich variance's
meat is the design covariance of the score totals ``sum_i w_i (y_i - mu_i) x_i``: the same
per-stage sums as a mean (:meth:`.sql.SqlPlan.strata_sql`), with cross-products between the
``p`` score columns. Everything follows :meth:`SurveyDesign.glm` step for step (normalised
weights, start at zero, stop when every step is below 1e-10), so the numbers agree to 1e-9.

The separation check of the memory engine (an LP over all rows) does not reduce to sums and is
not run here: a separated logistic model fails to converge and is reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as sps

from fibrosurvey.engines.backends import DuckDBEngine, SparkEngine, SqlEngine
from fibrosurvey.engines.estimate import _check_summary, _needed, read_parquet_source
from fibrosurvey.engines.spec import DesignColumns, Estimand
from fibrosurvey.engines.sql import SqlPlan, sql_number
from fibrosurvey.engines.variance import stage_covariance
from fibrosurvey.stats._result import Array
from fibrosurvey.stats.survey_results import SurveyGLMResult

__all__ = ["glm"]


def glm(
    source: Path | str,
    design: DesignColumns,
    y: str,
    X: Sequence[str],
    family: str = "gaussian",
    engine: str = "memory",
    alpha: float = 0.05,
    max_iter: int = 50,
    **options: Any,
) -> SurveyGLMResult:
    """R ``svyglm(y ~ X, design, family)`` on ``engine`` over Parquet ``source``."""
    if family not in ("gaussian", "binomial"):
        raise ValueError(f"family must be 'gaussian' or 'binomial', got {family!r}")
    if not X:
        raise ValueError("X: give at least one predictor column")
    source = Path(source)
    if engine == "memory":
        return _memory_glm(source, design, y, X, family, alpha, max_iter)
    backend: SqlEngine = (
        DuckDBEngine(source, **options) if engine == "duckdb" else SparkEngine(source, **options)
    )
    try:
        return sql_glm(backend, design, y, X, family, alpha, max_iter)
    finally:
        backend.close()


def _memory_glm(
    source: Path, design: DesignColumns, y: str, X: Sequence[str], family: str, alpha: float,
    max_iter: int,
) -> SurveyGLMResult:  # fmt: skip
    import polars as pl

    from fibrosurvey.stats.survey_design import SurveyDesign

    frame = read_parquet_source(source, _needed(source, [*design.columns, y, *X]))
    for column, value in design.where:
        frame = frame.filter(pl.col(column).cast(pl.String) == value)
    survey = SurveyDesign.from_frame(
        frame, design.weights, list(design.strata) or None, list(design.psu) or None,
        list(design.fpc) or None, design.lonely_psu,
    )  # fmt: skip
    predictors = frame.select([pl.col(c).cast(pl.Float64) for c in X])
    outcome = frame.get_column(y).cast(pl.Float64).to_numpy()
    return survey.glm(outcome, predictors, family, list(X), alpha, max_iter)


class _Model:
    """SQL expressions of one model over the plan's base rows."""

    def __init__(self, plan: SqlPlan, family: str, n_x: int) -> None:
        self.family = family
        self.x = ["1.0", *(f"_y{j}" for j in range(1, n_x + 1))]
        self.used = " AND ".join(f"_y{j} IS NOT NULL" for j in range(n_x + 1))
        self.plan = plan

    def mu(self, beta: Array) -> str:
        eta = " + ".join(f"{sql_number(float(b))} * {x}" for b, x in zip(beta, self.x, strict=True))
        return f"({eta})" if self.family == "gaussian" else f"(1.0 / (1.0 + exp(-({eta}))))"

    def step_sql(self, beta: Array, weight: str) -> str:
        """``X'WVX`` (upper triangle) and ``X'W(y - mu)`` at ``beta``, over the used rows."""
        mu = self.mu(beta)
        v = "1.0" if self.family == "gaussian" else f"({mu} * (1.0 - {mu}))"
        p = len(self.x)
        items = [
            f"sum({weight} * {v} * {self.x[a]} * {self.x[b]}) AS h_{a}_{b}"
            for a in range(p) for b in range(a, p)
        ] + [f"sum({weight} * (_y0 - {mu}) * {self.x[a]}) AS g_{a}" for a in range(p)]  # fmt: skip
        return (
            f"WITH _base AS ({self.plan.base_sql()}) SELECT {', '.join(items)} "
            f"FROM _base WHERE {self.used}"
        )


def _solve_parts(row: dict[str, Any], p: int) -> tuple[Array, Array]:
    hessian = np.empty((p, p))
    for a in range(p):
        for b in range(a, p):
            hessian[a, b] = hessian[b, a] = float(row[f"h_{a}_{b}"])
    return hessian, np.array([float(row[f"g_{a}"]) for a in range(p)])


def sql_glm(
    engine: SqlEngine, design: DesignColumns, y: str, X: Sequence[str], family: str,
    alpha: float, max_iter: int,
) -> SurveyGLMResult:  # fmt: skip
    """:func:`glm` on a SQL engine whose data view is registered."""
    from fibrosurvey.engines.estimate import _check_columns

    wanted = Estimand("mean", y)
    _check_columns(engine.columns(), design, [wanted, *(Estimand("mean", c) for c in X)])
    plan = SqlPlan(design, [wanted], engine.quote, extra_columns=list(X))
    if plan.outcomes[0] != y or len(plan.outcomes) != len(X) + 1:
        raise ValueError(f"{y} must not also be a predictor, and predictors must be distinct")
    summary = engine.query(plan.summary_sql()).row(0, named=True)
    _check_summary(plan, summary)
    model = _Model(plan, family, len(X))
    counts = engine.query(
        f"WITH _base AS ({plan.base_sql()}) SELECT count(*) AS n_used, sum(_w) AS w_used, "
        "sum(CASE WHEN _y0 <> 0 AND _y0 <> 1 THEN 1 ELSE 0 END) AS nonbinary "
        f"FROM _base WHERE {model.used}"
    ).row(0, named=True)
    n_used = int(counts["n_used"] or 0)
    if n_used == 0:
        raise ValueError("svyglm: no row has the outcome and every predictor")
    if family == "binomial" and counts["nonbinary"]:
        raise ValueError(f"{y}: {counts['nonbinary']} values are not 0 or 1 (binomial family)")
    # As SurveyDesign.glm: weights divided by their mean over the rows used.
    weight = f"(_w / {sql_number(float(counts['w_used']) / n_used)})"
    p = len(model.x)
    beta = np.zeros(p)
    hessian, gradient = _solve_parts(
        engine.query(model.step_sql(beta, weight)).row(0, named=True), p
    )
    if family == "gaussian":
        beta = np.asarray(np.linalg.solve(hessian, gradient), dtype=np.float64)
    else:
        for _ in range(max_iter):
            step = np.linalg.solve(hessian, gradient)
            beta = beta + step
            hessian, gradient = _solve_parts(
                engine.query(model.step_sql(beta, weight)).row(0, named=True), p
            )
            if np.max(np.abs(step)) < 1e-10:
                break
        else:
            raise RuntimeError("svyglm: IRLS did not converge; check for separation")
    bread = np.linalg.inv(hessian)
    mu = model.mu(beta)
    scores = [
        (f"CASE WHEN {model.used} THEN {weight} * (_y0 - {mu}) * {x} ELSE 0.0 END", f"u_{a}")
        for a, x in enumerate(model.x)
    ]
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    tables = [
        engine.query(plan.strata_sql(stage, scores, [f"u_{a}" for a in range(p)], pairs))
        for stage in range(plan.used_stages)
    ]
    meat, design_df = stage_covariance(plan, tables, p, pairs)
    cov = bread @ meat @ bread
    se = np.sqrt(np.diag(cov))
    df = design_df - p + 1
    t_crit = float(sps.t.ppf(1 - alpha / 2, df))
    p_values = 2 * sps.t.sf(np.abs(beta / se), df)
    return SurveyGLMResult(
        names=("(Intercept)", *X),
        params=tuple(float(v) for v in beta),
        se=tuple(float(v) for v in se),
        ci_low=tuple(float(v) for v in beta - t_crit * se),
        ci_high=tuple(float(v) for v in beta + t_crit * se),
        p=tuple(float(v) for v in p_values),
        n=n_used,
        df=df,
        family=family,
        alpha=alpha,
    )
