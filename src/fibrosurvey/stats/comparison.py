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
  with a Wald CI. A binary covariate with a value at which every participant has the same
  outcome (e.g. no interstitial cystitis among the participants of "other" sex) separates only
  that covariate: its coefficient is infinite but the exposure's odds ratio is finite, and equal
  to the fit without those participants and that covariate, which is what is then fitted and
  named in ``note`` (R ``glm`` converges towards the same exposure estimate). Any other
  (quasi-)complete separation is detected by linear programming (as R ``detectseparation``) and
  reported as ``status = "separation"`` with NaN estimates, never fitted.
* ``logistic_lr_test``: likelihood-ratio test of a block of columns added to a logistic model
  (R ``anova(glm0, glm1, test = "LRT")``).
* ``wilson_interval``: Wilson score interval of one proportion.

``a`` events among ``n1`` exposed, ``b`` events among ``n0`` unexposed throughout.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats as sps

from fibrosurvey.stats._result import (
    Array,
    Estimate,
    as_matrix,
    as_vector,
    check_alpha,
    check_binary,
    complete_cases,
)
from fibrosurvey.stats._separation import checked_logit

__all__ = [
    "LikelihoodRatioResult",
    "LogisticResult",
    "OddsRatioResult",
    "RiskDifferenceResult",
    "adjusted_logistic",
    "counts_2x2",
    "logistic_lr_test",
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


def counts_2x2(outcome: ArrayLike, exposure: ArrayLike) -> tuple[int, int, int, int]:
    """``(a, n1, b, n0)`` from 0/1 outcome and exposure vectors (complete cases).

    >>> counts_2x2([1, 0, 1, 1, 0, None], [1, 1, 0, 0, 0, 1])
    (1, 2, 2, 3)
    """
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
    statsmodels ``proportion_confint(method="wilson")``).

    >>> low, high = wilson_interval(12, 40)
    >>> round(low, 4), round(high, 4)
    (0.1807, 0.4543)
    """
    alpha = check_alpha(alpha)
    _check_counts(events, total, 0, 1)
    return _wilson(events, total, float(sps.norm.ppf(1 - alpha / 2)))


def risk_difference(
    a: int, n1: int, b: int, n0: int, alpha: float = 0.05, ci: str = "wald"
) -> RiskDifferenceResult:
    """Risk difference with a Wald (``ci="wald"``) or Newcombe (``ci="newcombe"``) interval.

    >>> result = risk_difference(30, 80, 45, 220, ci="newcombe")
    >>> round(result.estimate, 4), round(result.ci_low, 4), round(result.ci_high, 4)
    (0.1705, 0.0564, 0.29)
    """
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
    """Odds ratio with a Woolf (logit) CI; Haldane-Anscombe 0.5 only when a cell is zero.

    >>> result = odds_ratio(30, 80, 45, 220)  # (30 x 175) / (50 x 45)
    >>> round(result.estimate, 4), round(result.ci_low, 4), round(result.ci_high, 4)
    (2.3333, 1.3345, 4.0798)
    """
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
    y: ArrayLike,
    exposure: ArrayLike,
    covariates: ArrayLike | None = None,
    names: list[str] | tuple[str, ...] | None = None,
    alpha: float = 0.05,
) -> LogisticResult:
    """Exposure odds ratio from ``logit P(y=1) = b0 + b1 * exposure + covariates``.

    ``y`` must be 0/1; ``exposure`` is numeric (0/1 for a group comparison, then exp(b1) is the
    adjusted OR). ``covariates`` is an (n, k) array or polars DataFrame; ``names`` names its
    columns (taken from the DataFrame when omitted). Complete cases only. A 0/1 covariate that
    separates on its own is handled as the module docstring says (``note`` names it; ``n`` and
    ``names`` are those of the model fitted).
    R: ``glm(y ~ exposure + covariates, family = binomial)`` with ``confint.default``.

    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
    >>> exposed = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0]
    >>> result = adjusted_logistic(y, exposed)
    >>> round(result.estimate, 3), result.method  # the crude OR (4/6 x 4/2 ...) of a 2x2 table
    (4.0, 'logistic_wald')
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
    yv, design, all_names, left_out = _without_separating_levels(yv, design, all_names)
    n, events = int(yv.size), int(yv.sum())
    note = "; ".join(left_out)

    def empty(status: str, why: str) -> LogisticResult:
        return LogisticResult(
            estimate=_NAN, ci_low=_NAN, ci_high=_NAN, p=_NAN, n=n, method="logistic_wald",
            status=status, note="; ".join(t for t in (why, note) if t), log_or=_NAN,
            se_log_or=_NAN, n_events=events, names=all_names, coefficients=(),
            standard_errors=(), alpha=alpha,
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
        note=note,
        log_or=b1,
        se_log_or=se1,
        n_events=events,
        names=all_names,
        coefficients=tuple(float(v) for v in params),
        standard_errors=tuple(float(v) for v in ses),
        alpha=alpha,
    )


def _without_separating_levels(
    y: Array, design: Array, names: tuple[str, ...]
) -> tuple[Array, Array, tuple[str, ...], list[str]]:
    """Leave out each 0/1 covariate (column 2 on) with a value at which the outcome is constant,
    with the rows at that value: they carry no information on the other coefficients (their
    likelihood contribution tends to 1 as the covariate's coefficient diverges)."""
    notes: list[str] = []
    while design.shape[1] > 2 and y.size:
        covariates = design[:, 2:]
        binary = np.all((covariates == 0) | (covariates == 1), axis=0)
        found = None
        for value in (1.0, 0.0):
            at_value = covariates == value
            count = at_value.sum(axis=0)
            events = (at_value * y[:, None]).sum(axis=0)
            constant = binary & (count > 0) & (count < y.size) & ((events == 0) | (events == count))
            if constant.any():
                found = (int(np.flatnonzero(constant)[0]), value)
                break
        if found is None:
            break
        column, value = found
        rows = design[:, 2 + column] == value
        had = "all" if y[rows][0] == 1 else "none"
        notes.append(
            f"{names[2 + column]} = {value:g}: {had} of its {int(rows.sum())} participants had "
            "the outcome, which separates that covariate only; it was fitted without them (the "
            "exposure odds ratio R glm converges to)"
        )
        y, design = y[~rows], np.delete(design[~rows], 2 + column, axis=1)
        names = names[: 2 + column] + names[3 + column :]
    return y, design, names, notes


@dataclass(frozen=True, kw_only=True)
class LikelihoodRatioResult:
    """Likelihood-ratio test of columns added to a logistic model (a test, no estimate)."""

    statistic: float
    df: int
    p: float
    n: int
    method: str = "logistic_lr_test"
    status: str = "ok"
    note: str = ""


def _varying(x: Array) -> Array:
    """Drop constant columns other than the intercept (e.g. an absent category)."""
    varies = np.ones(x.shape[1], dtype=bool)
    varies[1:] = x[:, 1:].std(axis=0) > 0
    return x[:, varies]


def logistic_lr_test(
    y: ArrayLike, added: ArrayLike, base: ArrayLike | None = None
) -> LikelihoodRatioResult:
    """LR test of the columns of ``added`` in a logistic regression of ``y`` on ``base``.

    Both models have an intercept; complete cases over all inputs; constant columns are
    dropped (and do not count in ``df``). Newton-Raphson fits (statsmodels ``Logit``).
    R: ``anova(glm(y ~ base), glm(y ~ base + added), test = "LRT")``.

    >>> y = [0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
    >>> x = [1.0, 2.0, 3.0, 1.5, 4.0, 3.5, 2.5, 2.0, 5.0, 1.0, 4.5, 3.0]
    >>> test = logistic_lr_test(y, x)
    >>> test.df, round(test.statistic, 3), round(test.p, 4)
    (1, 8.096, 0.0044)
    """
    yv = as_vector(y, "y")
    check_binary(yv, "y")
    extra = as_matrix(added, "added", yv.size)
    zm = as_matrix(base, "base", yv.size)
    keep = complete_cases(yv, extra, zm)
    yk = yv[keep]
    reduced = np.column_stack([np.ones(yk.size), zm[keep]])
    full = _varying(np.column_stack([reduced, extra[keep]]))
    reduced = _varying(reduced)
    df = full.shape[1] - reduced.shape[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_full = sm.Logit(yk, full).fit(method="newton", maxiter=100, disp=False)
            fit_reduced = sm.Logit(yk, reduced).fit(method="newton", maxiter=100, disp=False)
    except (np.linalg.LinAlgError, ValueError) as error:
        return LikelihoodRatioResult(
            statistic=math.nan, df=df, p=math.nan, n=int(yk.size), status="not_estimable",
            note=f"likelihood-ratio test not estimable ({error})",
        )  # fmt: skip
    statistic = max(2.0 * float(fit_full.llf - fit_reduced.llf), 0.0)
    return LikelihoodRatioResult(
        statistic=statistic,
        df=df,
        p=float(sps.chi2.sf(statistic, df)),
        n=int(yk.size),
        note=f"likelihood-ratio test of {df} added column(s)",
    )
