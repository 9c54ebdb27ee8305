"""Rubin's rules with Barnard-Rubin df (hand-worked), and the chained-equations imputer."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from threadpoolctl import threadpool_limits

from fibrosurvey.stats import multiply_impute, rubin_pool


def test_rubin_pool_hand_worked() -> None:
    # m = 5 estimates 1.0, 1.2, 0.9, 1.1, 1.3; variances .04, .05, .045, .05, .04; n = 100, k = 3
    # Qbar = 5.5 / 5 = 1.1
    # W = 0.225 / 5 = 0.045
    # B = (.01 + .01 + .04 + 0 + .04) / 4 = 0.025
    # T = W + (1 + 1/5) B = 0.045 + 0.03 = 0.075
    # lambda = 0.03 / 0.075 = 0.4; riv = 0.03 / 0.045 = 2/3
    # nu_old = (m - 1) / lambda^2 = 4 / 0.16 = 25
    # nu_com = 97; nu_obs = (98 / 100) * 97 * (1 - 0.4) = 57.036
    # nu = 25 * 57.036 / (25 + 57.036) = 17.38139...
    # fmi = (riv + 2 / (nu + 3)) / (riv + 1)
    result = rubin_pool(
        [1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.045, 0.05, 0.04], n_obs=100, k_params=3
    )
    assert result.estimate == pytest.approx(1.1)
    assert result.within == pytest.approx(0.045)
    assert result.between == pytest.approx(0.025)
    assert result.total == pytest.approx(0.075)
    assert result.riv == pytest.approx(2 / 3)
    nu = 25 * 57.036 / (25 + 57.036)
    assert result.df == pytest.approx(nu, rel=1e-12)
    assert result.df == pytest.approx(17.381393534545808, rel=1e-12)
    assert result.fmi == pytest.approx((2 / 3 + 2 / (nu + 3)) / (5 / 3))
    half = sps.t.ppf(0.975, nu) * np.sqrt(0.075)
    assert result.conf_int() == pytest.approx((1.1 - half, 1.1 + half))
    assert result.p == pytest.approx(2 * sps.t.sf(1.1 / np.sqrt(0.075), nu))


def test_rubin_pool_matches_r_mice_pool_scalar(r_models: dict) -> None:
    # R mice 3.15.0 (tests/data/reference_models.R): pool.scalar(Q, U, n = 100, k = 3)
    r = r_models["pool_scalar"]
    result = rubin_pool(
        [1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.045, 0.05, 0.04], n_obs=100, k_params=3
    )
    assert result.estimate == pytest.approx(r["qbar"], rel=1e-12)
    assert result.total == pytest.approx(r["t"], rel=1e-12)
    assert result.riv == pytest.approx(r["r"], rel=1e-12)
    assert result.df == pytest.approx(r["df"], rel=1e-12)
    assert result.fmi == pytest.approx(r["fmi"], rel=1e-11)


def test_identical_imputations_pool_to_the_complete_data_analysis() -> None:
    result = rubin_pool([2.0, 2.0, 2.0], [0.25, 0.25, 0.25], n_obs=50, k_params=2)
    assert result.between == 0
    assert result.se == pytest.approx(0.5)
    assert result.df == 48  # B = 0: the complete-data df


def test_large_sample_df_tends_to_rubins_1987_df() -> None:
    # With nu_com -> infinity, Barnard-Rubin reduces to nu_old = (m - 1) / lambda^2.
    result = rubin_pool([1.0, 1.2, 0.9, 1.1, 1.3], [0.04, 0.05, 0.045, 0.05, 0.04], 10**9, 3)
    assert result.df == pytest.approx(25.0, rel=1e-6)


def test_rubin_pool_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="same number"):
        rubin_pool([1.0, 2.0], [0.1], 10, 1)


def _frame(seed: int, n: int = 400) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    y = 5 + 0.5 * x + rng.normal(0, 4, n)
    y_missing = y.copy()
    y_missing[rng.random(n) < 0.3] = np.nan  # MCAR
    frame = pl.DataFrame({"id": np.arange(n), "x": x, "y": y_missing})
    return frame, y


def test_multiply_impute_fills_only_missing_cells_and_varies_between_imputations() -> None:
    frame, _ = _frame(1)
    completed = multiply_impute(frame, ["x", "y"], m=4, seed=7)
    assert len(completed) == 4
    observed = frame["y"].is_not_nan().to_numpy()
    for imputed in completed:
        assert imputed.columns == frame.columns
        assert imputed["y"].is_nan().sum() == 0
        np.testing.assert_array_equal(
            imputed["y"].to_numpy()[observed], frame["y"].to_numpy()[observed]
        )
        assert imputed["y"].min() >= frame["y"].drop_nans().min()
    first, second = completed[0]["y"].to_numpy(), completed[1]["y"].to_numpy()
    assert not np.allclose(first[~observed], second[~observed])
    again = multiply_impute(frame, ["x", "y"], m=4, seed=7)
    np.testing.assert_array_equal(again[2]["y"].to_numpy(), completed[2]["y"].to_numpy())


def test_pooled_regression_over_imputations_recovers_the_slope() -> None:
    frame, _ = _frame(2, n=600)
    completed = multiply_impute(frame, ["x", "y"], m=10, seed=0)
    estimates, variances = [], []
    for imputed in completed:
        fit = sm.OLS(imputed["y"].to_numpy(), sm.add_constant(imputed["x"].to_numpy())).fit()
        estimates.append(fit.params[1])
        variances.append(fit.bse[1] ** 2)
    pooled = rubin_pool(estimates, variances, n_obs=600, k_params=2)
    assert pooled.ci_low < 0.5 < pooled.ci_high
    assert pooled.between > 0
    assert 0 < pooled.fmi < 0.6


def test_unknown_column_is_an_error_listing_the_available_ones() -> None:
    frame, _ = _frame(3)
    with pytest.raises(ValueError, match="columns not in the frame"):
        multiply_impute(frame, ["x", "nope"], m=2)


def test_pooling_matches_statsmodels_mice_results() -> None:
    from statsmodels.imputation import mice

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = 1 + 0.5 * x + rng.normal(size=200)
    y[rng.random(200) < 0.3] = np.nan
    engine = mice.MICE("y ~ x", sm.OLS, mice.MICEData(pd.DataFrame({"x": x, "y": y})))
    np.random.seed(0)  # statsmodels' MICEData draws from numpy's global generator
    pooled_by_statsmodels = engine.fit(n_burnin=2, n_imputations=6)
    params = np.array([fit.params for fit in engine.results_list])
    ses = np.array([fit.bse for fit in engine.results_list])
    for j in range(2):
        ours = rubin_pool(params[:, j], ses[:, j] ** 2, n_obs=200, k_params=2)
        assert ours.estimate == pytest.approx(pooled_by_statsmodels.params[j], rel=1e-12)
        assert ours.se == pytest.approx(pooled_by_statsmodels.bse[j], rel=1e-10)
        assert ours.lambda_ == pytest.approx(pooled_by_statsmodels.frac_miss_info[j], rel=1e-10)


def test_norm_draws_centre_on_the_regression_and_spread_by_its_residual_sd() -> None:
    # Bayesian linear regression imputation (mice "norm"): across imputations, a missing y at x
    # is drawn around the OLS prediction with spread about the residual SD (4 here) plus the
    # parameter uncertainty, which is small at n = 2,000.
    rng = np.random.default_rng(11)
    n = 2000
    x = rng.normal(50, 10, n)
    y = 5 + 0.5 * x + rng.normal(0, 4, n)
    y[:200] = np.nan
    frame = pl.DataFrame({"x": x, "y": y})
    fit = sm.OLS(y[200:], sm.add_constant(x[200:])).fit()
    expected = fit.params[0] + fit.params[1] * x[:200]
    draws = np.array(
        [c["y"].to_numpy()[:200] for c in multiply_impute(frame, ["x", "y"], m=40, seed=3)]
    )
    # No bias overall (8,000 draws: SE about 4 / sqrt(8000) = 0.045, plus parameter draws).
    assert abs(draws.mean() - expected.mean()) < 0.2
    # Each cell's mean of 40 draws sits about sqrt(2/pi) * 4 / sqrt(40) = 0.50 from the line.
    assert 0.4 < np.abs(draws.mean(axis=0) - expected).mean() < 0.62
    residual_sd = np.sqrt(fit.scale)
    assert 0.9 * residual_sd < draws.std(axis=0, ddof=1).mean() < 1.1 * residual_sd


def test_imputation_costs_a_small_multiple_of_one_least_squares_fit_per_column() -> None:
    # Chained equations by construction: per column and iteration, one X'X, one solve and one
    # prediction. Measured against exactly that NumPy work on the same data in the same
    # process (so a busy machine slows both), the whole imputation must stay within 25 times
    # it (measured 4-7 times on 2 busy cores); a per-row loop or a refit per missing cell would
    # cost hundreds of times more.
    rng = np.random.default_rng(0)
    n, k, m, iterations = 50_000, 12, 2, 5
    data = rng.normal(size=(n, k))
    data[rng.random(data.shape) < 0.05] = np.nan
    frame = pl.DataFrame({f"c{j}": data[:, j] for j in range(k)})
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        completed = multiply_impute(frame, frame.columns, m=m, seed=1, max_iter=iterations)
        imputation = time.perf_counter() - started
        x = np.column_stack([np.ones(n), np.nan_to_num(data)])
        started = time.perf_counter()
        for _ in range(m * iterations * k):
            beta = np.linalg.solve(x.T @ x, x.T @ x[:, 1])
            x @ beta
        baseline = time.perf_counter() - started
    assert all(c.null_count().sum_horizontal()[0] == 0 for c in completed)
    assert all(not np.isnan(c.to_numpy()).any() for c in completed)
    assert imputation <= 25 * baseline, (imputation, baseline)


def test_imputation_maker_gives_the_copies_of_multiply_impute() -> None:
    """Copies made one at a time (in any order) are the copies made all at once."""
    import polars as pl

    from fibrosurvey.stats.imputation import imputation_maker, multiply_impute

    rng = np.random.default_rng(4)
    x = rng.normal(size=200)
    y = np.where(rng.random(200) < 0.3, np.nan, x + rng.normal(size=200))
    frame = pl.DataFrame({"x": x, "y": y}).fill_nan(None)
    together = multiply_impute(frame, ["x", "y"], m=3, seed=9)
    make = imputation_maker(frame, ["x", "y"], seed=9)
    assert [make(i).equals(together[i]) for i in (2, 0, 1)] == [True, True, True]
