"""The truth helpers against independent formulas, and the shipped population values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, spearmanr

from fibrosurvey.dataset import ANALYTES
from fibrosurvey.synth import SCENARIOS
from fibrosurvey.synth.truth import (
    C1_OUTCOMES,
    C2_OUTCOMES,
    _auc,
    partial_spearman,
    population_truth,
    stored_truth,
)


def test_partial_spearman_equals_the_precision_matrix_formula() -> None:
    # Independent route: invert the Spearman correlation matrix of (x, y, z1, z2);
    # partial r = -P_xy / sqrt(P_xx * P_yy) (as in R ppcor::pcor(method = "spearman")).
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2_000, 2))
    x = z @ [0.5, -0.3] + rng.normal(size=2_000)
    y = 0.4 * x + z @ [0.2, 0.6] + rng.normal(size=2_000)
    rho = spearmanr(np.column_stack([x, y, z])).statistic
    precision = np.linalg.inv(rho)
    expected = -precision[0, 1] / np.sqrt(precision[0, 0] * precision[1, 1])
    assert partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-10)


def test_auc_equals_mann_whitney_u_over_n1_n0() -> None:
    rng = np.random.default_rng(4)
    label = (rng.random(500) < 0.4).astype(np.int8)
    score = rng.normal(size=500) + 0.5 * label
    u = mannwhitneyu(score[label == 1], score[label == 0]).statistic
    assert _auc(score, label) == pytest.approx(u / (label.sum() * (500 - label.sum())))


def test_stored_truth_covers_every_scenario_claim_and_analyte() -> None:
    stored = stored_truth()
    assert set(stored) == set(SCENARIOS)
    for values in stored.values():
        assert set(values["c1"]["partial_spearman"]) == set(ANALYTES)
        for row in values["c1"]["partial_spearman"].values():
            assert set(row) == set(C1_OUTCOMES)
        assert set(values["c2"]["outcomes"]) == set(C2_OUTCOMES)
        assert {"ancova_lifestyle_vs_analgesics_only", "att_fiqr_points"} <= set(values["c3"])
        assert set(values["c4"]) == set(ANALYTES)
        assert {"auc_gain_fm", "auc_gain_high_severity"} <= set(values["c4_panel"])
        for outcome in values["c2"]["outcomes"].values():
            assert outcome["adjusted_odds_ratio"] > 0


def test_stored_truth_directions_match_the_scenarios() -> None:
    stored = stored_truth()
    seed = stored["seed-claims"]
    assert seed["c1"]["partial_spearman"]["aea"]["nrs_pain"] < -0.15
    assert seed["c2"]["outcomes"]["migraine_positive"]["risk_difference"] > 0.05
    assert seed["c3"]["att_fiqr_points"] < -4
    assert seed["c4_panel"]["auc_gain_high_severity"] > 0.03
    assert stored["null"]["c4_panel"]["auc_gain_fm"] < 0.005
    literature = stored["literature"]
    assert abs(literature["c1"]["partial_spearman"]["aea"]["nrs_pain"]) < 0.01
    assert literature["c4"]["sea"]["smd_log_fm"] > literature["c4"]["aea"]["smd_log_fm"] + 0.15
    null = stored["null"]
    assert abs(null["c3"]["ancova_lifestyle_vs_analgesics_only"]) < 0.3
    assert null["c3"]["att_fiqr_points"] == 0


@pytest.mark.slow
def test_stored_truth_is_reproduced_by_a_fresh_population() -> None:
    fresh = population_truth("seed-claims", n=150_000, seed=99)
    stored = stored_truth()["seed-claims"]
    for analyte in ANALYTES:
        for outcome in C1_OUTCOMES:
            assert fresh["c1"]["partial_spearman"][analyte][outcome] == pytest.approx(
                stored["c1"]["partial_spearman"][analyte][outcome], abs=0.012
            )
    assert fresh["c3"]["att_fiqr_points"] == pytest.approx(stored["c3"]["att_fiqr_points"], abs=0.3)
    assert fresh["calibration"]["fm_share"] == pytest.approx(
        stored["calibration"]["fm_share"], abs=0.01
    )


def test_logistic_helper_matches_statsmodels_glm() -> None:
    import statsmodels.api as sm

    from fibrosurvey.synth.truth import _logistic

    rng = np.random.default_rng(5)
    x = np.column_stack([rng.normal(50, 12, 3_000), rng.integers(0, 2, 3_000)])
    logit = -3 + 0.05 * x[:, 0] + 0.7 * x[:, 1]
    y = (rng.random(3_000) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    reference = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    coefficients, linear = _logistic(x, y)
    np.testing.assert_allclose(coefficients, reference.params[1:], rtol=1e-4)
    np.testing.assert_allclose(linear, reference.fittedvalues, atol=1e-3)
