"""Verdicts: hypothesis level (q, direction) and claim level (rules)."""

from __future__ import annotations

import math

import pytest

from fibrosurvey.analysis.verdicts import claim_verdict, hypothesis_verdict


@pytest.mark.parametrize(
    ("estimate", "q", "expected", "null", "verdict"),
    [
        (-0.2, 0.001, "negative", 0.0, "supported"),
        (0.2, 0.001, "negative", 0.0, "contradicted"),
        (0.2, 0.049, "positive", 0.0, "supported"),
        (0.2, 0.05, "positive", 0.0, "not supported"),  # q must be strictly below alpha
        (-0.2, 0.2, "negative", 0.0, "not supported"),
        (1.8, 0.01, "positive", 1.0, "supported"),  # odds ratios: null value 1
        (0.7, 0.01, "positive", 1.0, "contradicted"),
        (math.nan, 0.01, "positive", 0.0, "not supported"),
        (0.3, math.nan, "positive", 0.0, "not supported"),
    ],
)
def test_hypothesis_verdict_uses_q_and_the_predicted_side(
    estimate: float, q: float, expected: str, null: float, verdict: str
) -> None:
    assert hypothesis_verdict(estimate, q, expected=expected, null_value=null) == verdict  # type: ignore[arg-type]


S, C, N = "supported", "contradicted", "not supported"


@pytest.mark.parametrize(
    ("verdicts", "rule", "claim"),
    [
        ([S, N, N], "any", S),
        ([C, N, N], "any", C),
        ([S, C, N], "any", "mixed"),
        ([N, N, N], "any", N),
        ([], "any", N),
        ([S, S, N], "majority", S),
        ([S, N, N], "majority", N),
        ([C, C, N], "majority", C),
        ([S, S, S], "all", S),
        ([S, S, N], "all", N),
        ([C, N, N], "all", C),
    ],
)
def test_claim_verdict_follows_the_documented_rule(
    verdicts: list[str], rule: str, claim: str
) -> None:
    assert claim_verdict(verdicts, rule) == claim  # type: ignore[arg-type]
