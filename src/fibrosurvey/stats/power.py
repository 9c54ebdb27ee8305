"""Minimal detectable effects (MDE) at a given power, so that a null result is read honestly.

Every function returns the smallest true effect that a two-sided test at level ``alpha`` would
detect with probability ``power`` (default 0.80) at the given sample size. After a
Benjamini-Hochberg adjustment pass the family's alpha (a conservative choice is ``alpha / m``).
The result is an :class:`Estimate` whose ``estimate`` is the MDE; its CI and p are NaN.

* ``mde_correlation``: Fisher z, ``r = tanh((z_{1-alpha/2} + z_power) / sqrt(n - 3 - k))``
  (k = covariates partialled out); R ``pwr::pwr.r.test`` uses the same transform.
* ``mde_proportions``: difference in proportions from a baseline risk ``p0`` via Cohen's
  arcsine effect size ``h``, solved exactly (both tails) as statsmodels ``NormalIndPower`` /
  R ``pwr::pwr.2p2n.test``; reported as a risk difference, odds ratio and log OR.
* ``mde_mean_difference``: two-sample t test with the non-central t, exactly as statsmodels
  ``TTestIndPower`` / R ``pwr::pwr.t2n.test``; for ANCOVA the residual SD is
  ``sd * sqrt(1 - r_baseline^2)`` (r = pre/post correlation), so the MDE in outcome-SD units is
  ``d * sqrt(1 - r^2)``, with ``k_covariates`` extra df spent.
* ``mde_auc_gain`` (approximate): the gain ``delta`` over a base AUC that a z test on the
  paired difference detects, with Hanley & McNeil (1982) variances for each AUC and an assumed
  correlation ``rho`` between the two AUC estimates (Hanley & McNeil 1983); the truth depends on
  the biomarkers and should be read as an order of magnitude.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy import stats as sps

from fibrosurvey.stats._result import Estimate, check_alpha

__all__ = [
    "MDEResult",
    "mde_auc_gain",
    "mde_correlation",
    "mde_mean_difference",
    "mde_proportions",
]

_NAN = float("nan")


@dataclass(frozen=True, kw_only=True)
class MDEResult(Estimate):
    """Minimal detectable effect; ``effect_size`` is on the standardised scale of the method
    (Fisher z, Cohen's h, Cohen's d) and ``log_or``/``odds_ratio`` are set for proportions."""

    alpha: float
    power: float
    effect_size: float
    log_or: float = _NAN
    odds_ratio: float = _NAN


def _check(alpha: float, power: float) -> float:
    alpha = check_alpha(alpha)
    if not alpha < power < 1:
        raise ValueError(f"power must be between alpha and 1, got {power!r}")
    return alpha


def _solve(power_at: Callable[[float], float], target: float, upper: float) -> float:
    """Smallest effect in (0, upper) with power ``target`` (power increasing in the effect)."""
    if power_at(upper) < target:
        return _NAN
    return float(optimize.brentq(lambda e: power_at(e) - target, 1e-12, upper, xtol=1e-14))


def _result(
    value: float, n: int, method: str, alpha: float, power: float, **extra: float
) -> MDEResult:
    status = "ok" if np.isfinite(value) else "not_reachable"
    return MDEResult(
        estimate=value, ci_low=_NAN, ci_high=_NAN, p=_NAN, n=n, method=method, status=status,
        note="" if status == "ok" else "no effect within the parameter range reaches the power",
        alpha=alpha, power=power, **extra,
    )  # fmt: skip


def mde_correlation(
    n: int, alpha: float = 0.05, power: float = 0.8, k_covariates: int = 0
) -> MDEResult:
    """Smallest |r| (partial correlation with k covariates) detectable with n complete cases.

    >>> round(mde_correlation(100).estimate, 4)  # tanh((z_0.975 + z_0.8) / sqrt(97))
    0.277
    """
    alpha = _check(alpha, power)
    if n - 3 - k_covariates < 1:
        raise ValueError(f"need n > 3 + k_covariates, got n={n}, k={k_covariates}")
    z = (sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)) / np.sqrt(n - 3 - k_covariates)
    return _result(float(np.tanh(z)), n, "mde_fisher_z", alpha, power, effect_size=float(z))


def mde_proportions(
    n1: int, n0: int, p0: float, alpha: float = 0.05, power: float = 0.8
) -> MDEResult:
    """Smallest increase over the baseline risk ``p0`` detectable with groups of n1 and n0.

    >>> round(mde_proportions(120, 80, 0.3).estimate, 4)  # from 30% to about 49.6%
    0.1964
    """
    alpha = _check(alpha, power)
    if not 0 < p0 < 1:
        raise ValueError(f"p0 must be strictly between 0 and 1, got {p0!r}")
    crit = float(sps.norm.ppf(1 - alpha / 2))
    root_n = float(np.sqrt(1 / (1 / n1 + 1 / n0)))

    def power_at(h: float) -> float:
        return float(sps.norm.sf(crit - h * root_n) + sps.norm.cdf(-crit - h * root_n))

    base = float(np.arcsin(np.sqrt(p0)))
    h = _solve(power_at, power, 2 * (np.pi / 2 - base))
    p1 = float(np.sin(base + h / 2) ** 2) if np.isfinite(h) else _NAN
    log_or = float(np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))) if 0 < p1 < 1 else _NAN
    return _result(
        p1 - p0, n1 + n0, "mde_risk_difference_arcsine", alpha, power,
        effect_size=h, log_or=log_or, odds_ratio=float(np.exp(log_or)),
    )  # fmt: skip


def mde_mean_difference(
    n1: int,
    n0: int,
    sd: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
    r_baseline: float = 0.0,
    k_covariates: int = 0,
) -> MDEResult:
    """Smallest difference in means (raw units of ``sd``) detectable by a t test / ANCOVA.

    ``effect_size`` is the MDE in outcome-SD units (``estimate / sd``).

    >>> round(mde_mean_difference(120, 80).estimate, 4)  # R pwr.t2n.test: d = 0.4064
    0.4063
    """
    alpha = _check(alpha, power)
    if not -1 < r_baseline < 1:
        raise ValueError(f"r_baseline must be in (-1, 1), got {r_baseline!r}")
    df = n1 + n0 - 2 - k_covariates
    if df < 1:
        raise ValueError(f"too few observations: n1 + n0 - 2 - k_covariates = {df}")
    crit = float(sps.t.ppf(1 - alpha / 2, df))
    root_n = float(np.sqrt(1 / (1 / n1 + 1 / n0)))

    def power_at(d: float) -> float:
        nc = d * root_n
        # The far tail underflows to NaN in scipy for large nc; it is 0 there.
        far_tail = float(np.nan_to_num(sps.nct.cdf(-crit, df, nc), nan=0.0))
        return float(sps.nct.sf(crit, df, nc)) + far_tail

    d_residual = _solve(power_at, power, (crit + 8.0) / root_n)
    d = d_residual * float(np.sqrt(1 - r_baseline**2))
    return _result(d * sd, n1 + n0, "mde_mean_difference_nct", alpha, power, effect_size=d)


def _hanley_mcneil_variance(auc: float, n_cases: int, n_controls: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    return float(
        (auc * (1 - auc) + (n_cases - 1) * (q1 - auc**2) + (n_controls - 1) * (q2 - auc**2))
        / (n_cases * n_controls)
    )


def mde_auc_gain(
    n_cases: int,
    n_controls: int,
    auc_base: float,
    alpha: float = 0.05,
    power: float = 0.8,
    rho: float = 0.75,
) -> MDEResult:
    """Approximate smallest AUC gain over ``auc_base`` detectable (paired DeLong-type z test).

    >>> round(mde_auc_gain(100, 300, 0.7).estimate, 4)
    0.0618
    """
    alpha = _check(alpha, power)
    if not 0.5 <= auc_base < 1:
        raise ValueError(f"auc_base must be in [0.5, 1), got {auc_base!r}")
    if not 0 <= rho < 1:
        raise ValueError(f"rho must be in [0, 1), got {rho!r}")
    crit = float(sps.norm.ppf(1 - alpha / 2))
    v0 = _hanley_mcneil_variance(auc_base, n_cases, n_controls)

    def power_at(gain: float) -> float:
        v1 = _hanley_mcneil_variance(auc_base + gain, n_cases, n_controls)
        se = np.sqrt(max(v1 + v0 - 2 * rho * np.sqrt(v1 * v0), 1e-300))
        return float(sps.norm.sf(crit - gain / se) + sps.norm.cdf(-crit - gain / se))

    gain = _solve(power_at, power, 1 - auc_base - 1e-9)
    return _result(
        gain, n_cases + n_controls, "mde_auc_gain_hanley_mcneil", alpha, power, effect_size=gain
    )
