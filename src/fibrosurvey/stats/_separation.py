"""Detection of (quasi-)complete separation in logistic regression by linear programming.

Konis (2007) / R ``detectseparation``: the maximum-likelihood estimate of a logistic regression is
finite iff no non-zero direction ``b`` satisfies ``s_i * x_i'b >= 0`` for every row (with
``s_i = +1`` for events and ``-1`` otherwise) with at least one strict inequality. We maximise
``sum_i s_i x_i'b`` subject to those constraints and ``-1 <= b_j <= 1``: a positive optimum means
(quasi-)complete separation. Columns are centred and scaled first (except the intercept), which
changes no sign pattern but makes the tolerance meaningful.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm
from scipy.optimize import linprog

from fibrosurvey.stats._result import Array

__all__ = ["LogitFit", "checked_logit", "separating_columns"]


def separating_columns(y: Array, design: Array, names: list[str]) -> list[str] | None:
    """Names of the columns in a separating direction, or None when the data are not separated.

    ``design`` includes the intercept column (named in ``names``).
    """
    scaled = design.copy()
    sd = scaled.std(axis=0)
    varying = sd > 0
    scaled[:, varying] = (scaled[:, varying] - scaled[:, varying].mean(axis=0)) / sd[varying]
    signs: npt.NDArray[np.float64] = np.where(y > 0.5, 1.0, -1.0)
    signed = signs[:, None] * scaled
    result = linprog(
        c=-signed.sum(axis=0),
        A_ub=-signed,
        b_ub=np.zeros(signed.shape[0]),
        bounds=[(-1.0, 1.0)] * signed.shape[1],
        method="highs",
    )
    if result.status != 0:
        return None
    tolerance = 1e-7 * max(1.0, float(np.sqrt(signed.shape[0])))
    if -float(result.fun) <= tolerance:
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


def checked_logit(y: Array, design: Array, names: list[str]) -> LogitFit:
    """Maximum-likelihood logistic regression, refused when separation means the MLE is infinite.

    Newton-Raphson, at most 100 iterations (as R ``glm``'s IRLS); a fit that does not converge
    comes back with neither ``fit`` nor ``separated``.
    """
    separated = separating_columns(y, design, names)
    if separated is not None:
        return LogitFit(separated=tuple(separated))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.Logit(y, design).fit(method="newton", maxiter=100, disp=False)
    return LogitFit(fit=fit if fit.mle_retvals.get("converged", False) else None)
