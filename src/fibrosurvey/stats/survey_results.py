"""Result types of the design-based estimators (:mod:`.survey_design`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fibrosurvey.stats._result import Estimate

__all__ = ["SurveyEstimate", "SurveyGLMResult", "SurveyQuantiles"]


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


@dataclass(frozen=True, kw_only=True)
class SurveyQuantiles:
    """Design-based quantiles (R ``svyquantile(..., qrule = "math")`` with Woodruff CIs)."""

    probs: tuple[float, ...]
    quantiles: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    se: tuple[float, ...]
    n: int
    df: float
    alpha: float
    interval: str
    method: str = "svyquantile_woodruff"

    def at(self, prob: float) -> SurveyEstimate:
        """The quantile at ``prob`` as an :class:`Estimate` (``p`` is not a test here: NaN)."""
        if prob not in self.probs:
            raise KeyError(f"no quantile at {prob!r}; available: {self.probs}")
        i = self.probs.index(prob)
        return SurveyEstimate(
            estimate=self.quantiles[i], ci_low=self.ci_low[i], ci_high=self.ci_high[i],
            p=math.nan, n=self.n, method=self.method, se=self.se[i], df=int(self.df)
            if math.isfinite(self.df) else -1, alpha=self.alpha, group=f"{prob:g}",
        )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        """The quantile table as a dict of columns."""
        return {
            "prob": list(self.probs),
            "quantile": list(self.quantiles),
            "se": list(self.se),
            "ci_low": list(self.ci_low),
            "ci_high": list(self.ci_high),
            "n": self.n,
            "df": self.df,
            "interval": self.interval,
        }

    def conf_int(self) -> tuple[tuple[float, float], ...]:
        """One ``(low, high)`` pair per probability."""
        return tuple(zip(self.ci_low, self.ci_high, strict=True))
