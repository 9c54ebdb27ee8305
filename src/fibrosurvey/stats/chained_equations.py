"""Chained-equation imputation by Bayesian linear regression (mice's ``norm`` method).

For each imputation, and each column with missing values in turn, a linear regression of the
column on all other columns (currently filled in) is fitted to the observed rows; parameters
are drawn from their posterior (Rubin 1987, p. 167; van Buuren, *Flexible Imputation of Missing
Data*, algorithm 3.1): ``sigma*^2 = RSS / chi2(n_obs - p)``, ``beta* ~ N(beta_hat,
sigma*^2 (X'X)^-1)``, and each missing cell gets ``x beta* + N(0, sigma*^2)``. Starting values
are random draws from the observed values of the column, as in mice. A tiny ridge
(``1e-5 * diag(X'X)``, as mice's ``norm.draw``) keeps collinear predictors solvable.

R equivalent: ``mice::mice(data, m = m, method = "norm", maxit = max_iter, seed = seed)``.
Each fit costs one ``X'X`` product, so 100,000 rows and 20 columns impute in seconds.
"""

from __future__ import annotations

import numpy as np

__all__ = ["impute_norm"]

RIDGE = 1e-5


def _draw_regression(
    design: np.ndarray, target: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """One posterior draw of (beta, sigma) for target ~ design."""
    xtx = design.T @ design
    xtx[np.diag_indices_from(xtx)] *= 1 + RIDGE
    xty = design.T @ target
    chol = np.linalg.cholesky(xtx)
    beta_hat = np.linalg.solve(chol.T, np.linalg.solve(chol, xty))
    residual = target - design @ beta_hat
    df = max(target.size - design.shape[1], 1)
    sigma = float(np.sqrt(residual @ residual / rng.chisquare(df)))
    # beta* = beta_hat + sigma * L^-T z has covariance sigma^2 (X'X)^-1 when X'X = L L^T.
    noise = np.linalg.solve(chol.T, rng.standard_normal(design.shape[1]))
    return beta_hat + sigma * noise, sigma


def impute_norm(
    data: np.ndarray,
    rng: np.random.Generator,
    max_iter: int,
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """One completed copy of ``data`` (rows x columns, NaN missing)."""
    missing = np.isnan(data)
    filled = data.copy()
    n, p = data.shape
    to_impute = [j for j in range(p) if missing[:, j].any()]
    for j in to_impute:
        observed = data[~missing[:, j], j]
        filled[missing[:, j], j] = rng.choice(observed, size=int(missing[:, j].sum()))
    design = np.empty((n, p))
    design[:, 0] = 1.0
    for _ in range(max_iter):
        for j in to_impute:
            others = [k for k in range(p) if k != j]
            design[:, 1:] = filled[:, others]
            rows = ~missing[:, j]
            beta, sigma = _draw_regression(design[rows], filled[rows, j], rng)
            gaps = missing[:, j]
            draws = design[gaps] @ beta + sigma * rng.standard_normal(int(gaps.sum()))
            filled[gaps, j] = np.clip(draws, lower[j], upper[j])
    return filled
