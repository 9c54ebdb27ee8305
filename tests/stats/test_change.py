"""ANCOVA against statsmodels OLS formulas; IPW against statsmodels WLS HC0/HC1 on the same
weights and against a simulated known effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from fibrosurvey.stats import ancova, ipw_effect


def _trial(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(50, 10, n)
    sex = rng.integers(0, 2, n).astype(float)
    pre = rng.normal(55, 15, n) + 0.2 * (age - 50)
    group = (rng.random(n) < 1 / (1 + np.exp(-(pre - 55) / 15))).astype(float)
    post = 15 + 0.6 * pre - 4.0 * group + 0.1 * age + 2 * sex + rng.normal(0, 10, n)
    return pd.DataFrame({"post": post, "pre": pre, "group": group, "age": age, "sex": sex})


def test_ancova_matches_statsmodels_formula_ols() -> None:
    frame = _trial(1)
    frame.loc[[3, 8], "post"] = np.nan
    result = ancova(frame["post"], frame["pre"], frame["group"], frame[["age", "sex"]].to_numpy())
    fit = smf.ols("post ~ group + pre + age + sex", data=frame).fit()
    assert result.n == 398 == int(fit.nobs)
    assert result.estimate == pytest.approx(fit.params["group"], rel=1e-10)
    assert result.se == pytest.approx(fit.bse["group"], rel=1e-10)
    assert result.p == pytest.approx(fit.pvalues["group"], rel=1e-8)
    assert result.conf_int() == pytest.approx(tuple(fit.conf_int().loc["group"]), rel=1e-10)
    assert result.df == int(fit.df_resid)


def test_ancova_group_effect_on_change_equals_effect_on_follow_up() -> None:
    frame = _trial(2).assign(change=lambda f: f["post"] - f["pre"])
    on_change = smf.ols("change ~ group + pre + age", data=frame).fit()
    result = ancova(frame["post"], frame["pre"], frame["group"], frame["age"].to_numpy())
    assert result.estimate == pytest.approx(on_change.params["group"], rel=1e-10)
    assert result.se == pytest.approx(on_change.bse["group"], rel=1e-10)


def _observational(seed: int, n: int, effect: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    severity = rng.normal(size=n)
    age = rng.normal(size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * severity - 0.3 * age)))).astype(float)
    outcome = 3.0 * severity + 1.0 * age + effect * treated + rng.normal(size=n)
    return outcome, treated, np.column_stack([severity, age])


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_ipw_matches_statsmodels_wls_sandwich_on_the_same_weights(cov_type: str) -> None:
    outcome, treated, covariates = _observational(3, 800, 2.0)
    result = ipw_effect(outcome, treated, covariates, cov_type=cov_type)
    fit = sm.WLS(outcome, sm.add_constant(treated), weights=result.weights).fit(cov_type=cov_type)
    assert result.estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert result.se == pytest.approx(fit.bse[1], rel=1e-10)
    assert result.p == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert result.conf_int() == pytest.approx(tuple(fit.conf_int()[1]), rel=1e-10)


def test_ipw_weights_are_stabilised_and_truncated_at_the_1st_and_99th_percentiles() -> None:
    outcome, treated, covariates = _observational(4, 800, 2.0)
    result = ipw_effect(outcome, treated, covariates)
    fit = sm.Logit(treated, sm.add_constant(covariates)).fit(disp=False)
    e = fit.predict(sm.add_constant(covariates))
    share = treated.mean()
    raw = np.where(treated == 1, share / e, (1 - share) / (1 - e))
    lo, hi = np.quantile(raw, [0.01, 0.99])
    np.testing.assert_allclose(result.weights, np.clip(raw, lo, hi), rtol=1e-7)
    assert result.n_truncated == 16
    untruncated = ipw_effect(outcome, treated, covariates, truncate=None)
    np.testing.assert_allclose(untruncated.weights, raw, rtol=1e-7)


def test_ipw_recovers_a_known_effect_that_the_naive_difference_misses() -> None:
    outcome, treated, covariates = _observational(5, 4000, 2.0)
    naive = outcome[treated == 1].mean() - outcome[treated == 0].mean()
    assert naive > 3.0  # confounded by severity
    result = ipw_effect(outcome, treated, covariates)
    assert result.ci_low < 2.0 < result.ci_high
    assert abs(result.estimate - 2.0) < 0.4


def test_ipw_without_overlap_reports_separation() -> None:
    outcome, _, covariates = _observational(6, 300, 1.0)
    treated = (covariates[:, 0] > 0).astype(float)
    result = ipw_effect(outcome, treated, covariates)
    assert result.status == "separation"
    assert np.isnan(result.estimate)


@pytest.mark.slow
def test_ipw_interval_covers_the_true_effect_in_repeated_samples() -> None:
    covered, truncated, untruncated = [], [], []
    for seed in range(150):
        outcome, treated, covariates = _observational(1000 + seed, 600, 2.0)
        result = ipw_effect(outcome, treated, covariates)
        covered.append(result.ci_low <= 2.0 <= result.ci_high)
        truncated.append(result.estimate)
        untruncated.append(ipw_effect(outcome, treated, covariates, truncate=None).estimate)
    # The sandwich treats the weights as known, which is conservative (Lunceford & Davidian
    # 2004): coverage at or above nominal. Untruncated IPW is unbiased; truncation at the
    # 1st/99th percentiles trades a small bias (here ~0.1 SD of the outcome) for stability.
    assert np.mean(covered) >= 0.93
    assert np.mean(untruncated) == pytest.approx(2.0, abs=0.05)
    assert np.mean(truncated) == pytest.approx(2.0, abs=0.15)


def test_ancova_matches_r_lm_on_apistrat(apistrat: pl.DataFrame, r_models: dict) -> None:
    # R (tests/data/reference_models.R): lm(api00 ~ elementary + api99 + meals), and
    # lmtest::coeftest with sandwich::vcovHC(type = "HC3") for the robust interval.
    r = r_models["ancova"]
    elementary = (apistrat["stype"] == "E").cast(pl.Float64)
    result = ancova(apistrat["api00"], apistrat["api99"], elementary, apistrat.select("meals"))
    assert result.estimate == pytest.approx(r["b"], rel=1e-10)
    assert result.se == pytest.approx(r["se"], rel=1e-10)
    assert result.p == pytest.approx(r["p"], rel=1e-8)
    assert result.conf_int() == pytest.approx(tuple(r["ci"]), rel=1e-10)
    assert result.df == r["df"]
    robust = ancova(
        apistrat["api00"], apistrat["api99"], elementary, apistrat.select("meals"), cov_type="HC3"
    )
    assert robust.estimate == pytest.approx(r["b"], rel=1e-10)
    assert robust.se == pytest.approx(r["se_hc3"], rel=1e-10)
    assert robust.p == pytest.approx(r["p_hc3"], rel=1e-8)
    assert robust.conf_int() == pytest.approx(tuple(r["ci_hc3"]), rel=1e-10)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_ipw_replicates_r_end_to_end_on_apistrat(
    apistrat: pl.DataFrame, r_models: dict, cov_type: str
) -> None:
    # R (tests/data/reference_models.R): ps from glm(elementary ~ meals + ell, binomial);
    # stabilised weights truncated at quantile(w, c(.01, .99)); lm(api00 ~ elementary,
    # weights = w); sandwich::vcovHC(type = cov_type)
    r = r_models["ipw"]
    elementary = (apistrat["stype"] == "E").cast(pl.Float64)
    result = ipw_effect(
        apistrat["api00"], elementary, apistrat.select("meals", "ell"), cov_type=cov_type
    )
    assert result.estimate == pytest.approx(r["b"], rel=1e-9)
    assert result.se == pytest.approx(r[f"se_{cov_type.lower()}"], rel=1e-9)
    assert result.n_truncated == 4


def test_ancova_hc3_matches_statsmodels_sandwich_with_t_reference() -> None:
    frame = _trial(4)
    frame["post"] += frame["group"] * np.random.default_rng(4).normal(0, 15, len(frame))
    result = ancova(
        frame["post"], frame["pre"], frame["group"], frame[["age", "sex"]], cov_type="HC3"
    )
    fit = smf.ols("post ~ group + pre + age + sex", data=frame).fit(cov_type="HC3", use_t=True)
    classical = ancova(frame["post"], frame["pre"], frame["group"], frame[["age", "sex"]])
    assert result.estimate == pytest.approx(classical.estimate, rel=1e-12)
    assert result.se == pytest.approx(fit.bse["group"], rel=1e-10)
    assert result.se != pytest.approx(classical.se, rel=1e-3)
    assert result.p == pytest.approx(fit.pvalues["group"], rel=1e-8)
    assert result.conf_int() == pytest.approx(tuple(fit.conf_int().loc["group"]), rel=1e-10)
    assert result.method == "ancova_ols_HC3"
