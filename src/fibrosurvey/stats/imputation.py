"""Multiple imputation (sensitivity analysis) and Rubin's rules.

``multiply_impute`` draws ``m`` completed copies of a frame with chained equations by Bayesian
linear regression (mice's ``norm`` method, see :mod:`fibrosurvey.stats.chained_equations`),
drawing parameters and residuals from their posterior so that imputations carry their
uncertainty, one independent run per imputation with seed ``seed + i``. Every listed column is
both imputed and used as a predictor; imputations are bounded to each column's observed range
(``bounded=True``) so that scale scores stay on their scale.
R analogue: ``mice::mice(data, m, method = "norm")``.

``rubin_pool`` combines one parameter across the m analyses (Rubin 1987; R ``mice::pool``):

* ``Qbar = mean(Q_i)``; within ``W = mean(U_i)``; between ``B = var(Q_i)`` (ddof 1);
  total ``T = W + (1 + 1/m) B``;
* ``lambda = (1 + 1/m) B / T``; ``riv = (1 + 1/m) B / W``;
* Barnard & Rubin (1999) df: ``nu_old = (m - 1) / lambda^2``; with ``nu_com = n_obs - k_params``,
  ``nu_obs = (nu_com + 1) / (nu_com + 3) * nu_com * (1 - lambda)``,
  ``nu = nu_old nu_obs / (nu_old + nu_obs)`` (``nu = nu_com`` when B = 0);
* ``fmi = (riv + 2 / (nu + 3)) / (1 + riv)`` (as mice);
* CI ``Qbar +/- t_{nu, 1-alpha/2} sqrt(T)``; p from ``Qbar / sqrt(T)`` on ``nu`` df.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from scipy import stats as sps

from fibrosurvey.stats._result import Estimate, as_vector, check_alpha
from fibrosurvey.stats.chained_equations import impute_norm

__all__ = ["PooledResult", "imputation_maker", "multiply_impute", "rubin_pool"]


@dataclass(frozen=True, kw_only=True)
class PooledResult(Estimate):
    """A parameter pooled over m imputations by Rubin's rules (Barnard-Rubin df).

    ``lambda_`` is the share of the total variance due to missingness, ``(1 + 1/m) B / T``
    (statsmodels ``MICEResults.frac_miss_info``); ``fmi`` is mice's fraction of missing information.
    """

    se: float
    within: float
    between: float
    total: float
    df: float
    riv: float
    lambda_: float
    fmi: float
    m: int
    alpha: float


def rubin_pool(
    estimates: ArrayLike,
    variances: ArrayLike,
    n_obs: int,
    k_params: int,
    alpha: float = 0.05,
    null: float = 0.0,
) -> PooledResult:
    """Pool one parameter over imputations (``estimates``/``variances``: one per imputation).

    ``variances`` are squared standard errors; ``n_obs``/``k_params`` give the complete-data df
    ``n_obs - k_params`` used by Barnard-Rubin. R: ``summary(mice::pool(fits))``.

    >>> pooled = rubin_pool([1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.045, 0.05, 0.04], 100, 3)
    >>> pooled.estimate, round(pooled.total, 6), round(pooled.df, 4)  # mice::pool.scalar
    (1.1, 0.075, 17.3814)
    """
    alpha = check_alpha(alpha)
    q, u = as_vector(estimates, "estimates"), as_vector(variances, "variances")
    if q.size != u.size or q.size < 2:
        raise ValueError(
            f"need the same number (>= 2) of estimates and variances, got {q.size} and {u.size}"
        )
    if np.isnan(q).any() or np.isnan(u).any() or (u < 0).any():
        raise ValueError(
            "estimates/variances must be finite and variances >= 0 for every imputation"
        )
    df_com = float(n_obs - k_params)
    if df_com <= 0:
        raise ValueError(f"n_obs - k_params must be positive, got {n_obs} - {k_params}")
    m = q.size
    qbar, within = float(q.mean()), float(u.mean())
    between = float(q.var(ddof=1))
    total = within + (1 + 1 / m) * between
    lam = (1 + 1 / m) * between / total if total > 0 else 0.0
    riv = (1 + 1 / m) * between / within if within > 0 else float("inf")
    if between == 0:
        df = df_com
    else:
        df_old = (m - 1) / lam**2
        df_obs = (df_com + 1) / (df_com + 3) * df_com * (1 - lam)
        df = df_old * df_obs / (df_old + df_obs)
    fmi = (riv + 2 / (df + 3)) / (1 + riv)
    se = float(np.sqrt(total))
    t_crit = float(sps.t.ppf(1 - alpha / 2, df))
    return PooledResult(
        estimate=qbar,
        ci_low=qbar - t_crit * se,
        ci_high=qbar + t_crit * se,
        p=float(2 * sps.t.sf(abs(qbar - null) / se, df)) if se > 0 else float("nan"),
        n=int(n_obs),
        method="rubin_barnard_rubin",
        se=se,
        within=within,
        between=between,
        total=total,
        df=float(df),
        riv=float(riv),
        lambda_=float(lam),
        fmi=float(fmi),
        m=m,
        alpha=alpha,
    )


def multiply_impute(
    frame: pl.DataFrame,
    columns: Sequence[str],
    m: int = 20,
    seed: int = 0,
    max_iter: int = 5,
    bounded: bool = True,
) -> list[pl.DataFrame]:
    """``m`` completed copies of ``frame``: the listed numeric ``columns`` imputed, others as is.

    R: ``mice::complete(mice::mice(frame[columns], m = m, method = "norm", seed = seed), "all")``
    (``max_iter`` is mice's ``maxit``, default 5 as in mice).

    >>> frame = pl.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8],
    ...                       "y": [1.1, None, 3.2, 3.9, None, 6.1, 7.2, 7.9]})
    >>> copies = multiply_impute(frame, ["y"], m=3, seed=1)
    >>> len(copies), [copy["y"].null_count() for copy in copies]
    (3, [0, 0, 0])
    """
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    make = imputation_maker(frame, columns, seed=seed, max_iter=max_iter, bounded=bounded)
    return [make(i) for i in range(m)]


def imputation_maker(
    frame: pl.DataFrame,
    columns: Sequence[str],
    seed: int = 0,
    max_iter: int = 5,
    bounded: bool = True,
) -> Callable[[int], pl.DataFrame]:
    """A function giving completed copy ``i`` of :func:`multiply_impute` (the same copy: copy i
    draws from its own generator, seeded ``seed + i``). Copies can then be made one at a time,
    analysed and dropped, or made in parallel."""
    missing_cols = [c for c in columns if c not in frame.columns]
    if missing_cols:
        raise ValueError(f"columns not in the frame: {missing_cols}; available: {frame.columns}")
    data = np.column_stack([as_vector(frame.get_column(c), c) for c in columns])
    all_missing = np.isnan(data).all(axis=0)
    if all_missing.any():
        empty = [columns[int(j)] for j in np.flatnonzero(all_missing)]
        raise ValueError(f"columns with no observed value cannot be imputed: {empty}")
    p = data.shape[1]
    lower = np.nanmin(data, axis=0) if bounded else np.full(p, -np.inf)
    upper = np.nanmax(data, axis=0) if bounded else np.full(p, np.inf)

    def make(i: int) -> pl.DataFrame:
        filled = impute_norm(data, np.random.default_rng(seed + i), max_iter, lower, upper)
        return frame.with_columns(
            pl.Series(c, filled[:, j], dtype=pl.Float64) for j, c in enumerate(columns)
        )

    return make
