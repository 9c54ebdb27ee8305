"""Two-group comparisons of a binary outcome (claim family C2).

* ``risk_difference``: ``p1 - p0`` with the textbook Wald CI (unpooled SE; statsmodels
  ``confint_proportions_2indep(method="wald")``) or Newcombe's hybrid Wilson-score CI (Newcombe
  1998 method 10, no continuity correction; statsmodels ``method="newcomb"``, R
  ``contingencytables::Newcombe_hybrid_score_CI_2x2``). The p-value is the pooled z test, i.e.
  Pearson's chi-square without continuity correction (R ``prop.test(correct = FALSE)``).
* ``odds_ratio``: Woolf (logit) CI and Wald z p-value on log OR (R ``epitools::oddsratio.wald``,
  statsmodels ``Table2x2``). Only when a cell is 0, 0.5 is added to every cell
  (Haldane-Anscombe); the result says so in ``note`` and ``corrected``.
* ``adjusted_logistic``: logistic regression of the outcome on the exposure plus covariates
  (statsmodels ``Logit``, Newton-Raphson; R ``glm(family = binomial)``); the exposure odds ratio
  with a Wald CI. (Quasi-)complete separation is detected first by linear programming (as R
  ``detectseparation``) and reported as ``status = "separation"`` with NaN estimates, never fitted.

``a`` events among ``n1`` exposed, ``b`` events among ``n0`` unexposed throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats as sps

from fibrosurvey.stats._result import (
    Estimate,
    as_matrix,
    as_vector,
    check_alpha,
    check_binary,
    complete_cases,
)
from fibrosurvey.stats._separation import checked_logit

__all__ = [
    "LogisticResult",
    "OddsRatioResult",
    "RiskDifferenceResult",
    "adjusted_logistic",
    "counts_2x2",
    "odds_ratio",
    "risk_difference",
    "wilson_interval",
]

_NAN = float("nan")


@dataclass(frozen=True, kw_only=True)
class RiskDifferenceResult(Estimate):
    """Risk difference ``p1 - p0`` (exposed minus unexposed)."""

    risk_exposed: float
    risk_unexposed: float
    se: float
    alpha: float


@dataclass(frozen=True, kw_only=True)
class OddsRatioResult(Estimate):
    """Odds ratio exposed vs unexposed; ``corrected`` is True when 0.5 was added to every cell."""

    log_or: float
    se_log_or: float
    corrected: bool
    alpha: float


@dataclass(frozen=True, kw_only=True)
class LogisticResult(Estimate):
    """Exposure odds ratio from an adjusted logistic regression, plus the full coefficient table."""

    log_or: float
    se_log_or: float
    n_events: int
    names: tuple[str, ...]
    coefficients: tuple[float, ...]
    standard_errors: tuple[float, ...]
    alpha: float


def _check_counts(a: int, n1: int, b: int, n0: int) -> None:
    for label, events, total in (("a/n1", a, n1), ("b/n0", b, n0)):
        if int(events) != events or int(total) != total:
            raise ValueError(f"{label}: counts must be whole numbers, got {events}/{total}")
        if total <= 0 or not 0 <= events <= total:
            raise ValueError(
                f"{label}: need 0 <= events <= total and total > 0, got {events}/{total}"
            )


def counts_2x2(outcome: object, exposure: object) -> tuple[int, int, int, int]:
    """``(a, n1, b, n0)`` from 0/1 outcome and exposure vectors (complete cases)."""
    y, e = as_vector(outcome, "outcome"), as_vector(exposure, "exposure")
    check_binary(y, "outcome")
    check_binary(e, "exposure")
    keep = complete_cases(y, e)
    y, e = y[keep], e[keep]
    return (int(y[e == 1].sum()), int((e == 1).sum()), int(y[e == 0].sum()), int((e == 0).sum()))


def _wilson(events: int, total: int, z: float) -> tuple[float, float]:
    p = events / total
    denom = 1.0 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total))
    return float(centre - half), float(centre + half)


def wilson_interval(events: int, total: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for one proportion (R ``prop.test(correct = FALSE)$conf.int``;
    statsmodels ``proportion_confint(method="wilson")``)."""
    alpha = check_alpha(alpha)
    _check_counts(events, total, 0, 1)
    return _wilson(events, total, float(sps.norm.ppf(1 - alpha / 2)))


def risk_difference(
    a: int, n1: int, b: int, n0: int, alpha: float = 0.05, ci: str = "wald"
) -> RiskDifferenceResult:
    """Risk difference with a Wald (``ci="wald"``) or Newcombe (``ci="newcombe"``) interval."""
    alpha = check_alpha(alpha)
    _check_counts(a, n1, b, n0)
    p1, p0 = a / n1, b / n0
    rd = p1 - p0
    z = float(sps.norm.ppf(1 - alpha / 2))
    se = float(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))
    if ci == "wald":
        lo, hi = rd - z * se, rd + z * se
    elif ci == "newcombe":
        l1, u1 = _wilson(a, n1, z)
        l0, u0 = _wilson(b, n0, z)
        lo = rd - float(np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2))
        hi = rd + float(np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))
    else:
        raise ValueError(f"ci must be 'wald' or 'newcombe', got {ci!r}")
    pooled = (a + b) / (n1 + n0)
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    p = float(2 * sps.norm.sf(abs(rd) / se0)) if se0 > 0 else _NAN
    return RiskDifferenceResult(
        estimate=rd,
        ci_low=float(lo),
        ci_high=float(hi),
        p=p,
        n=int(n1 + n0),
        method=f"risk_difference_{ci}",
        note="p-value: pooled z test (Pearson chi-square, no continuity correction)",
        risk_exposed=p1,
        risk_unexposed=p0,
        se=se,
        alpha=alpha,
    )


def odds_ratio(a: int, n1: int, b: int, n0: int, alpha: float = 0.05) -> OddsRatioResult:
    """Odds ratio with a Woolf (logit) CI; Haldane-Anscombe 0.5 only when a cell is zero."""
    alpha = check_alpha(alpha)
    _check_counts(a, n1, b, n0)
    cells = np.array([a, n1 - a, b, n0 - b], dtype=np.float64)
    corrected = bool((cells == 0).any())
    if corrected:
        cells += 0.5
    log_or = float(np.log(cells[0] * cells[3] / (cells[1] * cells[2])))
    se = float(np.sqrt((1.0 / cells).sum()))
    z = float(sps.norm.ppf(1 - alpha / 2))
    return OddsRatioResult(
        estimate=float(np.exp(log_or)),
        ci_low=float(np.exp(log_or - z * se)),
        ci_high=float(np.exp(log_or + z * se)),
        p=float(2 * sps.norm.sf(abs(log_or) / se)),
        n=int(n1 + n0),
        method="odds_ratio_woolf",
        note="a cell was 0: 0.5 added to every cell (Haldane-Anscombe)" if corrected else "",
        log_or=log_or,
        se_log_or=se,
        corrected=corrected,
        alpha=alpha,
    )


def adjusted_logistic(
    y: object,
    exposure: object,
    covariates: object = None,
    names: list[str] | tuple[str, ...] | None = None,
    alpha: float = 0.05,
) -> LogisticResult:
    """Exposure odds ratio from ``logit P(y=1) = b0 + b1 * exposure + covariates``.

    ``y`` must be 0/1; ``exposure`` is numeric (0/1 for a group comparison, then exp(b1) is the
    adjusted OR). ``covariates`` is an (n, k) array or polars DataFrame; ``names`` names its
    columns (taken from the DataFrame when omitted). Complete cases only.
    R: ``glm(y ~ exposure + covariates, family = binomial)`` with ``confint.default``.
    """
    alpha = check_alpha(alpha)
    yv, ev = as_vector(y, "y"), as_vector(exposure, "exposure")
    check_binary(yv, "y")
    zm = as_matrix(covariates, "covariates", yv.size)
    if names is None:
        names = (
            list(covariates.columns)
            if isinstance(covariates, pl.DataFrame)
            else [f"covariate_{j}" for j in range(zm.shape[1])]
        )
    if len(names) != zm.shape[1]:
        raise ValueError(f"names has {len(names)} entries but covariates has {zm.shape[1]} columns")
    all_names = ("const", "exposure", *names)
    keep = complete_cases(yv, ev, zm)
    yv, design = yv[keep], np.column_stack([np.ones(int(keep.sum())), ev[keep], zm[keep]])
    n, events = int(yv.size), int(yv.sum())

    def empty(status: str, note: str) -> LogisticResult:
        return LogisticResult(
            estimate=_NAN, ci_low=_NAN, ci_high=_NAN, p=_NAN, n=n, method="logistic_wald",
            status=status, note=note, log_or=_NAN, se_log_or=_NAN, n_events=events,
            names=all_names, coefficients=(), standard_errors=(), alpha=alpha,
        )  # fmt: skip

    if events == 0 or events == n or n <= design.shape[1]:
        return empty("insufficient_data", f"{events} events among {n} complete cases")
    if np.linalg.matrix_rank(design) < design.shape[1]:
        return empty("collinear", "exposure/covariates are collinear among the complete cases")
    logit = checked_logit(yv, design, list(all_names))
    if logit.separated:
        return empty(
            "separation",
            "(quasi-)complete separation by " + ", ".join(logit.separated) + "; MLE does not exist",
        )
    if not logit.ok:
        return empty("not_converged", "Newton-Raphson did not converge in 100 iterations")
    fit = logit.fit
    params = np.asarray(fit.params, dtype=np.float64)
    ses = np.asarray(fit.bse, dtype=np.float64)
    z = float(sps.norm.ppf(1 - alpha / 2))
    b1, se1 = float(params[1]), float(ses[1])
    return LogisticResult(
        estimate=float(np.exp(b1)),
        ci_low=float(np.exp(b1 - z * se1)),
        ci_high=float(np.exp(b1 + z * se1)),
        p=float(2 * sps.norm.sf(abs(b1) / se1)),
        n=n,
        method="logistic_wald",
        log_or=b1,
        se_log_or=se1,
        n_events=events,
        names=all_names,
        coefficients=tuple(float(v) for v in params),
        standard_errors=tuple(float(v) for v in ses),
        alpha=alpha,
    )
