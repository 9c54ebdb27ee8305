"""Verdicts: hypothesis level (q, direction) and claim level (rules)."""

from __future__ import annotations

import math

import pytest

from fibrosurvey.analysis.verdicts import (
    claim_verdict,
    discrimination_verdict,
    hypothesis_verdict,
)


@pytest.mark.parametrize(
    ("estimate", "q", "ci", "expected", "null", "verdict"),
    [
        (-0.2, 0.001, (-0.3, -0.1), "negative", 0.0, "supported"),
        (0.2, 0.001, (0.1, 0.3), "negative", 0.0, "contradicted"),
        (0.2, 0.049, (0.01, 0.4), "positive", 0.0, "supported"),
        (0.2, 0.05, (0.01, 0.4), "positive", 0.0, "not supported"),  # q strictly below alpha
        (-0.2, 0.2, (-0.5, 0.1), "negative", 0.0, "not supported"),
        (1.8, 0.01, (1.2, 2.7), "positive", 1.0, "supported"),  # odds ratios: null value 1
        (0.7, 0.01, (0.5, 0.9), "positive", 1.0, "contradicted"),
        (math.nan, 0.01, (0.1, 0.2), "positive", 0.0, "not supported"),
        (0.3, math.nan, (0.1, 0.5), "positive", 0.0, "not supported"),
        # q below alpha but an interval (from another method) that includes the null, as C4's
        # likelihood-ratio p beside its DeLong AUC-gain interval: no verdict either way.
        (0.0036, 0.001, (-0.0015, 0.0087), "positive", 0.0, "not supported"),
        (0.3, 0.01, (math.nan, math.nan), "positive", 0.0, "not supported"),
    ],
)
def test_hypothesis_verdict_needs_q_and_an_interval_on_the_predicted_side(
    estimate: float, q: float, ci: tuple[float, float], expected: str, null: float, verdict: str
) -> None:
    assert (
        hypothesis_verdict(estimate, q, expected=expected, ci=ci, null_value=null)  # type: ignore[arg-type]
        == verdict
    )


def _levels(low: float, high: float, claimed: str | None = "lower") -> dict[str, object]:
    return {"claimed": claimed, "estimate": (low + high) / 2, "ci_low": low, "ci_high": high}


@pytest.mark.parametrize(
    ("gain", "levels", "verdict"),
    [
        ("supported", _levels(0.6, 0.8), "supported"),  # lower levels: a deficiency
        ("supported", _levels(1.05, 1.16), "contradicted"),  # raised levels, as in the literature
        ("supported", _levels(0.9, 1.1), "not supported"),  # direction unclear
        ("supported", _levels(1.05, 1.16, claimed="higher"), "supported"),
        ("supported", _levels(1.05, 1.16, claimed=None), "supported"),  # any gain counts
        ("not supported", _levels(0.6, 0.8), "not supported"),
        ("contradicted", _levels(0.6, 0.8), "not supported"),  # an AUC loss contradicts nothing
    ],
)
def test_discrimination_verdict_follows_the_claimed_direction_of_the_levels(
    gain: str, levels: dict[str, object], verdict: str
) -> None:
    got, why = discrimination_verdict(gain, levels)
    assert got == verdict
    assert bool(why) == (got != gain)


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
