"""Risk difference / odds ratio against statsmodels Table2x2 and proportion CIs; adjusted
logistic against statsmodels GLM(Binomial); separation detection."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy.stats import chi2, chi2_contingency
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import confint_proportions_2indep

from fibrosurvey.stats import (
    adjusted_logistic,
    counts_2x2,
    logistic_lr_test,
    odds_ratio,
    risk_difference,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("a", "n1", "b", "n0"), [(30, 80, 45, 220), (7, 19, 2, 40), (90, 100, 50, 100)]
)
def test_risk_difference_wald_and_newcombe_match_statsmodels(
    a: int, n1: int, b: int, n0: int
) -> None:
    wald = risk_difference(a, n1, b, n0)
    assert wald.estimate == pytest.approx(a / n1 - b / n0)
    ref = confint_proportions_2indep(a, n1, b, n0, method="wald", compare="diff")
    assert wald.conf_int() == pytest.approx(ref, rel=1e-10)
    newcombe = risk_difference(a, n1, b, n0, ci="newcombe")
    ref = confint_proportions_2indep(a, n1, b, n0, method="newcomb", compare="diff")
    assert newcombe.conf_int() == pytest.approx(ref, rel=1e-10)
    table = np.array([[a, n1 - a], [b, n0 - b]])
    _, chi2_p, _, _ = chi2_contingency(table, correction=False)
    assert wald.p == pytest.approx(chi2_p, rel=1e-9)


@pytest.mark.parametrize(("a", "n1", "b", "n0"), [(30, 80, 45, 220), (7, 19, 2, 40)])
def test_odds_ratio_matches_statsmodels_table2x2(a: int, n1: int, b: int, n0: int) -> None:
    result = odds_ratio(a, n1, b, n0, alpha=0.1)
    table = Table2x2(np.array([[a, n1 - a], [b, n0 - b]]))
    assert result.estimate == pytest.approx(table.oddsratio, rel=1e-12)
    assert result.conf_int() == pytest.approx(table.oddsratio_confint(alpha=0.1), rel=1e-10)
    assert result.p == pytest.approx(table.oddsratio_pvalue(), rel=1e-10)
    assert result.se_log_or == pytest.approx(table.log_oddsratio_se, rel=1e-12)
    assert not result.corrected
    assert result.note == ""


def test_zero_cell_gets_haldane_correction_and_says_so() -> None:
    result = odds_ratio(0, 25, 6, 40)
    # Haldane-Anscombe adds 0.5 to EVERY cell (statsmodels' shift_zeros only shifts the zero
    # cells, so the reference is Table2x2 of the explicitly shifted table).
    table = Table2x2(np.array([[0, 25], [6, 34]]) + 0.5)
    assert result.corrected
    assert "Haldane" in result.note
    assert result.estimate == pytest.approx(table.oddsratio)
    assert result.estimate == pytest.approx((0.5 * 34.5) / (25.5 * 6.5))
    assert result.conf_int() == pytest.approx(table.oddsratio_confint())


def test_counts_from_vectors_ignore_missing_rows() -> None:
    outcome = np.array([1, 0, 1, 1, np.nan, 0, 1])
    exposure = np.array([1, 1, 0, 1, 1, 0, np.nan])
    assert counts_2x2(outcome, exposure) == (2, 3, 1, 2)


def test_bad_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="a/n1"):
        risk_difference(12, 10, 3, 10)


def _logistic_data(seed: int, n: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    covariates = np.column_stack([rng.normal(50, 12, n), rng.integers(0, 2, n)])
    exposure = (rng.random(n) < 0.35).astype(float)
    eta = -2 + 0.8 * exposure + 0.03 * (covariates[:, 0] - 50) + 0.5 * covariates[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return y, exposure, covariates


def test_adjusted_logistic_matches_statsmodels_glm_binomial() -> None:
    y, exposure, covariates = _logistic_data(1)
    y[:7] = np.nan
    result = adjusted_logistic(y, exposure, covariates, names=["age", "sex"])
    keep = ~np.isnan(y)
    design = np.column_stack([np.ones(keep.sum()), exposure[keep], covariates[keep]])
    glm = sm.GLM(y[keep], design, family=sm.families.Binomial()).fit()
    assert result.status == "ok"
    assert result.n == 593
    assert result.log_or == pytest.approx(glm.params[1], rel=1e-8)
    assert result.se_log_or == pytest.approx(glm.bse[1], rel=1e-6)
    assert result.conf_int() == pytest.approx(tuple(np.exp(glm.conf_int()[1])), rel=1e-6)
    assert result.p == pytest.approx(glm.pvalues[1], rel=1e-6)
    assert result.names == ("const", "exposure", "age", "sex")
    assert result.coefficients == pytest.approx(glm.params, rel=1e-7)


def test_complete_separation_is_reported_not_fitted() -> None:
    y, exposure, covariates = _logistic_data(2)
    y = exposure.copy()  # the exposure predicts the outcome perfectly
    result = adjusted_logistic(y, exposure, covariates)
    assert result.status == "separation"
    assert np.isnan(result.estimate)
    assert "exposure" in result.note


def test_quasi_complete_separation_from_an_empty_cell_is_reported() -> None:
    y, exposure, covariates = _logistic_data(3)
    y[exposure == 1] = 0.0  # no event among the exposed: quasi-complete separation
    result = adjusted_logistic(y, exposure, covariates)
    assert result.status == "separation"
    assert np.isnan(result.log_or)


def test_separation_by_a_continuous_covariate_is_reported() -> None:
    y, exposure, covariates = _logistic_data(4)
    y = (covariates[:, 0] > 55).astype(float)
    assert adjusted_logistic(y, exposure, covariates).status == "separation"


def test_overlapping_data_are_not_flagged_as_separated() -> None:
    for seed in range(5):
        y, exposure, covariates = _logistic_data(10 + seed, n=150)
        assert adjusted_logistic(y, exposure, covariates).status == "ok"


def test_non_binary_outcome_is_an_error_naming_the_row() -> None:
    with pytest.raises(ValueError, match=r"y: row 1 has value 2\.0"):
        adjusted_logistic([0, 2, 1], [0, 1, 1])


def test_wilson_interval_matches_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for events, total in [(0, 20), (7, 19), (150, 400)]:
        assert wilson_interval(events, total, alpha=0.1) == pytest.approx(
            proportion_confint(events, total, alpha=0.1, method="wilson"), rel=1e-10, abs=1e-15
        )


def test_adjusted_logistic_matches_r_glm_on_apistrat(
    apistrat: pl.DataFrame, r_models: dict
) -> None:
    # R (tests/data/reference_models.R):
    #   glm(sch_wide ~ elementary + ell + meals, family = binomial); confint.default
    # R's IRLS stops at deviance tolerance 1e-8, so its SE differs from the converged
    # Newton-Raphson SE in the 7th digit.
    r = r_models["logistic"]
    y = apistrat["sch_wide"]
    exposure = (apistrat["stype"] == "E").cast(pl.Float64)
    result = adjusted_logistic(y, exposure, apistrat.select("ell", "meals"))
    assert result.log_or == pytest.approx(r["b"], rel=1e-9)
    assert result.se_log_or == pytest.approx(r["se"], rel=1e-5)
    assert result.p == pytest.approx(r["p"], rel=1e-4)
    assert result.estimate == pytest.approx(r["or"], rel=1e-9)
    assert result.conf_int() == pytest.approx(tuple(r["ci"]), rel=1e-5)
    assert result.names == ("const", "exposure", "ell", "meals")


def test_a_level_that_separates_only_itself_gives_what_r_glm_converges_to(
    apistrat: pl.DataFrame, r_models: dict
) -> None:
    # R: glm(sch_wide ~ elementary + ell + meals + rare), "rare" = 12 schools that all missed
    # the target; the rare coefficient runs off to about -33, the exposure's is finite.
    r = r_models["logistic_separated_level"]
    rare = np.zeros(apistrat.height)
    rare[r["rows_rare"]] = 1.0
    assert apistrat["sch_wide"].to_numpy()[rare == 1].max() == 0
    covariates = apistrat.select("ell", "meals").with_columns(pl.Series("rare", rare))
    exposure = (apistrat["stype"] == "E").cast(pl.Float64)
    result = adjusted_logistic(apistrat["sch_wide"], exposure, covariates)
    assert result.status == "ok" and "rare = 1: none of its 12 participants" in result.note
    assert result.log_or == pytest.approx(r["b"], rel=1e-8)
    assert result.se_log_or == pytest.approx(r["se"], rel=1e-6)
    assert result.p == pytest.approx(r["p"], rel=1e-5)


def test_logistic_lr_test_matches_r_anova_lrt(apistrat: pl.DataFrame, r_models: dict) -> None:
    # R: anova(glm(sch_wide ~ ell + meals), glm(sch_wide ~ ell + meals + api00 + mobility),
    #          test = "LRT")
    r = r_models["lr_test"]
    test = logistic_lr_test(
        apistrat["sch_wide"], apistrat.select("api00", "mobility"), apistrat.select("ell", "meals")
    )
    assert test.df == r["df"]
    assert test.statistic == pytest.approx(r["statistic"], rel=1e-7)
    assert test.p == pytest.approx(r["p"], rel=1e-6)


def test_a_covariate_level_without_events_separates_only_itself_and_is_left_out() -> None:
    # 22 participants of a rare category, none with the outcome (as "other" sex and
    # interstitial cystitis): the exposure odds ratio still exists.
    rng = np.random.default_rng(14)
    n = 900
    exposure = (rng.random(n) < 0.35).astype(float)
    age = rng.normal(50, 10, n)
    rare = np.zeros(n)
    rare[:22] = 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.2 + 0.4 * exposure + 0.02 * (age - 50))))).astype(
        float
    )
    y[:22] = 0.0
    result = adjusted_logistic(y, exposure, np.column_stack([age, rare]), names=["age", "rare=3"])
    assert result.status == "ok"
    assert "rare=3 = 1: none of its 22 participants" in result.note
    # The same as the fit without those participants and that indicator...
    fit = sm.Logit(y[22:], sm.add_constant(np.column_stack([exposure[22:], age[22:]]))).fit(
        disp=False
    )
    assert result.log_or == pytest.approx(fit.params[1], rel=1e-8)
    assert result.se_log_or == pytest.approx(fit.bse[1], rel=1e-8)
    assert result.n == n - 22
    # ...which is where the unconstrained fit heads as the indicator's coefficient diverges.
    pinned = sm.GLM(
        y,
        np.column_stack([np.ones(n), exposure, age]),
        family=sm.families.Binomial(),
        offset=-40.0 * rare,
    ).fit(tol=1e-12)
    assert result.log_or == pytest.approx(pinned.params[1], rel=1e-6)


def test_separation_by_the_exposure_itself_is_still_inestimable() -> None:
    y, exposure, covariates = _logistic_data(5)
    rare = np.zeros(y.size)
    rare[:25] = 1.0
    y[rare == 1] = 1.0
    y[exposure == 1] = 0.0
    result = adjusted_logistic(y, exposure, np.column_stack([covariates, rare]))
    assert result.status == "separation"
    assert np.isnan(result.estimate)


def test_logistic_lr_test_matches_statsmodels_llf_difference() -> None:
    y, exposure, covariates = _logistic_data(6)
    added = np.column_stack([exposure, covariates[:, 0] ** 2])
    added[[4, 9], 1] = np.nan
    test = logistic_lr_test(y, added, covariates)
    keep = ~np.isnan(added).any(axis=1)
    small = sm.Logit(y[keep], sm.add_constant(covariates[keep])).fit(disp=False)
    large = sm.Logit(
        y[keep], sm.add_constant(np.column_stack([covariates[keep], added[keep]]))
    ).fit(disp=False)
    statistic = 2 * (large.llf - small.llf)
    assert (test.n, test.df) == (y.size - 2, 2)
    assert test.statistic == pytest.approx(statistic, rel=1e-8)
    assert test.p == pytest.approx(chi2.sf(statistic, 2), rel=1e-8)
