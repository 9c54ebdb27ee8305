"""Post-stratification, raking and linear calibration against R survey 4.1.1.

Reference values: ``tests/data/r_survey_design.R`` -> ``r_survey_design.json``; population
margins from R's ``apipop`` in ``tests/data/margins_*.yaml``. For each calibrated design the
weights and every estimator's SE (which must account for the calibration) are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from fibrosurvey.stats import SurveyDesign
from fibrosurvey.stats.calibration import Margin, calibrate_with_spec, poststratify, rake
from tests.stats.r_survey_reference import DATA, api, number, reference

REL = 1e-6


def _base(name: str) -> tuple[SurveyDesign, pl.DataFrame]:
    if name == "dclus1":
        data = api("api_clus1.csv")
        return SurveyDesign(data["pw"], psu=data["dnum"], fpc=data["fpc"], lonely_psu="fail"), data
    if name == "dclus2":
        data = api("api_clus2.csv")
        design = SurveyDesign(
            None, psu=[data["dnum"], data["snum"]], fpc=[data["fpc1"], data["fpc2"]],
            lonely_psu="fail",
        )  # fmt: skip
        return design, data
    data = api("api_strat.csv")
    return SurveyDesign(data["pw"], strata=data["stype"], fpc=data["fpc"], lonely_psu="fail"), data


CASES = {
    "dclus1_poststratify_stype": ("dclus1", "poststratify", "margins_stype.yaml"),
    "dclus1_poststratify_cross": ("dclus1", "poststratify", "margins_stype_x_schwide.yaml"),
    "dclus1_rake_stype_schwide": ("dclus1", "rake", "margins_stype_schwide.yaml"),
    "dclus1_rake_crossed_compimp": ("dclus1", "rake", "margins_crossed_and_compimp.yaml"),
    "dclus1_linear_stype_api99": ("dclus1", "linear", "margins_stype_api99.yaml"),
    "dclus2_poststratify_stype": ("dclus2", "poststratify", "margins_stype.yaml"),
    "dclus2_rake_stype_schwide": ("dclus2", "rake", "margins_stype_schwide.yaml"),
    "dclus2_linear_stype_api99": ("dclus2", "linear", "margins_stype_api99.yaml"),
    "dstrat_rake_stype_schwide": ("dstrat", "rake", "margins_stype_schwide.yaml"),
}


def calibrated(case: str) -> tuple[SurveyDesign, pl.DataFrame]:
    base, method, margins = CASES[case]
    design, data = _base(base)
    spec = yaml.safe_load((DATA / margins).read_text())
    return calibrate_with_spec(design, data, spec, method), data


ESTIMATORS: dict[str, Callable[[SurveyDesign, pl.DataFrame], object]] = {
    "mean_api00": lambda d, x: d.mean(x["api00"]),
    "total_enroll": lambda d, x: d.total(x["enroll"]),
    "mean_sch_wide": lambda d, x: d.proportion(x["sch_wide"]),
    "ratio_stu_enroll": lambda d, x: d.ratio(x["api.stu"], x["enroll"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_calibrated_weights_equal_r(case: str) -> None:
    design, _ = calibrated(case)
    assert design.calibrated
    assert design.weights == pytest.approx(reference()[case]["weights"], rel=REL)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("key", sorted(ESTIMATORS))
def test_estimates_and_ses_on_calibrated_designs_equal_r(case: str, key: str) -> None:
    expected = reference()[case][key]
    if expected is None:
        pytest.skip("R cannot compute this estimator on this design (recorded as null)")
    design, data = calibrated(case)
    result = ESTIMATORS[key](design, data)
    assert result.estimate == pytest.approx(expected["estimate"], rel=REL)  # type: ignore[attr-defined]
    assert result.se == pytest.approx(expected["se"], rel=REL)  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", sorted(CASES))
def test_domain_means_glm_quantiles_and_logit_intervals_on_calibrated_designs_equal_r(
    case: str,
) -> None:
    expected = reference()[case]
    design, data = calibrated(case)
    by = design.mean_by(data["api00"], data["sch.wide"])
    assert list(by) == expected["by_schwide"]["levels"]
    assert [v.estimate for v in by.values()] == pytest.approx(
        expected["by_schwide"]["estimate"], rel=REL
    )
    assert [v.se for v in by.values()] == pytest.approx(expected["by_schwide"]["se"], rel=REL)
    fit = design.glm(data["api00"], data.select("ell", "meals", "mobility"))
    assert fit.params == pytest.approx(expected["glm_api00"]["estimate"], rel=REL)
    assert fit.se == pytest.approx(expected["glm_api00"]["se"], rel=REL)
    quantiles = design.quantile(data["api00"], expected["quantile_api00"]["probs"])
    assert quantiles.quantiles == pytest.approx(expected["quantile_api00"]["quantile"], rel=REL)
    assert quantiles.se == pytest.approx(
        [number(v) for v in expected["quantile_api00"]["se"]], rel=REL, nan_ok=True
    )
    enroll = design.quantile(data["enroll"], expected["quantile_enroll"]["probs"])
    assert enroll.quantiles == pytest.approx(expected["quantile_enroll"]["quantile"], rel=REL)
    assert enroll.se == pytest.approx(
        [number(v) for v in expected["quantile_enroll"]["se"]], rel=REL, nan_ok=True
    )
    interval = design.proportion(data["sch_wide"], ci="logit").conf_int()
    assert interval == pytest.approx(expected["ciprop_logit"]["ci"], rel=REL)


def test_calibration_shrinks_the_se_of_a_variable_related_to_the_margin() -> None:
    design, data = _base("dclus1")
    raked, _ = calibrated("dclus1_rake_stype_schwide")
    assert raked.mean(data["sch_wide"]).se < design.mean(data["sch_wide"]).se


def test_post_stratified_weights_reproduce_the_population_counts() -> None:
    design, data = calibrated("dclus1_poststratify_stype")
    totals = data.with_columns(w=pl.Series(design.weights)).group_by("stype").agg(pl.col("w").sum())
    assert dict(totals.sort("stype").iter_rows()) == pytest.approx({"E": 4421, "H": 755, "M": 1018})


def test_a_sample_level_absent_from_the_population_names_the_row_and_allowed_levels() -> None:
    design, data = _base("dclus1")
    margin = Margin("stype", tuple(data["stype"].to_list()), {"E": 4421.0, "H": 755.0})
    with pytest.raises(ValueError, match=r"row \d+ has 'M'.*allowed: E, H"):
        poststratify(design, margin)


def test_a_population_cell_without_sampled_rows_is_an_error_unless_partial() -> None:
    design, data = _base("dclus1")
    margin = Margin(
        "stype", tuple(data["stype"].to_list()), {"E": 4421.0, "H": 755.0, "M": 1018.0, "X": 5.0}
    )
    with pytest.raises(ValueError, match="no sampled row: X"):
        poststratify(design, margin)
    assert poststratify(design, margin, partial=True).weights.sum() == pytest.approx(6194)


def test_margins_with_different_population_sizes_are_rejected_naming_both() -> None:
    design, data = _base("dclus1")
    stype = Margin("stype", tuple(data["stype"].to_list()), {"E": 4421.0, "H": 755.0, "M": 1018.0})
    wide = Margin("sch.wide", tuple(data["sch.wide"].to_list()), {"No": 1.0, "Yes": 2.0})
    with pytest.raises(ValueError, match=r"stype sums to 6194 but sch\.wide to 3"):
        rake(design, [stype, wide])


def test_unquoted_yes_no_levels_in_yaml_get_a_clear_error(tmp_path: Path) -> None:
    design, data = _base("dclus1")
    spec = yaml.safe_load("margins:\n  - by: sch.wide\n    population: {No: 1072, Yes: 5122}\n")
    with pytest.raises(ValueError, match="quote it"):
        calibrate_with_spec(design, data, spec, "poststratify")


def test_linear_calibration_with_an_intercept_free_numeric_total_hits_the_total() -> None:
    design, data = _base("dclus1")
    total = 3914069.0
    spec = {"totals": {"api99": total}}
    result = calibrate_with_spec(design, data, spec, "linear")
    assert float(np.sum(result.weights * data["api99"].to_numpy())) == pytest.approx(total)
