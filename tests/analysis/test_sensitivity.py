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
    z = np.array([math.atanh(r.estimate) for r in per_copy])
    assert pooled["estimate"] == pytest.approx(math.tanh(z.mean()), rel=1e-10)
    # Rubin: T = W + (1 + 1/m) B, W = mean(1 / (n - 3 - k))
    k = per_copy[0].k_covariates
    within = np.mean([1 / (r.n - 3 - k) for r in per_copy])
    total = within + (1 + 1 / 2) * z.var(ddof=1)
    assert pooled["n"] == data.height
    assert math.atanh(pooled["ci_high"]) - math.atanh(pooled["ci_low"]) > 2 * 1.959 * math.sqrt(
        total
    )  # t quantile on finite df is wider than the normal one


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
    pooled = pool_estimates([task(copy) for copy in copies], alpha=0.05)
    assert pooled["estimate"] == pytest.approx(np.mean(estimates), rel=1e-8)
    total = np.mean(variances) + 1.5 * np.var(estimates, ddof=1)
    assert pooled["p"] <= 1.0
    z = abs(pooled["estimate"]) / math.sqrt(total)
    assert pooled["p"] >= 2 * sps.norm.sf(z) - 1e-12  # t reference is never more extreme


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
