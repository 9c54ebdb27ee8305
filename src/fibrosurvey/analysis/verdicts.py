"""Verdicts: what a hypothesis result, and a claim as a whole, say about the claim.

Hypothesis level (every test two-sided; ``q`` is the Benjamini-Hochberg adjusted p-value
within the claim family):

* **supported**: q < alpha and the confidence interval lies wholly on the side of the null the
  claim predicts;
* **contradicted**: q < alpha and the interval lies wholly on the other side;
* **not supported**: otherwise (including no estimate, and a q below alpha with an interval
  that includes the null, as when the p-value and the interval come from different methods);
  it carries the minimal detectable effect, so a null is read against what the study could
  have detected.

So a verdict never disagrees with the interval printed beside it. Discrimination hypotheses
(C4) have one more condition, :func:`discrimination_verdict`: a claim about *lower* (or
higher) levels is supported only when the panel separates through levels that way.

Claim level, from its hypotheses' verdicts (``verdict_rule`` in the plan):

* ``any`` (default): *supported* if at least one hypothesis is supported and none is
  contradicted; *contradicted* if at least one is contradicted and none supported; *mixed*
  if both occur; otherwise *not supported*. Because BH controls the false discovery rate,
  under a family with no true effects the chance of any discovery is at most alpha, so the
  claim-level error rate is controlled at alpha too.
* ``majority``: as ``any`` but more than half of the hypotheses must agree.
* ``all``: *supported* only if every hypothesis is supported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

__all__ = [
    "CLAIM_VERDICTS",
    "CONTRADICTED",
    "MIXED",
    "NOT_SUPPORTED",
    "SUPPORTED",
    "claim_verdict",
    "discrimination_verdict",
    "hypothesis_verdict",
]

SUPPORTED: Final = "supported"
CONTRADICTED: Final = "contradicted"
NOT_SUPPORTED: Final = "not supported"
MIXED: Final = "mixed"
CLAIM_VERDICTS: Final = (SUPPORTED, CONTRADICTED, MIXED, NOT_SUPPORTED)


def hypothesis_verdict(
    estimate: float,
    q: float,
    *,
    expected: Literal["positive", "negative"],
    ci: tuple[float, float],
    null_value: float = 0.0,
    alpha: float = 0.05,
) -> str:
    """The verdict of one hypothesis (see the module docstring)."""
    low, high = ci
    if not all(math.isfinite(v) for v in (estimate, q, low, high)) or q >= alpha:
        return NOT_SUPPORTED
    if low > null_value:
        positive = True
    elif high < null_value:
        positive = False
    else:
        return NOT_SUPPORTED
    return SUPPORTED if positive == (expected == "positive") else CONTRADICTED


def discrimination_verdict(gain_verdict: str, levels: Mapping[str, Any] | None) -> tuple[str, str]:
    """The verdict of a discrimination hypothesis and, when it changes, why.

    ``gain_verdict`` is :func:`hypothesis_verdict` of the AUC gain; ``levels`` the panel's
    level association (odds ratio per SD of its mean standardised level, null 1) with the
    ``claimed`` direction (``"lower"``, ``"higher"`` or None).

    * A significant *loss* of AUC is not evidence against "biomarkers can identify": not
      supported.
    * A gain through levels on the claimed side: supported; on the other side: contradicted
      (a panel that picks out fibromyalgia by raised levels speaks against a deficiency); with
      an odds-ratio interval that includes 1: not supported.
    """
    if gain_verdict == CONTRADICTED:
        return NOT_SUPPORTED, "associated, but no gain in cross-validated AUC"
    claimed = (levels or {}).get("claimed")
    if gain_verdict != SUPPORTED or claimed is None or levels is None:
        return gain_verdict, ""
    low, high = float(levels["ci_low"]), float(levels["ci_high"])
    found = "lower" if high < 1.0 else "higher" if low > 1.0 else None
    if found == claimed:
        return SUPPORTED, ""
    if found is None:
        return NOT_SUPPORTED, (
            f"the panel adds discrimination, but not clearly through {claimed} levels (odds "
            "ratio per SD of its mean level: interval includes 1)"
        )
    return CONTRADICTED, (
        f"the panel adds discrimination through {found} levels in those with the outcome, the "
        f"opposite of the {claimed} levels claimed"
    )


def claim_verdict(verdicts: Sequence[str], rule: Literal["any", "all", "majority"] = "any") -> str:
    """The claim-level verdict from its hypotheses' verdicts (see the module docstring)."""
    total = len(verdicts)
    if total == 0:
        return NOT_SUPPORTED
    supported = sum(v == SUPPORTED for v in verdicts)
    contradicted = sum(v == CONTRADICTED for v in verdicts)
    if rule == "all":
        if supported == total:
            return SUPPORTED
        if contradicted and not supported:
            return CONTRADICTED
        return MIXED if (supported and contradicted) else NOT_SUPPORTED
    needed = 1 if rule == "any" else total // 2 + 1
    if supported and contradicted:
        return MIXED
    if supported >= needed:
        return SUPPORTED
    if contradicted >= needed:
        return CONTRADICTED
    return NOT_SUPPORTED
