"""Spearman / partial Spearman against scipy, statsmodels OLS residuals and R."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats as sps

from fibrosurvey.stats import partial_spearman, spearman


def _cohort(seed: int, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    covariates = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.gamma(2, 2, n)])
    x = covariates @ [0.5, 0.3, 0.1] + rng.normal(size=n)
    y = 0.4 * x + covariates @ [-0.2, 0.6, 0.0] + rng.standard_t(4, n)
    return np.round(x, 1), np.round(y, 1), covariates  # rounding creates ties


def test_spearman_matches_scipy_estimate_and_p_with_ties() -> None:
    x, y, _ = _cohort(1)
    result = spearman(x, y)
    reference = sps.spearmanr(x, y)
    assert result.estimate == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.n == 300


def test_spearman_ci_is_fisher_z_with_se_one_over_sqrt_n_minus_3() -> None:
    x, y, _ = _cohort(2)
    result = spearman(x, y, alpha=0.1)
    z = np.arctanh(result.estimate)
    half = sps.norm.ppf(0.95) / np.sqrt(300 - 3)
    assert result.conf_int() == pytest.approx((np.tanh(z - half), np.tanh(z + half)))


def test_spearman_uses_complete_cases_only() -> None:
    x, y, _ = _cohort(3)
    x[:10] = np.nan
    y[5:20] = np.nan
    result = spearman(x, y)
    keep = ~np.isnan(x) & ~np.isnan(y)
    assert result.n == 280
    assert result.estimate == pytest.approx(sps.spearmanr(x[keep], y[keep]).statistic)


def test_partial_spearman_equals_pearson_of_statsmodels_ols_rank_residuals() -> None:
    x, y, covariates = _cohort(4)
    result = partial_spearman(x, y, covariates)
    ranks = sps.rankdata(np.column_stack([x, y, covariates]), axis=0)
    design = sm.add_constant(ranks[:, 2:])
    rx = sm.OLS(ranks[:, 0], design).fit().resid
    ry = sm.OLS(ranks[:, 1], design).fit().resid
    r, _ = sps.pearsonr(rx, ry)
    assert result.estimate == pytest.approx(r, rel=1e-10)
    k, n = 3, 300
    t = r * np.sqrt((n - 2 - k) / (1 - r**2))
    assert result.p == pytest.approx(2 * sps.t.sf(abs(t), n - 2 - k), rel=1e-9)
    half = sps.norm.ppf(0.975) / np.sqrt(n - 3 - k)
    assert result.ci_low == pytest.approx(np.tanh(np.arctanh(r) - half))
    assert result.k_covariates == 3
    assert result.df == n - 2 - k


def test_partial_spearman_matches_r_by_hand_on_apistrat(
    apistrat: pl.DataFrame, r_models: dict
) -> None:
    # R (tests/data/reference_models.R; ppcor is not packaged for Debian, so by hand):
    #   rx <- rank(api00); ry <- rank(growth); rc1 <- rank(meals); rc2 <- rank(mobility)
    #   r <- cor(resid(lm(rx ~ rc1 + rc2)), resid(lm(ry ~ rc1 + rc2)))
    #   t <- r * sqrt((n - 2 - k) / (1 - r^2)); 2 * pt(-abs(t), n - 2 - k)
    r = r_models["partial_spearman"]
    result = partial_spearman(
        apistrat["api00"], apistrat["growth"], apistrat.select("meals", "mobility")
    )
    assert result.estimate == pytest.approx(r["r"], rel=1e-10)
    assert result.statistic == pytest.approx(r["t"], rel=1e-9)
    assert result.p == pytest.approx(r["p"], rel=1e-8)


def test_spearman_matches_r_cor_test(apistrat: pl.DataFrame, r_models: dict) -> None:
    # R: cor.test(api00, growth, method = "spearman")
    r = r_models["spearman"]
    result = spearman(apistrat["api00"], apistrat["growth"])
    assert result.estimate == pytest.approx(r["rho_cor_test"], rel=1e-9)
    assert result.p == pytest.approx(r["p_cor_test"], rel=1e-8)


def test_constant_covariate_is_dropped_from_the_df_and_said() -> None:
    x, y, covariates = _cohort(5)
    with_constant = np.column_stack([covariates, np.ones(300)])
    result = partial_spearman(x, y, with_constant)
    assert result.k_covariates == 3
    assert result.estimate == pytest.approx(partial_spearman(x, y, covariates).estimate)
    assert "constant or collinear" in result.note


def test_too_few_cases_give_status_not_numbers() -> None:
    result = partial_spearman(
        [1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0], [[1.0], [2.0], [0.0], [1.0]]
    )
    assert result.status == "insufficient_data"
    assert np.isnan(result.p)


def test_mismatched_lengths_are_an_error_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="covariates: has 2 rows"):
        partial_spearman([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [[1.0], [2.0]])


finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(6, 40), st.just(3)), elements=finite))
def test_partial_spearman_is_a_correlation_and_ignores_row_order(data: np.ndarray) -> None:
    result = partial_spearman(data[:, 0], data[:, 1], data[:, 2])
    if not result.ok:
        return
    assert -1.0 <= result.estimate <= 1.0
    assert result.ci_low <= result.estimate <= result.ci_high
    shuffled = data[np.random.default_rng(0).permutation(data.shape[0])]
    again = partial_spearman(shuffled[:, 0], shuffled[:, 1], shuffled[:, 2])
    assert again.estimate == pytest.approx(result.estimate, abs=1e-9)


@pytest.mark.slow
def test_partial_spearman_p_values_hold_their_level_under_the_null() -> None:
    rng = np.random.default_rng(7)
    rejections = []
    for _ in range(2000):
        z = rng.normal(size=(60, 2))
        x = z[:, 0] + rng.normal(size=60)  # x and y both depend on z, but not on each other
        y = np.exp(z[:, 0] - z[:, 1] + rng.normal(size=60))
        rejections.append(partial_spearman(x, y, z).p < 0.05)
    assert 0.035 <= np.mean(rejections) <= 0.065


def test_spearman_ci_matches_r_fisher_interval_on_ranks(
    apistrat: pl.DataFrame, r_models: dict
) -> None:
    # R (tests/data/reference_models.R): cor.test(rank(api00), rank(growth))
    r = r_models["spearman"]
    result = spearman(apistrat["api00"], apistrat["growth"])
    assert result.estimate == pytest.approx(r["r"], rel=1e-9)
    assert result.conf_int() == pytest.approx(tuple(r["ci"]), rel=1e-9)
    assert result.p == pytest.approx(r["p"], rel=1e-9)


def test_text_columns_are_rejected_with_their_name() -> None:
    with pytest.raises(TypeError, match="column 'sex' has type String"):
        spearman(pl.Series("sex", ["f", "m", "f"]), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"columns \['site'\] are not numeric"):
        partial_spearman([1.0, 2.0], [1.0, 2.0], pl.DataFrame({"site": ["a", "b"]}))


def test_partial_spearman_of_ranks_is_partial_spearman() -> None:
    """The runner's ranked-once path gives the very same result as ranking per call."""
    from fibrosurvey.stats.correlation import average_ranks, partial_spearman_of_ranks

    rng = np.random.default_rng(8)
    z = np.column_stack([rng.normal(size=300), rng.integers(0, 2, 300)])
    x = z[:, 0] + rng.normal(size=300)
    y = np.round(x + z[:, 1] + rng.normal(size=300), 1)  # ties
    direct = partial_spearman(x, y, z)
    ranked = partial_spearman_of_ranks(average_ranks(np.column_stack([x, y, z])))
    assert ranked == direct
