"""Confidence intervals for design-based proportions and the weighted quantile rule (R survey).

``proportion_interval`` is R ``svyciprop``'s interval for an estimated proportion ``p`` with
linearised standard error ``se`` on ``df`` design degrees of freedom:

* ``logit`` / ``xlogit``: ``expit(logit(p) +/- t * se / (p (1 - p)))`` (R's ``logit`` fits the
  intercept-only quasibinomial ``svyglm``, whose Wald interval is this one to IRLS precision);
* ``mean``: ``p +/- t * se``; ``wald``: ``p +/- z * se`` (R ``confint(svymean(...))``);
* ``asin``: ``sin(asin(sqrt(p)) +/- t * se / (2 sqrt(p (1 - p))))^2``;
* ``beta``: Korn-Graubard: a Clopper-Pearson interval on the effective sample size
  ``p (1 - p) / se^2 * (t_{n-1} / t_df)^2``.

``qrule_math`` is R's ``qrule_math`` (``svyquantile(..., qrule = "math")``): the smallest
observed value whose weighted empirical CDF reaches ``p``, computed exactly as R does (stable
sort, cumulative weights compared with ``p * sum(w)``, including R's quirk of returning the second
smallest value when ``p * sum(w)`` is below the first weight).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from fibrosurvey.stats._result import Array

__all__ = [
    "PROPORTION_INTERVALS",
    "WeightedValues",
    "proportion_interval",
    "qrule_math",
    "t_quantile",
]

PROPORTION_INTERVALS = ("logit", "xlogit", "wald", "mean", "asin", "beta")


def t_quantile(probability: float, df: float) -> float:
    """R ``qt(probability, df)``; the normal quantile for infinite df."""
    if math.isinf(df):
        return float(sps.norm.ppf(probability))
    return float(sps.t.ppf(probability, df))


def _expit(x: float) -> float:
    if math.isnan(x):
        return math.nan  # no SE (e.g. lonely_psu="average" with only lonely strata): no interval
    return float(1.0 / (1.0 + math.exp(-x))) if x > -700 else 0.0


def proportion_interval(
    p: float, se: float, alpha: float, df: float, method: str, n_rows: int
) -> tuple[float, float]:
    """The ``(low, high)`` interval of R ``svyciprop(method = method)``; see the module doc."""
    if method not in PROPORTION_INTERVALS:
        raise ValueError(f"ci must be one of {', '.join(PROPORTION_INTERVALS)}; got {method!r}")
    t = t_quantile(1 - alpha / 2, df)
    if method == "wald":
        z = t_quantile(1 - alpha / 2, math.inf)
        return p - z * se, p + z * se
    if method == "mean":
        return p - t * se, p + t * se
    if method in ("logit", "xlogit"):
        if not 0 < p < 1:
            return p, p
        centre = math.log(p / (1 - p))
        half = t * se / (p * (1 - p))
        return _expit(centre - half), _expit(centre + half)
    if method == "asin":
        if not 0 < p < 1:
            return p, p
        centre = math.asin(math.sqrt(p))
        half = t * se / (2 * math.sqrt(p * (1 - p)))
        return math.sin(centre - half) ** 2, math.sin(centre + half) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = p * (1 - p) / se**2 if se > 0 else math.inf
        n_eff *= (t_quantile(alpha / 2, n_rows - 1) / t_quantile(alpha / 2, df)) ** 2
        low = float(sps.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1))
        high = float(sps.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)))
    return low, high


class WeightedValues:
    """Values sorted once with cumulative weights, for repeated ``qrule_math`` look-ups."""

    def __init__(self, x: Array, w: Array) -> None:
        order = np.argsort(x, kind="stable")
        self.sorted = x[order]
        self.cumulative = np.cumsum(w[order])
        self.total = math.fsum(w.tolist())  # R's sum() accumulates in long double

    def qrule_math(self, p: float) -> float:
        """R ``qrule_math``: see the module docstring."""
        reached = np.flatnonzero(self.cumulative <= p * self.total)
        pos = int(reached[-1]) if reached.size else 0
        following = pos if pos == self.sorted.size - 1 else pos + 1
        below = p - self.cumulative[pos] / self.total
        return float(self.sorted[pos]) if below == 0 else float(self.sorted[following])


def qrule_math(x: Array, w: Array, p: float) -> float:
    """R ``qrule_math(x, w, p)`` for values ``x`` with positive weights ``w``."""
    return WeightedValues(x, w).qrule_math(p)
