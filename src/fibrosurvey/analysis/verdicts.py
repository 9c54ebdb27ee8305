"""Verdicts: what a hypothesis result, and a claim as a whole, say about the claim.

Hypothesis level (every test two-sided; ``q`` is the Benjamini-Hochberg adjusted p-value
within the claim family):

* **supported**: q < alpha and the estimate lies on the side of the null the claim predicts;
* **contradicted**: q < alpha and the estimate lies on the other side;
* **not supported**: otherwise (including no estimate); it carries the minimal detectable
  effect, so a null is read against what the study could have detected.

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
from collections.abc import Sequence
from typing import Final, Literal

__all__ = [
    "CLAIM_VERDICTS",
    "CONTRADICTED",
    "MIXED",
    "NOT_SUPPORTED",
    "SUPPORTED",
    "claim_verdict",
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
    null_value: float = 0.0,
    alpha: float = 0.05,
) -> str:
    """The verdict of one hypothesis (see the module docstring)."""
    if not (math.isfinite(estimate) and math.isfinite(q)) or q >= alpha:
        return NOT_SUPPORTED
    if estimate == null_value:
        return NOT_SUPPORTED
    positive = estimate > null_value
    return SUPPORTED if positive == (expected == "positive") else CONTRADICTED


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
