"""Design-based estimation for complex samples by Taylor linearisation (as R ``survey``).

Design
------
``SurveyDesign(weights, strata=None, psu=None, fpc=None, lonely_psu="adjust")`` describes a
stratified multi-stage cluster sample. It corresponds to R
``svydesign(ids = ~psu1 + psu2 + ..., strata = ~s1 + s2 + ..., weights = ~w,
fpc = ~fpc1 + fpc2 + ..., nest = TRUE)``:

* ``psu``, ``strata`` and ``fpc`` take one label/number vector (one stage) or a list of them, one
  per stage; no ``psu``: every row is its own PSU (R ``ids = ~1``); no ``strata``: one stratum;
* units are nested in their stratum and in the unit above them (R ``nest = TRUE``);
* ``fpc`` as in R: population sizes (>= 1, ``inf`` = with replacement) or sampling fractions
  (all <= 1), constant within each stratum of its stage; see :mod:`.design_stages` for fewer
  fpc than stages. ``weights=None`` gives R's weights from the fpc (``prod N/n``) or ones.

Variance
--------
An estimator is linearised into per-row influence values ``z_i`` (weighted); the variance of
their total is R ``svyrecvar``: first the calibration adjustments of a calibrated design are
applied (residuals of the post-stratification, raking or GREG regression, see
:mod:`.calibration`), then the multi-stage with-replacement-within-strata formula with fpc
(:func:`.design_stages.stages_variance`). Missing outcome values are handled as R
``na.rm = TRUE``: the rows get zero influence but stay in the design (domain estimation).

Lonely PSUs (strata with one PSU), following R ``options(survey.lonely.psu = ...)`` at every
stage: ``"adjust"`` (default here; R's default is ``"fail"``), ``"certainty"``, ``"remove"``,
``"average"`` and ``"fail"`` (an error naming the row's stratum and the stage); see
:mod:`.design_stages`.

Estimators: ``mean`` (R ``svymean``), ``total`` (``svytotal``), ``proportion`` (``svymean`` of
a 0/1 variable with the ``svyciprop`` interval, logit by default), ``ratio`` (``svyratio``),
``quantile`` (``svyquantile``, survey 4.x: ``qrule = "math"``, Woodruff interval),
``mean_by`` (``svyby(~y, ~g, design, svymean)``) and ``glm`` (``svyglm``): weighted maximum
likelihood by IRLS with the sandwich variance ``A^-1 V(sum U_i) A^-1`` whose meat is the design
variance of the score totals; coefficient p-values and CIs use a t distribution on
``design df - p + 1`` df as ``summary.svyglm``. Intervals for means, totals and ratios are normal
(R ``confint(svymean(...))``). Calibrated designs come from :meth:`SurveyDesign.poststratify`,
:meth:`SurveyDesign.rake` and :meth:`SurveyDesign.calibrate` (R ``postStratify``, ``rake``,
``calibrate``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats as sps

from fibrosurvey.stats._result import (
    Array,
    as_matrix,
    as_vector,
    check_alpha,
    check_binary,
)
from fibrosurvey.stats._separation import separating_columns
from fibrosurvey.stats.design_stages import LONELY_PSU_OPTIONS, build_stages, stages_variance
from fibrosurvey.stats.survey_intervals import (
    WeightedValues,
    proportion_interval,
    t_quantile,
)
from fibrosurvey.stats.survey_results import SurveyEstimate, SurveyGLMResult, SurveyQuantiles

if TYPE_CHECKING:
    from fibrosurvey.stats.calibration import Margin

__all__ = ["SurveyDesign", "SurveyEstimate", "SurveyGLMResult", "SurveyQuantiles"]

_LONELY = LONELY_PSU_OPTIONS


class CalibrationAdjustment(Protocol):
    """A calibration step's effect on the variance (see :mod:`.calibration`)."""

    def residualise(self, x: Array) -> Array: ...


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


def _fpc_values(values: object, name: str) -> Array:
    """fpc values as floats; ``inf`` (with replacement) is allowed here, unlike elsewhere."""
    if isinstance(values, pl.Series):
        if not values.dtype.is_numeric():
            raise TypeError(
                f"{name}: column {values.name!r} has type {values.dtype}; expected numbers"
            )
        values = values.cast(pl.Float64).to_numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected numbers, got {values!r:.80}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    return arr


def _codes(values: object, name: str, n: int) -> npt.NDArray[np.intp]:
    codes, _ = _groups(values, name, n)
    if (codes < 0).any():
        raise ValueError(f"{name}: row {int(np.flatnonzero(codes < 0)[0])} is missing")
    return codes


def _stage_list(value: object) -> list[object]:
    """One vector per stage: ``None`` -> none; a list/tuple of vectors -> those; else one."""
    if value is None:
        return []
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(v, pl.Series | np.ndarray | list | tuple) for v in value)
    ):
        return list(value)
    return [value]


class SurveyDesign:
    """A stratified multi-stage cluster design; see the module docstring for the method."""

    def __init__(
        self,
        weights: object = None,
        strata: object = None,
        psu: object = None,
        fpc: object = None,
        lonely_psu: str = "adjust",
    ) -> None:
        if lonely_psu not in _LONELY:
            raise ValueError(f"lonely_psu must be one of {_LONELY}, got {lonely_psu!r}")
        psu_stages = _stage_list(psu)
        strata_stages = _stage_list(strata)
        fpc_stages = _stage_list(fpc)
        w = None if weights is None else as_vector(weights, "weights")
        n = w.size if w is not None else 0
        for stage in (*psu_stages, *strata_stages, *fpc_stages):
            n = n or len(stage)  # type: ignore[arg-type]
        if n == 0:
            raise ValueError("the design has no rows; give weights or design columns")
        if w is not None:
            bad = np.isnan(w) | (w <= 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"weights: row {row} is {float(w[row])}; allowed: positive numbers"
                )
        if len(strata_stages) > max(len(psu_stages), 1):
            raise ValueError(
                f"strata: {len(strata_stages)} stages given but psu has {len(psu_stages)}"
            )
        if len(fpc_stages) > max(len(psu_stages), 1):
            raise ValueError(f"fpc: {len(fpc_stages)} stages given but psu has {len(psu_stages)}")
        units = [
            _codes(v, "psu" if i == 0 else f"psu (stage {i + 1})", n)
            for i, v in enumerate(psu_stages)
        ] or [np.arange(n, dtype=np.intp)]
        stratum_codes = [
            _codes(v, "strata" if i == 0 else f"strata (stage {i + 1})", n)
            for i, v in enumerate(strata_stages)
        ]
        fpc_values = []
        for i, v in enumerate(fpc_stages):
            name = "fpc" if i == 0 else f"fpc (stage {i + 1})"
            f = _fpc_values(v, name)
            if f.size != n:
                raise ValueError(f"{name}: expected {n} values, got {f.size}")
            bad = np.isnan(f) | (f <= 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{name}: row {row} is {float(f[row])}; allowed: positive numbers")
            fpc_values.append(f)
        stages, default_weights = build_stages(
            stratum_codes + [None] * (len(units) - len(stratum_codes)),
            units,
            fpc_values,
            lonely_psu,
        )
        self.weights = default_weights if w is None else w
        self.n = n
        self.lonely_psu = lonely_psu
        self.n_stages = len(units)
        self._stages = stages
        self._first_unit = stages[0].unit
        self._first_stratum = stages[0].unit_stratum[stages[0].unit]
        self.n_psu = stages[0].n_units
        self.n_strata = stages[0].n_strata
        self.df = self.n_psu - self.n_strata
        self._adjustments: tuple[CalibrationAdjustment, ...] = ()

    @classmethod
    def from_frame(
        cls,
        frame: pl.DataFrame,
        weights: str | None = "design_weight",
        strata: str | Sequence[str] | None = "design_stratum",
        psu: str | Sequence[str] | None = "design_psu",
        fpc: str | Sequence[str] | None = "design_fpc",
        lonely_psu: str = "adjust",
    ) -> SurveyDesign:
        """A design from columns of ``frame`` (defaults: the dataset contract's design columns).

        ``strata``, ``psu`` and ``fpc`` take one column name or a list, one per stage. A single
        column name that is ``None``, absent from the frame or entirely null is not used (e.g.
        no fpc); a name in a list must exist. Weights must be present for every row.
        """

        def column(name: str | None) -> pl.Series | None:
            if name is None or name not in frame.columns:
                return None
            series = frame.get_column(name)
            return None if series.null_count() == series.len() else series

        def stages(names: str | Sequence[str] | None, what: str) -> object:
            if names is None or isinstance(names, str):
                return column(names)
            absent = [c for c in names if c not in frame.columns]
            if absent:
                raise ValueError(f"{what} column(s) {absent} are not in the data")
            return [frame.get_column(c) for c in names]

        w = column(weights)
        if w is None:
            raise ValueError(f"weights column {weights!r} is absent or empty; give the weights")
        return cls(
            w,
            strata=stages(strata, "strata"),
            psu=stages(psu, "psu"),
            fpc=stages(fpc, "fpc"),
            lonely_psu=lonely_psu,
        )

    # -- calibration -------------------------------------------------------------------------
    def with_calibration(self, weights: Array, adjustment: CalibrationAdjustment) -> SurveyDesign:
        """A copy with calibrated ``weights`` whose variance applies ``adjustment`` last."""
        calibrated = copy.copy(self)
        calibrated.weights = np.asarray(weights, dtype=np.float64)
        calibrated._adjustments = (*self._adjustments, adjustment)
        return calibrated

    @property
    def calibrated(self) -> bool:
        """True when the weights come from post-stratification, raking or calibration."""
        return bool(self._adjustments)

    def poststratify(self, margin: Margin, partial: bool = False) -> SurveyDesign:
        """Post-stratified design (R ``postStratify``); see :mod:`.calibration`."""
        from fibrosurvey.stats.calibration import poststratify

        return poststratify(self, margin, partial=partial)

    def rake(
        self, margins: Sequence[Margin], epsilon: float = 1.0, max_iter: int = 10
    ) -> SurveyDesign:
        """Raked design (R ``rake``, iterative proportional fitting); see :mod:`.calibration`."""
        from fibrosurvey.stats.calibration import rake

        return rake(self, margins, epsilon=epsilon, max_iter=max_iter)

    def calibrate(
        self, margins: Sequence[Margin] = (), totals: dict[str, tuple[object, float]] | None = None
    ) -> SurveyDesign:
        """Linear (GREG) calibration (R ``calibrate``, linear); see :mod:`.calibration`."""
        from fibrosurvey.stats.calibration import calibrate_linear

        return calibrate_linear(self, margins, totals or {})

    # -- variance of linearised totals -------------------------------------------------------
    def variance(self, influence: Array) -> Array:
        """Design covariance matrix of the totals of the columns of ``influence`` (n x k)."""
        z = influence[:, None] if influence.ndim == 1 else influence
        for adjustment in self._adjustments:
            z = adjustment.residualise(z)
        return stages_variance(self._stages, z)

    def subset_df(self, rows: npt.NDArray[np.bool_]) -> int:
        """Design df of the rows kept (R ``degf`` of a subset: PSUs minus strata present)."""
        return int(
            np.unique(self._first_unit[rows]).size - np.unique(self._first_stratum[rows]).size
        )

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

    def proportion(self, y: object, alpha: float = 0.05, ci: str = "logit") -> SurveyEstimate:
        """Weighted proportion of a 0/1 variable (R ``svymean`` of the indicator).

        The interval is R ``svyciprop(~y, design, method = ci)`` on the design df (``logit``,
        R's default, stays inside (0, 1)); ``ci="wald"`` is ``p +/- z SE`` (R
        ``confint(svymean(...))``). See :func:`.survey_intervals.proportion_interval`.
        """
        yv, _ = self._outcome(y)
        check_binary(yv, "y")
        result = self.mean(yv, alpha)
        fields = {**result.summary(), "method": f"svymean_proportion_{ci}"}
        p = result.estimate
        fields["ci_low"], fields["ci_high"] = proportion_interval(
            p, result.se, result.alpha, self.df, ci, self.n
        )
        if ci in ("logit", "xlogit", "asin") and not 0 < p < 1:
            fields["note"] = f"proportion is 0 or 1: no {ci} interval"
        return SurveyEstimate(**fields)

    def ratio(self, numerator: object, denominator: object, alpha: float = 0.05) -> SurveyEstimate:
        """Ratio of weighted totals (R ``svyratio(~y, ~x, design, na.rm = TRUE)``).

        Linearised as ``z_i = w_i (y_i - R x_i) / sum(w x)``; normal interval as R
        ``confint(svyratio(...))``. Rows missing either variable get zero influence.
        """
        alpha = check_alpha(alpha)
        yv, seen_y = self._outcome(numerator, "numerator")
        xv, seen_x = self._outcome(denominator, "denominator")
        seen = seen_y & seen_x
        if not seen.any():
            raise ValueError("ratio: no row has both the numerator and the denominator")
        w = np.where(seen, self.weights, 0.0)
        y, x = np.nan_to_num(yv), np.nan_to_num(xv)
        total_x = float((w * x).sum())
        if total_x == 0:
            raise ValueError("ratio: the weighted total of the denominator is 0")
        estimate = float((w * y).sum() / total_x)
        z = w * (y - estimate * x) / total_x
        return self._estimate(
            estimate, float(self.variance(z)[0, 0]), int(seen.sum()), "svyratio", alpha
        )

    def quantile(
        self,
        y: object,
        probs: float | Sequence[float] = 0.5,
        alpha: float = 0.05,
        ci: str = "mean",
        df: float | None = None,
    ) -> SurveyQuantiles:
        """Weighted quantiles with Woodruff intervals (R ``svyquantile``, survey 4.x).

        R ``svyquantile(~y, design, probs, qrule = "math", interval.type = ci, na.rm = TRUE)``:
        the quantile is ``qrule_math``; the interval takes the estimated CDF at the quantile,
        ``Fhat = svymean(y <= q)``, builds its interval (``ci``: ``mean`` = ``Fhat +/- t SE``,
        or ``xlogit``, ``asin``, ``beta`` as :func:`.survey_intervals.proportion_interval`) on
        ``df`` (default: the design df of the observed rows) and maps both ends back through
        ``qrule_math``; ``se = (high - low) / (2 t)``. An end outside [0, 1] is NaN, as R.
        """
        alpha = check_alpha(alpha)
        if ci not in ("mean", "xlogit", "asin", "beta"):
            raise ValueError(f"ci must be one of mean, xlogit, asin, beta; got {ci!r}")
        levels = [float(probs)] if isinstance(probs, int | float) else [float(p) for p in probs]
        bad = [p for p in levels if not 0 <= p <= 1]
        if bad or not levels:
            raise ValueError(f"probs must be numbers in [0, 1]; got {bad or 'none'}")
        yv, seen = self._outcome(y)
        if not seen.any():
            raise ValueError("y: every value is missing")
        values = WeightedValues(yv[seen], self.weights[seen])
        design_df = float(self.subset_df(seen) if df is None else df)
        rows = self.n if self.calibrated else int(seen.sum())
        t = t_quantile(1 - alpha / 2, design_df)
        quantiles, lows, highs, ses = [], [], [], []
        for p in levels:
            q = values.qrule_math(p)
            below = np.where(seen, (np.nan_to_num(yv) <= q).astype(np.float64), np.nan)
            cdf = self.mean(below, alpha)
            p_low, p_high = proportion_interval(cdf.estimate, cdf.se, alpha, design_df, ci, rows)
            low = math.nan if math.isnan(p_low) or p_low < 0 else values.qrule_math(p_low)
            high = math.nan if math.isnan(p_high) or p_high > 1 else values.qrule_math(p_high)
            quantiles.append(q)
            lows.append(low)
            highs.append(high)
            ses.append((high - low) / (2 * t))
        return SurveyQuantiles(
            probs=tuple(levels),
            quantiles=tuple(quantiles),
            ci_low=tuple(lows),
            ci_high=tuple(highs),
            se=tuple(ses),
            n=int(seen.sum()),
            df=design_df,
            alpha=alpha,
            interval=ci,
        )

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
        if family == "gaussian":
            weighted = design * w[:, None]
            beta = np.linalg.solve(design.T @ weighted, weighted.T @ yz)
            mu, var_fn = design @ beta, np.ones(self.n)
        else:
            converged = False
            with np.errstate(over="ignore"):
                for _ in range(max_iter):
                    eta = design @ beta
                    mu = 1 / (1 + np.exp(-eta))
                    var_fn = mu * (1 - mu)
                    weighted = design * (w * var_fn)[:, None]
                    try:
                        step = np.linalg.solve(design.T @ weighted, design.T @ (w * (yz - mu)))
                    except np.linalg.LinAlgError:
                        break
                    beta = beta + step
                    if not np.isfinite(step).all():
                        break
                    if np.max(np.abs(step)) < 1e-10:
                        converged = True
                        break
            if not converged or np.max(np.abs(design[used] @ beta)) > 30:
                # Diverging or near-infinite fitted odds: name the separating predictors (a
                # linear programme, run only here because it costs a second at 100k rows).
                separated = separating_columns(
                    yz[used], design[used], ["(Intercept)", *[str(v) for v in names]]
                )
                if separated is not None:
                    raise ValueError(
                        "svyglm: (quasi-)complete separation by "
                        + ", ".join(separated)
                        + "; the weighted MLE does not exist (drop or merge those predictors)"
                    )
                if not converged:
                    raise RuntimeError("svyglm: IRLS did not converge; check for separation")
            mu = 1 / (1 + np.exp(-(design @ beta)))
            var_fn = mu * (1 - mu)
        bread = np.linalg.inv(design.T @ (design * (w * var_fn)[:, None]))
        scores = design * (w * (yz - mu))[:, None]
        cov = bread @ self.variance(scores) @ bread
        se = np.sqrt(np.diag(cov))
        # R: degf of the subset design (PSUs and strata with a complete case) + 1 - p; a PSU
        # without any complete case (e.g. nobody there came back for follow-up) has no df.
        df = self.subset_df(used) - design.shape[1] + 1
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
