"""Cross-validated AUC and DeLong against scikit-learn, Mann-Whitney U, a hand-worked example
and an independent pairwise (O(n1 n0)) DeLong implementation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats as sps
from scipy.stats import mannwhitneyu
from sklearn.metrics import roc_auc_score, roc_curve

from fibrosurvey.stats import auc_delong, cv_auc, delong_covariance, panel_level_association


def _pairwise_delong(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong et al. (1988) written out with the explicit kernel psi(X_i, Y_j)."""
    pos, neg = scores[y == 1], scores[y == 0]
    psi = (pos[:, None, :] > neg[None, :, :]) + 0.5 * (pos[:, None, :] == neg[None, :, :])
    v10 = psi.mean(axis=1)  # per positive
    v01 = psi.mean(axis=0)  # per negative
    m, n = len(pos), len(neg)
    cov = np.cov(v10, rowvar=False) / m + np.cov(v01, rowvar=False) / n
    return psi.mean(axis=(0, 1)), np.atleast_2d(cov)


def test_delong_variance_hand_worked() -> None:
    # positives 0.9, 0.8, 0.4; negatives 0.7, 0.3.
    # V10 (share of negatives below each positive) = 1, 1, 1/2 -> AUC = 2.5 / 3 = 0.8333
    # V01 (share of positives above each negative) = 2/3, 1
    # S10 = var(1, 1, .5) = 1/12; S01 = var(2/3, 1) = 1/18
    # Var = S10 / 3 + S01 / 2 = 1/36 + 1/36 = 1/18
    y = np.array([1, 1, 1, 0, 0.0])
    score = np.array([0.9, 0.8, 0.4, 0.7, 0.3])
    result = auc_delong(y, score)
    assert result.estimate == pytest.approx(2.5 / 3)
    assert result.se == pytest.approx(np.sqrt(1 / 18))
    assert result.ci_high == 1.0  # clipped to [0, 1]


def test_delong_covariance_matches_the_pairwise_definition_with_ties() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(120) < 0.4).astype(float)
    scores = np.round(np.column_stack([y + rng.normal(size=120), rng.normal(size=120)]), 1)
    aucs, cov = delong_covariance(y, scores)
    ref_aucs, ref_cov = _pairwise_delong(y, scores)
    np.testing.assert_allclose(aucs, ref_aucs, rtol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10)


def test_auc_equals_sklearn_and_mann_whitney_u() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.3).astype(float)
    score = np.round(0.7 * y + rng.normal(size=300), 1)
    result = auc_delong(y, score)
    assert result.estimate == pytest.approx(roc_auc_score(y, score), rel=1e-12)
    u = mannwhitneyu(score[y == 1], score[y == 0]).statistic
    assert result.estimate == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), rel=1e-12)


def _panel(seed: int, n: int, biomarker_effect: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    covariates = rng.normal(size=(n, 2))
    biomarkers = rng.normal(size=(n, 3))
    eta = -0.5 + 0.8 * covariates[:, 0] + biomarker_effect * biomarkers[:, 0]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return y, np.column_stack([biomarkers, covariates]), covariates


def test_cv_auc_reports_sklearn_aucs_of_its_out_of_fold_predictions_and_roc_points() -> None:
    y, full, base = _panel(2, 600, 1.0)
    result = cv_auc(y, full, base, folds=5, seed=3)
    assert result.auc_full == pytest.approx(roc_auc_score(y, result.oof_full), rel=1e-12)
    assert result.auc_base == pytest.approx(roc_auc_score(y, result.oof_base), rel=1e-12)
    assert result.estimate == pytest.approx(result.auc_full - result.auc_base)
    fpr, tpr, _ = roc_curve(y, result.oof_full)
    np.testing.assert_allclose(result.roc_full_fpr, fpr)
    np.testing.assert_allclose(result.roc_full_tpr, tpr)
    aucs, cov = _pairwise_delong(y, np.column_stack([result.oof_full, result.oof_base]))
    np.testing.assert_allclose(aucs, [result.auc_full, result.auc_base], rtol=1e-12)
    se_gain = np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert result.auc_full_ci_low == pytest.approx(
        result.auc_full - 1.959963984540054 * np.sqrt(cov[0, 0])
    )
    assert result.se == pytest.approx(se_gain, rel=1e-9)
    assert result.conf_int() == pytest.approx(
        (
            result.estimate - 1.959963984540054 * se_gain,
            result.estimate + 1.959963984540054 * se_gain,
        )
    )


def test_cv_auc_finds_an_informative_biomarker_and_not_a_null_one() -> None:
    y, full, base = _panel(4, 800, 1.0)
    informative = cv_auc(y, full, base)
    assert informative.ci_low > 0.03
    assert informative.p < 1e-6
    y, full, base = _panel(5, 800, 0.0)
    null = cv_auc(y, full, base)
    assert null.ci_low < 0 < null.ci_high or abs(null.estimate) < 0.02


def test_cv_auc_is_reproducible_by_seed_and_bootstrap_agrees_with_delong() -> None:
    y, full, base = _panel(6, 500, 0.7)
    first = cv_auc(y, full, base, seed=11, n_boot=400)
    again = cv_auc(y, full, base, seed=11, n_boot=400)
    assert first.summary() == again.summary()
    assert first.boot_ci_low == pytest.approx(first.ci_low, abs=0.015)
    assert first.boot_ci_high == pytest.approx(first.ci_high, abs=0.015)


def test_cv_auc_with_too_few_events_reports_status() -> None:
    y = np.zeros(50)
    y[:3] = 1
    result = cv_auc(y, np.random.default_rng(0).normal(size=(50, 2)), None, folds=5)
    assert result.status == "insufficient_data"
    assert np.isnan(result.estimate)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(np.int64, st.integers(4, 40), elements=st.integers(-50, 50)),
    st.integers(0, 2**32 - 1),
)
def test_auc_is_invariant_to_monotone_transforms_and_flips_with_the_score(
    integer_score: np.ndarray, seed: int
) -> None:
    score = integer_score.astype(np.float64)  # integers: many ties, no rounding collisions
    y = np.random.default_rng(seed).permutation(np.arange(score.size) % 2).astype(float)
    auc = auc_delong(y, score).estimate
    assert 0.0 <= auc <= 1.0
    assert auc_delong(y, np.exp(score / 10)).estimate == pytest.approx(auc, abs=1e-12)
    assert auc_delong(y, -score).estimate == pytest.approx(1 - auc, abs=1e-12)


@pytest.mark.slow
def test_delong_interval_covers_the_binormal_auc() -> None:
    from scipy.stats import norm

    rng = np.random.default_rng(8)
    truth = norm.cdf(1.0 / np.sqrt(2))  # cases ~ N(1, 1), controls ~ N(0, 1)
    y = np.r_[np.ones(80), np.zeros(120)]
    covered = []
    for _ in range(1000):
        score = rng.normal(size=200) + y
        result = auc_delong(y, score)
        covered.append(result.ci_low <= truth <= result.ci_high)
    assert 0.93 <= np.mean(covered) <= 0.97


def test_delong_matches_r_proc_on_apistrat(apistrat: pl.DataFrame, r_models: dict) -> None:
    # R (tests/data/reference_models.R), pROC 1.18.0, direction = "<": roc(sch_wide, api00),
    # roc(sch_wide, growth), ci.auc(method = "delong"), var, cov and
    # roc.test(method = "delong", paired = TRUE).
    r = r_models["delong"]
    y = apistrat["sch_wide"].to_numpy()
    single = auc_delong(y, apistrat["api00"])
    assert single.estimate == pytest.approx(r["auc_api00"], rel=1e-11)
    assert single.se**2 == pytest.approx(r["var_api00"], rel=1e-10)
    assert single.conf_int() == pytest.approx(tuple(r["ci_api00"]), rel=1e-10)
    scores = np.column_stack([apistrat["api00"], apistrat["growth"]]).astype(np.float64)
    aucs, cov = delong_covariance(y, scores)
    assert aucs == pytest.approx([r["auc_api00"], r["auc_growth"]], rel=1e-11)
    assert cov[1, 1] == pytest.approx(r["var_growth"], rel=1e-10)
    assert cov[0, 1] == pytest.approx(r["cov"], rel=1e-10)
    z = (aucs[0] - aucs[1]) / np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert z == pytest.approx(r["z_paired"], rel=1e-10)
    assert 2 * sps.norm.sf(abs(z)) == pytest.approx(r["p_paired"], rel=1e-8)


def test_panel_level_association_matches_r_glm_on_apistrat(
    apistrat: pl.DataFrame, r_models: dict
) -> None:
    # R: glm(sch_wide ~ scale(rowMeans(scale(cbind(api00, growth)))) + ell, binomial)
    r = r_models["panel_level"]
    result = panel_level_association(
        apistrat["sch_wide"], apistrat.select("api00", "growth"), apistrat.select("ell")
    )
    assert result.log_or == pytest.approx(r["b"], rel=1e-8)
    assert result.se_log_or == pytest.approx(r["se"], rel=1e-7)
    assert result.p == pytest.approx(r["p"], rel=1e-6)


def _converged_oof(y: np.ndarray, x: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Out-of-fold probabilities from L-BFGS run to a 1e-13 gradient (another solver)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    out = np.empty(y.size)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        scaler = StandardScaler().fit(x[train])
        model = LogisticRegression(tol=1e-13, max_iter=100_000)
        model.fit(scaler.transform(x[train]), y[train])
        out[test] = model.predict_proba(scaler.transform(x[test]))[:, 1]
    return out


def test_cv_auc_is_fitted_to_convergence_not_to_a_solver_default() -> None:
    # Predictors on very different scales, as age (years), BMI and log concentrations are.
    rng = np.random.default_rng(12)
    n = 3000
    covariates = np.column_stack([rng.normal(50, 12, n), rng.normal(28, 6, n)])
    biomarkers = rng.normal(size=(n, 5)) * [0.3, 1.0, 2.0, 0.5, 4.0]
    eta = -1 + 0.03 * (covariates[:, 0] - 50) + 0.2 * biomarkers[:, 1] + 0.1 * biomarkers[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    full = np.column_stack([biomarkers, covariates])
    default = cv_auc(y, full, covariates, seed=5)
    tighter = cv_auc(y, full, covariates, seed=5, tol=1e-14)
    assert tighter.estimate == pytest.approx(default.estimate, rel=1e-9, abs=1e-12)
    assert tighter.conf_int() == pytest.approx(default.conf_int(), rel=1e-9, abs=1e-12)
    # ...and equal to the optimum found by a different solver run to a tiny tolerance.
    reference = roc_auc_score(y, _converged_oof(y, full, 5, 5)) - roc_auc_score(
        y, _converged_oof(y, covariates, 5, 5)
    )
    assert default.estimate == pytest.approx(reference, rel=1e-7, abs=1e-10)


def test_panel_level_association_is_the_odds_ratio_per_sd_of_the_mean_standardised_level() -> None:
    rng = np.random.default_rng(21)
    n = 800
    age = rng.normal(50, 10, n)
    y = (rng.random(n) < 0.4).astype(float)
    # Levels higher in those with the outcome, on different scales (as PEA, OEA, SEA).
    panel = rng.normal(size=(n, 3)) * [1.0, 3.0, 0.2] + 0.3 * y[:, None] * [1.0, 3.0, 0.2]
    panel[5, 1] = np.nan
    result = panel_level_association(y, panel, age)
    keep = ~np.isnan(panel).any(axis=1)
    z = (panel[keep] - panel[keep].mean(axis=0)) / panel[keep].std(axis=0, ddof=1)
    composite = z.mean(axis=1)
    composite = (composite - composite.mean()) / composite.std(ddof=1)
    fit = sm.Logit(y[keep], sm.add_constant(np.column_stack([composite, age[keep]]))).fit(
        disp=False
    )
    assert result.n == n - 1
    assert result.log_or == pytest.approx(fit.params[1], rel=1e-8)
    assert result.se_log_or == pytest.approx(fit.bse[1], rel=1e-8)
    assert result.estimate > 1 and result.ci_low > 1  # raised levels, not a deficiency
    flipped = panel_level_association(y, -panel, age)
    assert flipped.log_or == pytest.approx(-result.log_or, rel=1e-8)
