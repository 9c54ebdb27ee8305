"""Detection of (quasi-)complete separation in logistic regression by linear programming.

Konis (2007) / R ``detectseparation``: the maximum-likelihood estimate of a logistic regression is
finite iff no non-zero direction ``b`` satisfies ``s_i * x_i'b >= 0`` for every row (with
``s_i = +1`` for events and ``-1`` otherwise) with at least one strict inequality. We maximise
``sum_i s_i x_i'b`` subject to those constraints and ``-1 <= b_j <= 1``: a positive optimum means
(quasi-)complete separation. Columns are centred and scaled first (except the intercept), which
changes no sign pattern but makes the tolerance meaningful.

The linear programme is by far the dearest part of a logistic fit on large samples, so
:func:`checked_logit` fits first and solves it only when the fit cannot *prove* there is no
separation. The proof is an inequality: for fitted probabilities ``p`` (any, in fact) let
``g = Z'(y - p)`` be the score in the scaled design and ``w_i`` the fitted probability of the
outcome row ``i`` did *not* have. For every feasible ``b``, ``b'g = sum_i (s_i z_i'b) w_i``, so the
programme's optimum ``V`` obeys ``min(w) * V <= ||b||_1 ||g||_inf <= k ||g||_inf``. When
``k ||g||_inf / min(w)`` is within the programme's tolerance, the programme would have answered
"not separated"; at a converged maximum the score is ~0 and the bound is tiny.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm
from scipy.optimize import linprog
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from fibrosurvey.stats._result import Array

__all__ = ["LogitFit", "checked_logit", "no_separation_certified", "separating_columns"]


def _scaled(design: Array) -> Array:
    scaled = design.copy()
    sd = scaled.std(axis=0)
    varying = sd > 0
    scaled[:, varying] = (scaled[:, varying] - scaled[:, varying].mean(axis=0)) / sd[varying]
    return scaled


def _tolerance(n_rows: int) -> float:
    return 1e-7 * max(1.0, float(np.sqrt(n_rows)))


def separating_columns(y: Array, design: Array, names: list[str]) -> list[str] | None:
    """Names of the columns in a separating direction, or None when the data are not separated.

    ``design`` includes the intercept column (named in ``names``).
    """
    signs: npt.NDArray[np.float64] = np.where(y > 0.5, 1.0, -1.0)
    signed = signs[:, None] * _scaled(design)
    result = linprog(
        c=-signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(signed.shape[0]),
        bounds=[(-1.0, 1.0)] * signed.shape[1],
        method="highs",
    )
    if result.status != 0:
        return None
    if -float(result.fun) <= _tolerance(signed.shape[0]):
        return None
    direction = np.asarray(result.x, dtype=np.float64)
    return [name for name, b in zip(names, direction, strict=True) if abs(b) > 1e-6]


@dataclass(frozen=True)
class LogitFit:
    """A logistic fit, or why there is none: ``separated`` names the separating columns."""

    fit: Any = None
    separated: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.fit is not None


def no_separation_certified(y: Array, design: Array, fitted: Array) -> bool:
    """True when fitted probabilities prove the separation programme would find nothing.

    See the module docstring for the inequality; False means "not proven", not "separated".
    """
    wrong = np.where(y > 0.5, 1.0 - fitted, fitted)
    smallest = float(wrong.min()) if wrong.size else 0.0
    if not np.isfinite(smallest) or smallest <= 0.0:
        return False
    score = _scaled(design).T @ (y - fitted)
    bound = design.shape[1] * float(np.abs(score).max()) / smallest
    return bool(np.isfinite(bound)) and bound <= _tolerance(design.shape[0])


def _newton(y: Array, design: Array) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, design).fit(method="newton", maxiter=100, disp=False)
        except (np.linalg.LinAlgError, ValueError, PerfectSeparationError):
            return None
    converged = fit.mle_retvals.get("converged", False)
    return fit if converged and np.all(np.isfinite(fit.params)) else None


def checked_logit(y: Array, design: Array, names: list[str]) -> LogitFit:
    """Maximum-likelihood logistic regression, refused when separation means the MLE is infinite.

    Newton-Raphson, at most 100 iterations (as R ``glm``'s IRLS); a fit that does not converge
    comes back with neither ``fit`` nor ``separated``. The separation programme runs only when
    the fit does not certify its absence (module docstring).
    """
    fit = _newton(y, design)
    if fit is not None:
        fitted = np.asarray(fit.predict(design), dtype=np.float64)
        if no_separation_certified(y, design, fitted):
            return LogitFit(fit=fit)
    separated = separating_columns(y, design, names)
    if separated is not None:
        return LogitFit(separated=tuple(separated))
    return LogitFit(fit=fit)
