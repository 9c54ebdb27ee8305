"""Multi-stage designs, proportion intervals, quantiles and ratios against R survey 4.1.1.

Reference values: ``tests/data/r_survey_design.R`` -> ``r_survey_design.json`` (the tests never
run R). Designs:

    dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
    d3 <- svydesign(id = ~cnum + dnum + snum, strata = ~stype, fpc = ~fpc1 + fpc2 + fpc3,
                    weights = ~pw, data = three, nest = TRUE)   # drawn from apipop
    dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
    dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibrosurvey.stats import SurveyDesign
from tests.stats.r_survey_reference import api, number, reference

REL = 1e-6


def dclus2(lonely_psu: str = "fail") -> tuple[SurveyDesign, pl.DataFrame]:
    data = api("api_clus2.csv")
    design = SurveyDesign(
        None, psu=[data["dnum"], data["snum"]], fpc=[data["fpc1"], data["fpc2"]],
        lonely_psu=lonely_psu,
    )  # fmt: skip
    return design, data


def three_stage(data: pl.DataFrame | None = None, lonely_psu: str = "fail") -> SurveyDesign:
    data = api("api_3stage.csv") if data is None else data
    return SurveyDesign(
        data["pw"], strata=data["stype"], psu=[data["cnum"], data["dnum"], data["snum"]],
        fpc=[data["fpc1"], data["fpc2"], data["fpc3"]], lonely_psu=lonely_psu,
    )  # fmt: skip


def dclus1() -> tuple[SurveyDesign, pl.DataFrame]:
    data = api("api_clus1.csv")
    return SurveyDesign(data["pw"], psu=data["dnum"], fpc=data["fpc"], lonely_psu="fail"), data


def dstrat() -> tuple[SurveyDesign, pl.DataFrame]:
    data = api("api_strat.csv")
    design = SurveyDesign(data["pw"], strata=data["stype"], fpc=data["fpc"], lonely_psu="fail")
    return design, data


DESIGNS: dict[str, Callable[[], tuple[SurveyDesign, pl.DataFrame]]] = {
    "dclus2": dclus2,
    "three_stage": lambda: (three_stage(), api("api_3stage.csv")),
    "dclus1": dclus1,
    "dstrat": dstrat,
}


def test_two_stage_mean_reproduces_the_published_svymean() -> None:
    # Published (?svydesign, Lumley 2010): svymean(~api00, dclus2) = 670.81, SE 30.099.
    design, data = dclus2()
    result = design.mean(data["api00"])
    assert round(result.estimate, 2) == 670.81
    assert round(result.se, 3) == 30.099
    assert design.df == 39


def test_weights_default_to_the_fpc_product_as_r() -> None:
    design, _ = dclus2()
    assert design.weights == pytest.approx(reference()["dclus2"]["weights_from_fpc"], rel=1e-12)


def test_ignoring_the_second_stage_understates_the_two_stage_se() -> None:
    design, data = dclus2()
    one_stage = SurveyDesign(data["pw"], psu=data["dnum"], fpc=data["fpc1"])
    assert one_stage.mean(data["api00"]).se < design.mean(data["api00"]).se


@pytest.mark.parametrize("name", sorted(DESIGNS))
@pytest.mark.parametrize(
    ("key", "call"),
    [
        ("mean_api00", lambda d, x: d.mean(x["api00"])),
        ("total_enroll", lambda d, x: d.total(x["enroll"])),
        ("mean_sch_wide", lambda d, x: d.proportion(x["sch_wide"])),
        ("ratio_stu_enroll", lambda d, x: d.ratio(x["api.stu"], x["enroll"])),
    ],
)
def test_means_totals_proportions_and_ratios_match_r(
    name: str, key: str, call: Callable[[SurveyDesign, pl.DataFrame], object]
) -> None:
    design, data = DESIGNS[name]()
    expected = reference()[name][key]
    result = call(design, data)
    assert result.estimate == pytest.approx(expected["estimate"], rel=REL)  # type: ignore[attr-defined]
    assert result.se == pytest.approx(expected["se"], rel=REL)  # type: ignore[attr-defined]
    if "ci" in expected:  # svyratio: normal interval
        assert result.conf_int() == pytest.approx(expected["ci"], rel=REL)  # type: ignore[attr-defined]
    assert design.df == reference()[name]["df"]


@pytest.mark.parametrize("name", sorted(DESIGNS))
@pytest.mark.parametrize("method", ["logit", "xlogit", "mean", "beta", "asin"])
def test_proportion_intervals_match_r_svyciprop(name: str, method: str) -> None:
    design, data = DESIGNS[name]()
    expected = reference()[name][f"ciprop_{method}"]
    result = design.proportion(data["sch_wide"], ci=method)
    assert result.estimate == pytest.approx(expected["estimate"], rel=REL)
    assert result.conf_int() == pytest.approx([number(v) for v in expected["ci"]], rel=REL)


@pytest.mark.parametrize("name", sorted(DESIGNS))
@pytest.mark.parametrize(
    ("key", "column"), [("quantile_api00", "api00"), ("quantile_enroll", "enroll")]
)
def test_quantiles_and_woodruff_intervals_match_r_svyquantile(
    name: str, key: str, column: str
) -> None:
    design, data = DESIGNS[name]()
    expected = reference()[name][key]
    result = design.quantile(data[column], expected["probs"])
    assert result.quantiles == pytest.approx(expected["quantile"], rel=REL)
    for field in ("ci_low", "ci_high", "se"):
        assert getattr(result, field) == pytest.approx(
            [number(v) for v in expected[field]], rel=REL, nan_ok=True
        ), field


def test_quantile_of_a_variable_with_missing_values_uses_the_subset_df() -> None:
    design, data = dstrat()
    expected = reference()["dstrat"]["quantile_acs_k3"]
    result = design.quantile(data["acs.k3"], expected["probs"])
    assert result.df == expected["df"]
    assert result.quantiles == pytest.approx(expected["quantile"], rel=REL)
    assert result.se == pytest.approx(expected["se"], rel=REL)
    assert result.at(0.5).conf_int() == pytest.approx(
        (expected["ci_low"][1], expected["ci_high"][1]), rel=REL
    )


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_svyglm_and_domain_means_match_r_on_multistage_designs(name: str) -> None:
    design, data = DESIGNS[name]()
    expected = reference()[name]
    fit = design.glm(data["api00"], data.select("ell", "meals", "mobility"))
    assert fit.params == pytest.approx(expected["glm_api00"]["estimate"], rel=REL)
    assert fit.se == pytest.approx(expected["glm_api00"]["se"], rel=REL)
    by = design.mean_by(data["api00"], data["stype"])
    assert list(by) == expected["by_stype"]["levels"]
    assert [by[k].se for k in by] == pytest.approx(expected["by_stype"]["se"], rel=REL)


def test_fpc_as_sampling_fractions_at_both_stages_matches_r() -> None:
    data = api("api_clus2.csv")
    n2 = data.group_by("dnum").len()
    data = data.join(n2, on="dnum").with_columns(
        (40 / pl.col("fpc1")).alias("f1"), (pl.col("len") / pl.col("fpc2")).alias("f2")
    )
    design = SurveyDesign(
        data["pw"], psu=[data["dnum"], data["snum"]], fpc=[data["f1"], data["f2"]]
    )
    expected = reference()["dclus2_fraction"]["mean_api00"]
    result = design.mean(data["api00"])
    assert result.se == pytest.approx(expected["se"], rel=REL)


def test_strata_at_the_second_stage_match_r() -> None:
    data = api("api_clus2.csv")
    design = SurveyDesign(
        data["pw"], strata=[np.ones(data.height), data["yr.rnd"]],
        psu=[data["dnum"], data["snum"]], fpc=[data["fpc1"], data["fpc2"]], lonely_psu="adjust",
    )  # fmt: skip
    expected = reference()["dclus2_stage2_strata_adjust"]
    assert design.mean(data["api00"]).se == pytest.approx(expected["mean_api00"]["se"], rel=REL)
    assert design.total(data["enroll"]).se == pytest.approx(expected["total_enroll"]["se"], rel=REL)


def _lonely_sample() -> pl.DataFrame:
    info = reference()["three_stage_lonely"]
    data = api("api_3stage.csv")
    return data.filter(
        ~(
            (pl.col("stype") == "E")
            & (pl.col("cnum") == info["county"])
            & (pl.col("dnum") == info["dropped_district"])
        )
    )


@pytest.mark.parametrize("option", ["adjust", "average", "certainty", "remove"])
def test_lonely_units_at_a_later_stage_follow_r_options(option: str) -> None:
    data = _lonely_sample()
    expected = reference()["three_stage_lonely"][option]
    design = three_stage(data, lonely_psu=option)
    mean, total = design.mean(data["api00"]), design.total(data["enroll"])
    assert mean.estimate == pytest.approx(expected["mean_api00"]["estimate"], rel=REL)
    assert mean.se == pytest.approx(number(expected["mean_api00"]["se"]), rel=REL, nan_ok=True)
    assert total.se == pytest.approx(number(expected["total_enroll"]["se"]), rel=REL, nan_ok=True)


def test_a_lonely_unit_at_a_later_stage_fails_by_r_default_naming_the_stage() -> None:
    with pytest.raises(ValueError, match="single sampled unit at stage 2"):
        three_stage(_lonely_sample(), lonely_psu="fail")


def test_fewer_fpc_than_stages_means_complete_sampling_below() -> None:
    data = api("api_clus2.csv")
    n2 = data.group_by("dnum").len().rename({"len": "n2"})
    data = data.join(n2, on="dnum")
    short = SurveyDesign(data["pw"], psu=[data["dnum"], data["snum"]], fpc=[data["fpc1"]])
    complete = SurveyDesign(
        data["pw"], psu=[data["dnum"], data["snum"]], fpc=[data["fpc1"], data["n2"]]
    )
    one_stage = SurveyDesign(data["pw"], psu=data["dnum"], fpc=data["fpc1"])
    se = short.mean(data["api00"]).se
    assert se == pytest.approx(complete.mean(data["api00"]).se, rel=1e-12)
    assert se == pytest.approx(one_stage.mean(data["api00"]).se, rel=1e-12)


def test_population_smaller_than_the_sample_at_stage_two_names_the_row() -> None:
    data = api("api_clus2.csv")
    fpc2 = data["fpc2"].to_numpy().copy()
    fpc2[2:5] = 2  # district 83 has 3 sampled schools
    with pytest.raises(ValueError, match=r"fpc \(stage 2\): the stratum of row 2 has 3 sampled"):
        SurveyDesign(data["pw"], psu=[data["dnum"], data["snum"]], fpc=[data["fpc1"], fpc2])


def test_more_fpc_stages_than_psu_stages_is_an_error() -> None:
    with pytest.raises(ValueError, match="fpc: 2 stages given but psu has 1"):
        SurveyDesign(np.ones(4), psu=[np.array([1, 1, 2, 2])], fpc=[np.full(4, 9), np.full(4, 9)])


def test_stage_variance_has_no_python_loop_over_rows_fast_enough_for_100k_rows() -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    psu = rng.integers(0, 500, n)
    ssu = rng.integers(0, 20, n)
    strata = psu % 10
    design = SurveyDesign(
        rng.uniform(1, 3, n), strata=strata, psu=[psu, ssu],
        fpc=[np.full(n, 1000.0), np.full(n, 50.0)], lonely_psu="adjust",
    )  # fmt: skip
    import time

    started = time.perf_counter()
    result = design.mean(rng.normal(size=n))
    assert time.perf_counter() - started < 5.0
    assert math.isfinite(result.se)


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(60))), st.sampled_from(["adjust", "average", "certainty"]))
def test_reordering_rows_of_a_calibrated_three_stage_design_changes_nothing(
    order: list[int], option: str
) -> None:
    from fibrosurvey.stats.calibration import Margin

    rng = np.random.default_rng(11)
    strata = np.repeat([0, 1], 30)
    psu = np.tile(np.repeat([1, 2, 3], 10), 2)
    ssu = np.tile(np.repeat([1, 2], 5), 6)
    tsu = np.arange(60) % 5
    fpc = [np.full(60, 9.0), np.full(60, 4.0), np.full(60, 12.0)]
    w, y = rng.uniform(1, 4, 60), rng.normal(size=60)
    group = np.where(rng.uniform(size=60) < 0.4, "a", "b")

    def fit(idx: np.ndarray) -> tuple[float, float, float]:
        design = SurveyDesign(
            w[idx], strata=strata[idx], psu=[psu[idx], ssu[idx], tsu[idx]],
            fpc=[f[idx] for f in fpc], lonely_psu=option,
        )  # fmt: skip
        margin = Margin("g", tuple(group[idx].tolist()), {"a": 100.0, "b": 150.0})
        raked = design.rake([margin])
        mean = raked.mean(y[idx])
        return mean.estimate, mean.se, raked.quantile(y[idx], 0.5).se[0]

    base = fit(np.arange(60))
    moved = fit(np.array(order))
    assert moved == pytest.approx(base, rel=1e-10, nan_ok=True)
