"""SurveyDesign against R survey 4.1-1 on its own API samples.

Every R number is read from ``tests/data/reference_values.json`` through the ``r_values`` fixture
(``tests/stats/conftest.py``); ``tests/data/reference_values.R`` writes it (R 4.2.2, survey 4.1-1,
Debian r-cran-survey). Written here are only the rounded values published in ?svymean and, next to
their JSON check, the residual df of the two Gaussian fits. Designs:

    dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
    dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from fibrosurvey.stats import SurveyDesign


@pytest.fixture(scope="module")
def dstrat(apistrat: pl.DataFrame) -> SurveyDesign:
    return SurveyDesign(apistrat["pw"], strata=apistrat["stype"], fpc=apistrat["fpc"])


@pytest.fixture(scope="module")
def dclus1(apiclus1: pl.DataFrame) -> SurveyDesign:
    return SurveyDesign(apiclus1["pw"], psu=apiclus1["dnum"], fpc=apiclus1["fpc"])


def test_stratified_mean_reproduces_the_published_svymean(
    dstrat: SurveyDesign, apistrat: pl.DataFrame, r_values: dict[str, Any]
) -> None:
    # Published in ?svymean and Lumley (2010): svymean(~api00, dstrat) = 662.29, SE 9.4089.
    result = dstrat.mean(apistrat["api00"])
    assert round(result.estimate, 2) == 662.29
    assert round(result.se, 4) == 9.4089
    # Full precision from reference_values.R.
    r = r_values["dstrat"]["svymean_api00"]
    assert result.estimate == pytest.approx(r["estimate"], rel=1e-10)
    assert result.se == pytest.approx(r["se"], rel=1e-9)
    assert result.n == 200
    assert result.df == 197  # R degf(dstrat)


@pytest.mark.parametrize(
    ("design", "frame", "column", "kind", "key"),
    [
        # svytotal(~api00, dstrat)
        ("dstrat", "apistrat", "api00", "total", "svytotal_api00"),
        # svymean(~sch_wide, dstrat), sch_wide = as.numeric(sch.wide == "Yes")
        ("dstrat", "apistrat", "sch_wide", "proportion", "svymean_sch_wide"),
        # svymean(~acs.k3, dstrat, na.rm = TRUE): missing rows stay in the design (domain)
        ("dstrat", "apistrat", "acs.k3", "mean", "svymean_acs_k3_na_rm"),
        # svymean(~api00, dclus1)
        ("dclus1", "apiclus1", "api00", "mean", "svymean_api00"),
        # svytotal(~api00, dclus1)
        ("dclus1", "apiclus1", "api00", "total", "svytotal_api00"),
        # svymean(~sch_wide, dclus1)
        ("dclus1", "apiclus1", "sch_wide", "proportion", "svymean_sch_wide"),
        # svytotal(~enroll, dclus1) (published: 3404940, SE 932235)
        ("dclus1", "apiclus1", "enroll", "total", "svytotal_enroll"),
    ],
)
def test_means_totals_and_proportions_match_r_survey(
    request: pytest.FixtureRequest,
    r_values: dict[str, Any],
    design: str,
    frame: str,
    column: str,
    kind: str,
    key: str,
) -> None:
    survey: SurveyDesign = request.getfixturevalue(design)
    data: pl.DataFrame = request.getfixturevalue(frame)
    r_estimate, r_se = r_values[design][key]["estimate"], r_values[design][key]["se"]
    options = {"ci": "wald"} if kind == "proportion" else {}
    result = getattr(survey, kind)(data[column], **options)
    assert result.estimate == pytest.approx(r_estimate, rel=1e-9)
    assert result.se == pytest.approx(r_se, rel=1e-8)
    assert result.conf_int() == pytest.approx(
        (r_estimate - 1.959963984540054 * r_se, r_estimate + 1.959963984540054 * r_se), rel=1e-8
    )


@pytest.mark.parametrize(
    ("design", "frame"),
    [
        # svyby(~api00, ~stype, dstrat, svymean)
        ("dstrat", "apistrat"),
        # svyby(~api00, ~stype, dclus1, svymean)
        ("dclus1", "apiclus1"),
    ],
)
def test_domain_means_match_r_svyby(
    request: pytest.FixtureRequest, r_values: dict[str, Any], design: str, frame: str
) -> None:
    survey: SurveyDesign = request.getfixturevalue(design)
    data: pl.DataFrame = request.getfixturevalue(frame)
    expected: dict[str, dict[str, float]] = r_values[design]["svyby_api00_stype"]
    assert sorted(expected) == ["E", "H", "M"]
    by = survey.mean_by(data["api00"], data["stype"])
    assert sorted(by) == sorted(expected)
    for level, r in expected.items():
        assert by[level].estimate == pytest.approx(r["estimate"], rel=1e-9)
        assert by[level].se == pytest.approx(r["se"], rel=1e-8)
        assert by[level].group == level


def test_gaussian_svyglm_matches_r_on_the_stratified_design(
    dstrat: SurveyDesign, apistrat: pl.DataFrame, r_values: dict[str, Any]
) -> None:
    # summary(svyglm(api00 ~ ell + meals + mobility, design = dstrat))$coefficients
    r = r_values["dstrat"]["svyglm_api00_ell_meals_mobility"]
    fit = dstrat.glm(apistrat["api00"], apistrat.select("ell", "meals", "mobility"))
    assert fit.names == ("(Intercept)", "ell", "meals", "mobility")
    assert list(fit.names) == r["names"]
    assert fit.params == pytest.approx(r["estimate"], rel=1e-10)
    assert fit.se == pytest.approx(r["se"], rel=1e-9)
    assert fit.p == pytest.approx(r["p"], rel=1e-6)
    assert fit.df == 194  # R: g$df.residual
    assert fit.df == r["df_residual"]


def test_gaussian_svyglm_matches_r_on_the_cluster_design(
    dclus1: SurveyDesign, apiclus1: pl.DataFrame, r_values: dict[str, Any]
) -> None:
    # summary(svyglm(api00 ~ ell + meals + mobility, design = dclus1))$coefficients
    r = r_values["dclus1"]["svyglm_api00_ell_meals_mobility"]
    fit = dclus1.glm(apiclus1["api00"], apiclus1.select("ell", "meals", "mobility"))
    assert list(fit.names) == r["names"]
    assert fit.params == pytest.approx(r["estimate"], rel=1e-10)
    assert fit.se == pytest.approx(r["se"], rel=1e-9)
    assert fit.p == pytest.approx(r["p"], rel=1e-6)
    assert fit.df == 11
    assert fit.df == r["df_residual"]


def test_binomial_svyglm_matches_r_quasibinomial(
    dstrat: SurveyDesign, apistrat: pl.DataFrame, r_values: dict[str, Any]
) -> None:
    # svyglm(sch_wide ~ ell + mobility, design = dstrat, family = quasibinomial(),
    #        control = glm.control(epsilon = 1e-14, maxit = 100))
    # (R's default epsilon 1e-8 stops IRLS early: its SEs then differ by ~1e-5 relative; the
    #  JSON keeps that fit as svyglm_quasibinomial_sch_wide_default_epsilon.)
    r = r_values["dstrat"]["svyglm_quasibinomial_sch_wide"]
    r_coef, r_se, r_p = r["estimate"], r["se"], r["p"]
    assert r["names"] == ["(Intercept)", "ell", "mobility"]
    fit = dstrat.glm(apistrat["sch_wide"], apistrat.select("ell", "mobility"), family="binomial")
    assert fit.params == pytest.approx(r_coef, rel=1e-9)
    assert fit.se == pytest.approx(r_se, rel=1e-8)
    assert fit.p == pytest.approx(r_p, rel=1e-6)
    mobility = fit.coefficient("mobility")
    assert mobility.estimate == pytest.approx(r_coef[2], rel=1e-9)
    assert mobility.conf_int()[0] < mobility.estimate < mobility.conf_int()[1]


@pytest.mark.parametrize(
    "option",
    # options(survey.lonely.psu = ...); row 1 alone in stratum "X", no fpc
    ["adjust", "certainty", "remove", "average"],
)
def test_lonely_psu_options_match_r(
    apistrat: pl.DataFrame, r_values: dict[str, Any], option: str
) -> None:
    r_mean_se = r_values["lonely_psu"][option]["svymean_api00"]["se"]
    r_total_se = r_values["lonely_psu"][option]["svytotal_api00"]["se"]
    strata = apistrat["stype"].to_numpy().astype(object)
    strata[0] = "X"
    design = SurveyDesign(apistrat["pw"], strata=strata, lonely_psu=option)
    assert design.mean(apistrat["api00"]).se == pytest.approx(r_mean_se, rel=1e-9)
    assert design.total(apistrat["api00"]).se == pytest.approx(r_total_se, rel=1e-9)


def test_lonely_psu_fails_by_default_only_when_asked(apistrat: pl.DataFrame) -> None:
    strata = apistrat["stype"].to_numpy().astype(object)
    strata[0] = "X"
    with pytest.raises(ValueError, match="row 0 has a single PSU"):
        SurveyDesign(apistrat["pw"], strata=strata, lonely_psu="fail")


def test_fpc_as_sampling_fraction_equals_fpc_as_population_size(apistrat: pl.DataFrame) -> None:
    counts = apistrat.group_by("stype").len()
    frame = apistrat.join(counts, on="stype")
    fraction = frame["len"] / frame["fpc"]
    by_size = SurveyDesign(frame["pw"], strata=frame["stype"], fpc=frame["fpc"])
    by_fraction = SurveyDesign(frame["pw"], strata=frame["stype"], fpc=fraction)
    assert by_size.mean(frame["api00"]).se == pytest.approx(by_fraction.mean(frame["api00"]).se)


def test_simple_random_sample_mean_se_is_the_textbook_formula() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(10, 2, 50)
    result = SurveyDesign(np.ones(50)).mean(y)
    assert result.estimate == pytest.approx(y.mean())
    # with-replacement SRS: sd / sqrt(n) with the n-1 divisor
    assert result.se == pytest.approx(y.std(ddof=1) / np.sqrt(50))


def test_unweighted_glm_estimates_equal_statsmodels_with_hc0_times_n_over_n_minus_1() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(80, 2))
    y = 1 + x @ [0.5, -1.0] + rng.normal(size=80)
    fit = SurveyDesign(np.ones(80)).glm(y, x)
    reference = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC0")
    assert fit.params == pytest.approx(reference.params, rel=1e-10)
    assert np.array(fit.se) == pytest.approx(reference.bse * np.sqrt(80 / 79), rel=1e-10)


def test_bad_weights_and_labels_are_rejected_with_the_row() -> None:
    with pytest.raises(ValueError, match="weights: row 2"):
        SurveyDesign([1.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="fpc: row 1 differs"):
        SurveyDesign([1.0, 1.0, 1.0], strata=["a", "a", "b"], fpc=[10, 11, 5])
    with pytest.raises(ValueError, match=r"y: row 1 has value 2\.0"):
        SurveyDesign([1.0, 1.0, 1.0]).proportion([0.0, 2.0, 1.0])


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(40))))
def test_reordering_rows_does_not_change_estimates(order: list[int]) -> None:
    rng = np.random.default_rng(0)
    w = rng.uniform(1, 5, 40)
    strata = np.repeat(["a", "b"], 20)
    psu = np.tile(np.repeat([1, 2, 3, 4], 5), 2)
    y = rng.normal(size=40)
    base = SurveyDesign(w, strata=strata, psu=psu).mean(y)
    idx = np.array(order)
    moved = SurveyDesign(w[idx], strata=strata[idx], psu=psu[idx]).mean(y[idx])
    assert moved.estimate == pytest.approx(base.estimate, rel=1e-12)
    assert moved.se == pytest.approx(base.se, rel=1e-10)


def test_mean_by_orders_numeric_levels_by_value_and_skips_missing_groups() -> None:
    groups = np.array([2.0, 10.0, 2.0, np.nan, 10.0, 1.0, 1.0, 2.0])
    y = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 6.0, 7.0, 8.0])
    by = SurveyDesign(np.ones(8)).mean_by(y, groups)
    assert list(by) == ["1.0", "2.0", "10.0"]
    assert by["2.0"].estimate == pytest.approx(4.0)
    assert by["10.0"].n == 1
    labelled = SurveyDesign(np.ones(4)).mean_by([1.0, 2.0, 3.0, 4.0], ["b", None, "a", "b"])
    assert list(labelled) == ["a", "b"]
    assert labelled["b"].estimate == pytest.approx(2.5)


def test_missing_stratum_label_is_an_error_naming_the_row() -> None:
    with pytest.raises(ValueError, match="strata: row 1 is missing"):
        SurveyDesign(np.ones(3), strata=["a", None, "b"])


def test_separated_binomial_svyglm_is_an_error_not_a_fit() -> None:
    x = np.arange(20, dtype=float)
    with pytest.raises(ValueError, match="separation"):
        SurveyDesign(np.ones(20)).glm((x > 9).astype(float), x, family="binomial")


def test_from_frame_uses_the_contract_design_columns(
    apiclus1: pl.DataFrame, r_values: dict[str, Any]
) -> None:
    frame = apiclus1.select(
        pl.col("pw").alias("design_weight"),
        pl.col("dnum").alias("design_psu"),
        pl.col("fpc").alias("design_fpc"),
        pl.lit(None, dtype=pl.String).alias("design_stratum"),
        "api00",
    )
    design = SurveyDesign.from_frame(frame)
    # R: svymean(~api00, dclus1)
    r = r_values["dclus1"]["svymean_api00"]
    result = design.mean(frame["api00"])
    assert result.estimate == pytest.approx(r["estimate"], rel=1e-10)
    assert result.se == pytest.approx(r["se"], rel=1e-9)
    with pytest.raises(ValueError, match="weights column 'w'"):
        SurveyDesign.from_frame(frame, weights="w")


@pytest.mark.slow
def test_linearised_se_matches_the_sampling_sd_over_repeated_stratified_cluster_samples() -> None:
    # A finite population of 3 strata x 40 clusters x 25 units with cluster effects; each
    # replicate draws 8 clusters per stratum without replacement (fpc = 40 clusters).
    rng = np.random.default_rng(2024)
    n_strata, n_clusters, size, drawn = 3, 40, 25, 8
    cluster_effect = rng.normal(0, 3, (n_strata, n_clusters))
    y = (
        np.array([50.0, 55.0, 60.0])[:, None, None]
        + cluster_effect[:, :, None]
        + rng.normal(0, 5, (n_strata, n_clusters, size))
    )
    truth = y.mean()
    estimates, ses = [], []
    for _ in range(400):
        picks = np.stack([rng.choice(n_clusters, drawn, replace=False) for _ in range(n_strata)])
        sample = np.take_along_axis(y, picks[:, :, None], axis=1)  # strata x drawn x size
        strata = np.repeat(np.arange(n_strata), drawn * size)
        psu = np.repeat(np.arange(n_strata * drawn), size)
        design = SurveyDesign(
            np.full(strata.size, n_clusters / drawn), strata=strata, psu=psu,
            fpc=np.full(strata.size, n_clusters),
        )  # fmt: skip
        result = design.mean(sample.ravel())
        estimates.append(result.estimate)
        ses.append(result.se)
    estimates_arr, ses_arr = np.array(estimates), np.array(ses)
    assert np.sqrt(np.mean(ses_arr**2)) == pytest.approx(estimates_arr.std(ddof=1), rel=0.12)
    coverage = np.mean(np.abs(estimates_arr - truth) <= 1.959963984540054 * ses_arr)
    assert 0.90 <= coverage <= 0.98


@pytest.mark.parametrize(
    ("design", "frame"),
    [
        # svyciprop(~sch_wide, dstrat, method = "logit")
        ("dstrat", "apistrat"),
        # svyciprop(~sch_wide, dclus1, method = "logit")
        ("dclus1", "apiclus1"),
    ],
)
def test_logit_proportion_interval_matches_r_svyciprop(
    request: pytest.FixtureRequest, r_values: dict[str, Any], design: str, frame: str
) -> None:
    survey: SurveyDesign = request.getfixturevalue(design)
    data: pl.DataFrame = request.getfixturevalue(frame)
    r_ci = tuple(r_values[design]["svyciprop_logit_sch_wide"]["ci"])
    result = survey.proportion(data["sch_wide"], ci="logit")
    # R fits the intercept by IRLS (deviance tolerance 1e-8): agreement to ~1e-9.
    assert result.conf_int() == pytest.approx(r_ci, rel=1e-8)
    assert result.method == "svymean_proportion_logit"
