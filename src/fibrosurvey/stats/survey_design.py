"""Design-based estimation for complex samples by Taylor linearisation (as R ``survey``).

Design
------
``SurveyDesign(weights, strata=None, psu=None, fpc=None, lonely_psu="adjust")`` describes a
stratified (one-stage) cluster sample: sampling weights, stratum labels, PSU (cluster) labels and
finite population corrections. It corresponds to R
``svydesign(ids = ~psu, strata = ~strata, weights = ~weights, fpc = ~fpc, nest = TRUE)``:

* no ``psu``: every row is its own PSU (R ``ids = ~1``); no ``strata``: one stratum;
* PSU labels are nested within strata (the same label in two strata is two PSUs, R ``nest=TRUE``);
* ``fpc`` as in R: either the population number of PSUs in the stratum (values > 1) or the
  sampling fraction (all values <= 1); it must be constant within a stratum. ``f_h = n_h / N_h``.

Variance
--------
An estimator is linearised into per-row influence values ``z_i`` (weighted), summed to PSU totals
``t_hj``; the variance is the with-replacement PSU formula within strata, with the fpc:

    V = sum_h (1 - f_h) * n_h / (n_h - 1) * sum_j (t_hj - mean_j t_hj)(...)'

exactly as R ``svyrecvar`` for a one-stage design. Missing outcome values are handled as R
``na.rm = TRUE``: the rows are dropped from the estimate (zero influence) but their PSUs and strata
stay in the design (domain estimation), so the PSU counts n_h are those of the full sample.

Lonely PSUs (strata with one PSU), following R ``options(survey.lonely.psu = ...)``:

* ``"adjust"`` (default here): the lonely PSU's total is not centred at its stratum mean but at
  zero, with scale ``1 - f_h``, exactly as R survey 4.1-1 ``onestrat`` (for means, whose influence
  values sum to zero, that is R's documented "centred at the sample grand mean"; conservative);
* ``"certainty"`` / ``"remove"``: the stratum contributes no variance;
* ``"average"``: the stratum is given the average variance of the other strata;
* ``"fail"``: raise an error naming the stratum (R's default).

Estimators: ``mean`` (R ``svymean``), ``proportion`` (``svymean`` of a 0/1 variable, Wald or
``svyciprop(method = "logit")`` interval), ``total``
(``svytotal``), ``mean_by`` (``svyby(~y, ~g, design, svymean)``), and ``glm`` (``svyglm``):
weighted maximum likelihood by IRLS with the sandwich variance ``A^-1 V(sum U_i) A^-1`` whose meat
is the design variance of the score totals; coefficient p-values and CIs use a t distribution on
``design df - p + 1`` df as ``summary.svyglm``. Intervals for means/totals are normal (R
``confint(svymean(...))``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats as sps

from fibrosurvey.stats._result import (
    Array,
    Estimate,
    as_matrix,
    as_vector,
    check_alpha,
    check_binary,
)
from fibrosurvey.stats._separation import separating_columns

__all__ = ["SurveyDesign", "SurveyEstimate", "SurveyGLMResult"]

_LONELY = ("adjust", "certainty", "remove", "average", "fail")


@dataclass(frozen=True, kw_only=True)
class SurveyEstimate(Estimate):
    """A design-based estimate with its linearisation SE; ``p`` tests the value 0."""

    se: float
    df: int
    alpha: float
    group: str = ""


@dataclass(frozen=True, kw_only=True)
class SurveyGLMResult:
    """Design-based GLM coefficients (R ``summary(svyglm(...))$coefficients``)."""

    names: tuple[str, ...]
    params: tuple[float, ...]
    se: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    p: tuple[float, ...]
    n: int
    df: int
    family: str
    alpha: float
    method: str = "svyglm_linearisation"

    def coefficient(self, name: str) -> SurveyEstimate:
        """One coefficient as an :class:`Estimate` (log odds for the binomial family)."""
        if name not in self.names:
            raise KeyError(f"no coefficient {name!r}; available: {', '.join(self.names)}")
        i = self.names.index(name)
        return SurveyEstimate(
            estimate=self.params[i], ci_low=self.ci_low[i], ci_high=self.ci_high[i],
            p=self.p[i], n=self.n, method=self.method, se=self.se[i], df=self.df,
            alpha=self.alpha, group=name,
        )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        """The coefficient table as a dict of columns."""
        return {
            "name": list(self.names),
            "estimate": list(self.params),
            "se": list(self.se),
            "ci_low": list(self.ci_low),
            "ci_high": list(self.ci_high),
            "p": list(self.p),
            "n": self.n,
            "df": self.df,
            "family": self.family,
        }

    def conf_int(self) -> tuple[tuple[float, float], ...]:
        """One ``(low, high)`` pair per coefficient."""
        return tuple(zip(self.ci_low, self.ci_high, strict=True))


def _groups(values: object, name: str, n: int) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Integer codes (-1 = missing) and level names (sorted by value) for a label vector."""
    if isinstance(values, pl.Series):
        series = values
    else:
        arr = values if isinstance(values, list) else np.asarray(values)
        series = pl.Series(name, arr, strict=False)
    if series.len() != n:
        raise ValueError(f"{name}: expected {n} labels, got {series.len()}")
    missing = series.is_null()
    if series.dtype.is_float():
        missing = missing | series.is_nan().fill_null(True)
    levels = series.filter(~missing).unique().sort()
    uniques = levels.to_numpy()
    filled = series.to_numpy().copy()
    missing_np = missing.to_numpy()
    if len(uniques):
        filled[missing_np] = uniques[0]
    codes = np.asarray(np.searchsorted(uniques, filled), dtype=np.intp)
    codes[missing_np] = -1
    return codes, levels.cast(pl.String).to_list()


def _codes(values: object, name: str, n: int) -> npt.NDArray[np.intp]:
    codes, _ = _groups(values, name, n)
    if (codes < 0).any():
        raise ValueError(f"{name}: row {int(np.flatnonzero(codes < 0)[0])} is missing")
    return codes


class SurveyDesign:
    """A stratified one-stage cluster design; see the module docstring for the method."""

    def __init__(
        self,
        weights: object,
        strata: object = None,
        psu: object = None,
        fpc: object = None,
        lonely_psu: str = "adjust",
    ) -> None:
        w = as_vector(weights, "weights")
        n = w.size
        bad = np.isnan(w) | (w <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"weights: row {row} is {float(w[row])}; allowed: positive numbers")
        if lonely_psu not in _LONELY:
            raise ValueError(f"lonely_psu must be one of {_LONELY}, got {lonely_psu!r}")
        self.weights = w
        self.n = n
        self.lonely_psu = lonely_psu
        stratum = np.zeros(n, dtype=np.intp) if strata is None else _codes(strata, "strata", n)
        cluster = np.arange(n, dtype=np.intp) if psu is None else _codes(psu, "psu", n)
        # PSUs nested in strata: one id per (stratum, psu) pair.
        _, psu_index = np.unique(stratum * (int(cluster.max()) + 1) + cluster, return_inverse=True)
        self._psu = np.asarray(psu_index, dtype=np.intp)
        self.n_psu = int(self._psu.max()) + 1
        self.n_strata = int(stratum.max()) + 1
        psu_stratum = np.zeros(self.n_psu, dtype=np.intp)
        psu_stratum[self._psu] = stratum
        self._psu_stratum = psu_stratum
        self._n_h = np.bincount(psu_stratum, minlength=self.n_strata).astype(np.float64)
        self._fraction = np.zeros(self.n_strata)
        if fpc is not None:
            f = as_vector(fpc, "fpc")
            if np.isnan(f).any() or (f <= 0).any():
                row = int(np.flatnonzero(np.isnan(f) | (f <= 0))[0])
                raise ValueError(f"fpc: row {row} is {float(f[row])}; allowed: positive numbers")
            first = np.zeros(self.n_strata)
            first[stratum[::-1]] = f[::-1]  # the last write wins: each stratum's first row
            if not np.allclose(f, first[stratum]):
                row = int(np.flatnonzero(~np.isclose(f, first[stratum]))[0])
                raise ValueError(f"fpc: row {row} differs from other rows of its stratum")
            fraction = first if (f <= 1).all() else self._n_h / first
            if (fraction > 1 + 1e-12).any():
                h = int(np.flatnonzero(fraction > 1 + 1e-12)[0])
                raise ValueError(f"fpc: stratum {h} has more sampled PSUs than its population")
            self._fraction = fraction
        lonely = self._n_h == 1
        if lonely.any() and lonely_psu == "fail":
            rows = np.flatnonzero(lonely[stratum])
            raise ValueError(
                f"stratum of row {int(rows[0])} has a single PSU; choose lonely_psu from "
                f"{_LONELY[:-1]} (R survey.lonely.psu)"
            )
        self.df = self.n_psu - self.n_strata

    @classmethod
    def from_frame(
        cls,
        frame: pl.DataFrame,
        weights: str = "design_weight",
        strata: str | None = "design_stratum",
        psu: str | None = "design_psu",
        fpc: str | None = "design_fpc",
        lonely_psu: str = "adjust",
    ) -> SurveyDesign:
        """A design from columns of ``frame`` (defaults: the dataset contract's design columns).

        A column name that is ``None``, absent from the frame or entirely null is not used
        (e.g. no fpc). Weights must be present for every row.
        """

        def column(name: str | None) -> pl.Series | None:
            if name is None or name not in frame.columns:
                return None
            series = frame.get_column(name)
            return None if series.null_count() == series.len() else series

        w = column(weights)
        if w is None:
            raise ValueError(f"weights column {weights!r} is absent or empty; give the weights")
        return cls(
            w,
            strata=column(strata),
            psu=column(psu),
            fpc=column(fpc),
            lonely_psu=lonely_psu,
        )

    # -- variance of linearised totals -------------------------------------------------------
    def variance(self, influence: Array) -> Array:
        """Design covariance matrix of the totals of the columns of ``influence`` (n x k)."""
        z = influence[:, None] if influence.ndim == 1 else influence
        k = z.shape[1]
        totals = np.zeros((self.n_psu, k))
        np.add.at(totals, self._psu, z)
        h = self._psu_stratum
        sums = np.zeros((self.n_strata, k))
        np.add.at(sums, h, totals)
        n_h = self._n_h
        lonely = n_h == 1
        centre = sums / n_h[:, None]
        if self.lonely_psu == "adjust":
            centre[lonely] = 0.0
        dev = totals - centre[h]
        scale = np.where(lonely, 1.0, n_h / np.maximum(n_h - 1, 1)) * (1 - self._fraction)
        if self.lonely_psu in ("certainty", "remove", "average"):
            scale[lonely] = 0.0
        weighted = dev * scale[h][:, None]
        cov: Array = weighted.T @ dev
        if self.lonely_psu == "average" and lonely.any():
            cov *= self.n_strata / (self.n_strata - int(lonely.sum()))
        return cov

    def _estimate(
        self, value: float, variance: float, n: int, method: str, alpha: float, group: str = ""
    ) -> SurveyEstimate:
        se = float(np.sqrt(max(variance, 0.0)))
        z = float(sps.norm.ppf(1 - alpha / 2))
        return SurveyEstimate(
            estimate=value,
            ci_low=value - z * se,
            ci_high=value + z * se,
            p=float(2 * sps.norm.sf(abs(value) / se)) if se > 0 else float("nan"),
            n=n,
            method=method,
            se=se,
            df=self.df,
            alpha=alpha,
            group=group,
        )

    def _outcome(self, y: object, name: str = "y") -> tuple[Array, npt.NDArray[np.bool_]]:
        yv = as_vector(y, name)
        if yv.size != self.n:
            raise ValueError(f"{name}: has {yv.size} rows but the design has {self.n}")
        return yv, ~np.isnan(yv)

    # -- estimators --------------------------------------------------------------------------
    def total(self, y: object, alpha: float = 0.05) -> SurveyEstimate:
        """Weighted total (R ``svytotal(~y, design, na.rm = TRUE)``)."""
        alpha = check_alpha(alpha)
        yv, seen = self._outcome(y)
        z = np.where(seen, self.weights * np.nan_to_num(yv), 0.0)
        return self._estimate(
            float(z.sum()), float(self.variance(z)[0, 0]), int(seen.sum()), "svytotal", alpha
        )

    def mean(self, y: object, alpha: float = 0.05) -> SurveyEstimate:
        """Weighted (ratio) mean (R ``svymean(~y, design, na.rm = TRUE)``)."""
        alpha = check_alpha(alpha)
        yv, seen = self._outcome(y)
        if not seen.any():
            raise ValueError("y: every value is missing")
        w = np.where(seen, self.weights, 0.0)
        total_w = float(w.sum())
        estimate = float((w * np.nan_to_num(yv)).sum() / total_w)
        z = w * (np.nan_to_num(yv) - estimate) / total_w
        return self._estimate(
            estimate, float(self.variance(z)[0, 0]), int(seen.sum()), "svymean", alpha
        )

    def proportion(self, y: object, alpha: float = 0.05, ci: str = "wald") -> SurveyEstimate:
        """Weighted proportion of a 0/1 variable (R ``svymean`` of the indicator).

        ``ci="wald"``: ``p +/- z SE`` (R ``confint(svymean(...))``). ``ci="logit"``: the interval
        is built on the logit scale with a t quantile on the design df and back-transformed, so
        it stays inside (0, 1) (R ``svyciprop(~y, design, method = "logit")``).
        """
        if ci not in ("wald", "logit"):
            raise ValueError(f"ci must be 'wald' or 'logit', got {ci!r}")
        yv, _ = self._outcome(y)
        check_binary(yv, "y")
        result = self.mean(yv, alpha)
        fields = {**result.summary(), "method": f"svymean_proportion_{ci}"}
        p = result.estimate
        if ci == "logit" and 0 < p < 1:
            se_logit = result.se / (p * (1 - p))
            half = float(sps.t.ppf(1 - alpha / 2, self.df)) * se_logit
            centre = float(np.log(p / (1 - p)))
            fields["ci_low"] = float(1 / (1 + np.exp(-(centre - half))))
            fields["ci_high"] = float(1 / (1 + np.exp(-(centre + half))))
        elif ci == "logit":
            fields["ci_low"], fields["ci_high"] = p, p
            fields["note"] = "proportion is 0 or 1: no logit interval"
        return SurveyEstimate(**fields)

    def mean_by(self, y: object, groups: object, alpha: float = 0.05) -> dict[str, SurveyEstimate]:
        """Domain means by group, keyed by the group label as text (R ``svyby(..., svymean)``).

        Rows with a missing outcome or group are outside every domain but stay in the design.
        """
        alpha = check_alpha(alpha)
        yv, seen = self._outcome(y)
        codes, levels = _groups(groups, "groups", self.n)
        codes = np.where(seen, codes, -1)
        present = np.unique(codes[codes >= 0])
        if not present.size:
            raise ValueError("mean_by: no row has both an outcome and a group")
        member = codes[:, None] == present[None, :]
        levels = [levels[int(j)] for j in present]
        w = self.weights[:, None] * member
        yz = np.nan_to_num(yv)[:, None]
        totals_w = w.sum(axis=0)
        estimates = (w * yz).sum(axis=0) / totals_w
        influence = w * (yz - estimates[None, :]) / totals_w[None, :]
        variances = np.diag(self.variance(influence))
        counts = member.sum(axis=0)
        return {
            level: self._estimate(
                float(estimates[j]), float(variances[j]), int(counts[j]), "svyby_mean", alpha,
                group=level,
            )
            for j, level in enumerate(levels)
        }  # fmt: skip

    def glm(
        self,
        y: object,
        X: object,
        family: str = "gaussian",
        names: Sequence[str] | None = None,
        alpha: float = 0.05,
        max_iter: int = 50,
    ) -> SurveyGLMResult:
        """Design-based GLM with an intercept (R ``svyglm(y ~ X, design, family)``).

        ``family`` is ``"gaussian"`` (identity link) or ``"binomial"`` (logit link; R
        ``quasibinomial()``, same point estimates and SEs). Complete cases, others kept in
        the design as zero-influence rows (as R's subsetting of a design).
        """
        alpha = check_alpha(alpha)
        if family not in ("gaussian", "binomial"):
            raise ValueError(f"family must be 'gaussian' or 'binomial', got {family!r}")
        yv, _ = self._outcome(y)
        xm = as_matrix(X, "X", self.n)
        if names is None:
            names = list(getattr(X, "columns", [f"x{j}" for j in range(xm.shape[1])]))
        if len(names) != xm.shape[1]:
            raise ValueError(f"names has {len(names)} entries but X has {xm.shape[1]} columns")
        if family == "binomial":
            check_binary(yv, "y")
        used = ~np.isnan(yv) & ~np.isnan(xm).any(axis=1)
        design = np.column_stack([np.ones(self.n), np.nan_to_num(xm)])
        w = np.where(used, self.weights / self.weights[used].mean(), 0.0)
        yz = np.nan_to_num(yv)
        beta = np.zeros(design.shape[1])
        if family == "binomial":
            separated = separating_columns(
                yz[used], design[used], ["(Intercept)", *[str(v) for v in names]]
            )
            if separated is not None:
                raise ValueError(
                    "svyglm: (quasi-)complete separation by "
                    + ", ".join(separated)
                    + "; the weighted MLE does not exist (drop or merge those predictors)"
                )
        if family == "gaussian":
            weighted = design * w[:, None]
            beta = np.linalg.solve(design.T @ weighted, weighted.T @ yz)
            mu, var_fn = design @ beta, np.ones(self.n)
        else:
            for _ in range(max_iter):
                eta = design @ beta
                mu = 1 / (1 + np.exp(-eta))
                var_fn = mu * (1 - mu)
                weighted = design * (w * var_fn)[:, None]
                step = np.linalg.solve(design.T @ weighted, design.T @ (w * (yz - mu)))
                beta = beta + step
                if np.max(np.abs(step)) < 1e-10:
                    break
            else:
                raise RuntimeError("svyglm: IRLS did not converge; check for separation")
            mu = 1 / (1 + np.exp(-(design @ beta)))
            var_fn = mu * (1 - mu)
        bread = np.linalg.inv(design.T @ (design * (w * var_fn)[:, None]))
        scores = design * (w * (yz - mu))[:, None]
        cov = bread @ self.variance(scores) @ bread
        se = np.sqrt(np.diag(cov))
        df = self.df - design.shape[1] + 1
        t_crit = float(sps.t.ppf(1 - alpha / 2, df))
        p = 2 * sps.t.sf(np.abs(beta / se), df)
        return SurveyGLMResult(
            names=("(Intercept)", *names),
            params=tuple(float(v) for v in beta),
            se=tuple(float(v) for v in se),
            ci_low=tuple(float(v) for v in beta - t_crit * se),
            ci_high=tuple(float(v) for v in beta + t_crit * se),
            p=tuple(float(v) for v in p),
            n=int(used.sum()),
            df=df,
            family=family,
            alpha=alpha,
        )
