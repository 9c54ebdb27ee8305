"""Randomly generated four-stage designs against R survey 4.1.1.

``tests/data/r_survey_random_designs.R`` draws four designs (strata at stages 1 and 3, fpc counts
at stages 1-3, sampling with replacement (fpc = Inf) at stage 4, lonely units at every stage,
missing outcomes) and records R's estimates under three ``survey.lonely.psu`` options, including
R's NaN for ``average`` when every stratum inside a unit is lonely.
"""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest

from fibrosurvey.stats import SurveyDesign
from tests.stats.r_survey_reference import DATA, number

REL = 1e-6
CASES = json.loads((DATA / "r_survey_random_designs.json").read_text())["cases"]


def _values(pair: list[object]) -> list[float]:
    return [number(v) for v in pair]


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("option", ["adjust", "average", "certainty"])
def test_four_stage_random_design_matches_r(k: int, option: str) -> None:
    case = CASES[k]
    data = pl.read_csv(DATA / case["file"], null_values="", infer_schema_length=None)
    ones = np.ones(data.height)
    design = SurveyDesign(
        data["w"],
        strata=[data["s1"], ones, data["s3"]],
        psu=[data["p1"], data["p2"], data["p3"], data["p4"]],
        fpc=[data["fpc1"], data["fpc2"], data["fpc3"], np.full(data.height, math.inf)],
        lonely_psu=option,
    )
    expected = case[option]
    assert design.df == expected["df"]
    mean = design.mean(data["y"])
    total = design.total(data["y"])
    ratio = design.ratio(data["y"], data["z"])
    for result, (estimate, se) in ((mean, expected["mean"]), (total, expected["total"]),
                                   (ratio, expected["ratio"])):  # fmt: skip
        assert result.estimate == pytest.approx(estimate, rel=REL)
        assert result.se == pytest.approx(number(se), rel=REL, nan_ok=True)
    interval = design.proportion(data["x"]).conf_int()
    assert interval == pytest.approx(_values(expected["ciprop_logit"]), rel=REL, nan_ok=True)
    quantiles = design.quantile(data["y"], [0.25, 0.5])
    assert quantiles.quantiles == pytest.approx(expected["quantile"], rel=REL)
    assert quantiles.se == pytest.approx(_values(expected["quantile_se"]), rel=REL, nan_ok=True)
