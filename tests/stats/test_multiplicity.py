"""Benjamini-Hochberg against statsmodels multipletests(method="fdr_bh")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from fibrosurvey.stats import benjamini_hochberg

pvalue_lists = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60)


def test_q_values_match_statsmodels_fdr_bh() -> None:
    p = np.random.default_rng(0).uniform(0, 0.2, 25) ** 2
    result = benjamini_hochberg(p, alpha=0.05)
    reject, q, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(result.qvalues, q, rtol=1e-12)
    np.testing.assert_array_equal(result.rejected, reject)


def test_hand_worked_family() -> None:
    # m = 4: sorted p 0.01, 0.03, 0.04, 0.2 -> m p / rank = 0.04, 0.06, 0.0533, 0.2
    # step-up minimum from the top: 0.04, 0.0533, 0.0533, 0.2
    result = benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(result.qvalues, [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert result.rejected.tolist() == [True, False, False, False]


def test_missing_p_values_are_excluded_from_the_family() -> None:
    p = [0.01, np.nan, 0.04, 0.03, np.nan, 0.2]
    result = benjamini_hochberg(p)
    assert result.excluded == (1, 4)
    assert result.n == 4
    assert np.isnan(result.qvalues[[1, 4]]).all()
    _, q, _, _ = multipletests([0.01, 0.04, 0.03, 0.2], method="fdr_bh")
    np.testing.assert_allclose(result.qvalues[[0, 2, 3, 5]], q)
    assert result.summary()["excluded"] == (1, 4)


def test_missing_p_values_are_dropped_as_r_p_adjust_drops_them(r_models: dict) -> None:
    # R: p.adjust(c(0.01, NA, 0.04, 0.03, 0.2), "BH") (tests/data/reference_models.R)
    expected = np.array([np.nan if q is None else q for q in r_models["p_adjust_bh"]])
    result = benjamini_hochberg([0.01, np.nan, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(result.qvalues, expected, rtol=1e-12)


def test_p_values_outside_0_1_are_rejected_with_their_index() -> None:
    with pytest.raises(ValueError, match=r"index 2 is 1\.5"):
        benjamini_hochberg([0.1, 0.2, 1.5])


@settings(max_examples=200, deadline=None)
@given(pvalue_lists)
def test_q_values_are_at_least_p_at_most_1_and_monotone_in_p(p: list[float]) -> None:
    result = benjamini_hochberg(p)
    q, arr = result.qvalues, np.asarray(p)
    assert (q >= arr - 1e-15).all()
    assert (q <= 1.0).all()
    order = np.argsort(arr, kind="stable")
    assert (np.diff(q[order]) >= -1e-15).all()
    np.testing.assert_allclose(q, multipletests(arr, method="fdr_bh")[1], rtol=1e-10, atol=1e-300)
