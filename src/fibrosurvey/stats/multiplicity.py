"""Benjamini-Hochberg false discovery rate control within a claim family.

Method: for the m non-missing p-values sorted ascending,
``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` (the step-up adjusted p-values, Benjamini &
Hochberg 1995). A hypothesis is rejected at level
``alpha`` when ``q <= alpha``. NaN p-values (tests that could not be run) are excluded from the
family, so they do not inflate m; they get NaN q-values and are listed in ``excluded``.
R: ``p.adjust(p, method = "BH")`` on the non-missing p-values; statsmodels
``multipletests(p, method = "fdr_bh")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from fibrosurvey.stats._result import Array, as_vector, check_alpha

__all__ = ["FDRResult", "benjamini_hochberg"]


@dataclass(frozen=True, kw_only=True)
class FDRResult:
    """BH q-values (NaN where the p-value was missing) and rejections at ``alpha``.

    Not an :class:`Estimate`: a family adjustment has no single estimate or CI.
    """

    qvalues: Array = field(compare=False)
    rejected: npt.NDArray[np.bool_] = field(compare=False)
    excluded: tuple[int, ...]
    n: int
    alpha: float
    method: str = "benjamini_hochberg"

    def summary(self) -> dict[str, Any]:
        """Family size, rejections and excluded indices as a plain dict."""
        return {
            "method": self.method,
            "n": self.n,
            "alpha": self.alpha,
            "n_rejected": int(self.rejected.sum()),
            "excluded": self.excluded,
        }


def benjamini_hochberg(pvalues: ArrayLike, alpha: float = 0.05) -> FDRResult:
    """BH q-values for a family of p-values; NaN p-values are excluded and returned as NaN.

    >>> result = benjamini_hochberg([0.01, float("nan"), 0.04, 0.03, 0.2])
    >>> [round(float(q), 6) for q in result.qvalues]  # R p.adjust(, "BH"): 0.04 NA 0.0533 ...
    [0.04, nan, 0.053333, 0.053333, 0.2]
    """
    alpha = check_alpha(alpha)
    p = as_vector(pvalues, "pvalues")
    missing = np.isnan(p)
    bad = ~missing & ((p < 0) | (p > 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"pvalues: index {i} is {float(p[i])}; allowed: 0 <= p <= 1 or NaN")
    q = np.full(p.shape, np.nan)
    observed = np.flatnonzero(~missing)
    m = observed.size
    if m:
        order = np.argsort(p[observed], kind="stable")
        ranked = p[observed][order] * m / np.arange(1, m + 1)
        adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
        q[observed[order]] = adjusted
    rejected = np.zeros(p.shape, dtype=bool)
    rejected[observed] = q[observed] <= alpha
    return FDRResult(
        qvalues=q,
        rejected=rejected,
        excluded=tuple(int(i) for i in np.flatnonzero(missing)),
        n=int(m),
        alpha=alpha,
    )
