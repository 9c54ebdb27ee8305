"""Multiple imputation: per-copy estimates pooled by Rubin's rules on the right scale."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from threadpoolctl import threadpool_limits

from fibrosurvey.analysis import load_plan, run_plan
from fibrosurvey.analysis.methods import change_tasks, correlation_tasks
from fibrosurvey.analysis.sensitivity import _block_frame, _impute, pool_estimates
from tests.analysis.test_runner import _with_sex_dummies


def _rubin_barnard_rubin(
    estimates: np.ndarray, variances: np.ndarray, complete_df: float, alpha: float = 0.05
) -> tuple[float, float, float, float]:
    """Rubin's rules with Barnard & Rubin's (1999) df, written out from the paper."""
    m = estimates.size
    qbar, within, between = estimates.mean(), variances.mean(), estimates.var(ddof=1)
    total = within + (1 + 1 / m) * between
    share = (1 + 1 / m) * between / total
    df_old = (m - 1) / share**2
    df_obs = (complete_df + 1) / (complete_df + 3) * complete_df * (1 - share)
    df = df_old * df_obs / (df_old + df_obs)
    half = sps.t.ppf(1 - alpha / 2, df) * math.sqrt(total)
    p = 2 * sps.t.sf(abs(qbar) / math.sqrt(total), df)
    return float(qbar), float(qbar - half), float(qbar + half), float(p)


def test_correlations_are_pooled_on_the_fisher_z_scale(derived: pl.DataFrame) -> None:
    plan = load_plan()
    analysis = plan.claims[1].analyses[0]
    (_row, task), *_ = correlation_tasks(analysis, plan, "C1", "C1", derived)
    data, columns = _block_frame(analysis, plan, derived)
    with threadpool_limits(limits=1):
        copies = _impute(data, columns, plan, 2)
    assert len(copies) == 2
    # imputed copies are complete in the imputed columns and keep 0/1 columns binary
    for copy in copies:
        assert copy.select(columns).null_count().sum_horizontal().item() == 0
        assert set(copy["tx_cannabis_recreational"].unique().to_list()) <= {0.0, 1.0}
    per_copy = [task(copy) for copy in copies]
    pooled = pool_estimates(per_copy, alpha=0.05)
    # Fisher z per copy, variance 1 / (n - 3 - k); complete-data df n - 2 - k (partial r).
    k = per_copy[0].k_covariates
    z = np.array([math.atanh(r.estimate) for r in per_copy])
    variances = np.array([1 / (r.n - 3 - k) for r in per_copy])
    estimate, low, high, p = _rubin_barnard_rubin(z, variances, data.height - 2 - k)
    assert pooled["n"] == data.height
    assert pooled["estimate"] == pytest.approx(math.tanh(estimate), rel=1e-10)
    assert (pooled["ci_low"], pooled["ci_high"]) == pytest.approx(
        (math.tanh(low), math.tanh(high)), rel=1e-10
    )
    assert pooled["p"] == pytest.approx(p, rel=1e-8)


def test_ancova_effects_are_pooled_on_the_raw_scale(derived: pl.DataFrame) -> None:
    plan = load_plan()
    analysis = plan.claims[3].analyses[0]
    (_row, task), *_ = change_tasks(analysis, plan, "C3", "C3", derived)
    wide, columns = _block_frame(analysis, plan, derived)
    with threadpool_limits(limits=1):
        copies = _impute(wide, columns, plan, 2)
    estimates = []
    variances = []
    for copy in copies:
        data = _with_sex_dummies(copy).drop_nulls(["_exp_lifestyle_vs_standard"])
        x = data.select(
            "_exp_lifestyle_vs_standard", "_base", "demo_age", "demo_bmi", "sex2", "sex3"
        ).to_pandas()
        x = x.loc[:, x.std() > 0]
        fit = sm.OLS(data["_follow"].to_numpy(), sm.add_constant(x)).fit(cov_type="HC3")
        estimates.append(fit.params["_exp_lifestyle_vs_standard"])
        variances.append(fit.bse["_exp_lifestyle_vs_standard"] ** 2)
        residual_df = fit.df_resid
    pooled = pool_estimates([task(copy) for copy in copies], alpha=0.05)
    estimate, low, high, p = _rubin_barnard_rubin(
        np.array(estimates), np.array(variances), residual_df
    )
    assert pooled["estimate"] == pytest.approx(estimate, rel=1e-8)
    assert (pooled["ci_low"], pooled["ci_high"]) == pytest.approx((low, high), rel=1e-8)
    assert pooled["p"] == pytest.approx(p, rel=1e-6)


def test_run_plan_adds_pooled_imputation_results_to_every_imputable_test(
    cohort: pl.DataFrame,
) -> None:
    results = run_plan(cohort, load_plan(), imputations=2, describe=False)
    participants = cohort.filter(pl.col("event") == "baseline").height
    for h in results.hypotheses:
        record = h.sensitivity.get("imputation")
        if h.kind == "discrimination":
            assert record is None  # complete-case only, as documented
            continue
        assert record is not None and record["status"] == "ok", (h.id, record)
        if h.kind != "change":
            # everyone at baseline is analysed once their missing values are imputed
            assert record["n"] == participants
        assert record["ci_low"] <= record["estimate"] <= record["ci_high"]
