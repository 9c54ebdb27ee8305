"""The plan's design block takes one column per stage (multi-stage designs, as R survey)."""

from __future__ import annotations

import polars as pl
import pytest

from fibrosurvey.analysis.design import design_estimates
from fibrosurvey.analysis.plan import DesignEstimate, default_plan_text, parse_plan
from tests.stats.r_survey_reference import api, reference

SINGLE = "design:\n  weights: design_weight\n  strata: design_stratum\n  psu: design_psu\n"


def test_plan_design_lists_give_the_two_stage_estimates_of_r() -> None:
    text = default_plan_text()
    assert SINGLE in text
    plan = parse_plan(
        text.replace(
            SINGLE + "  fpc: design_fpc\n",
            "design:\n  weights: pw\n  psu: [dnum, snum]\n  fpc: [fpc1, fpc2]\n",
        )
    )
    assert plan.design is not None and plan.design.psu == ["dnum", "snum"]
    plan = plan.model_copy(
        update={
            "descriptive": [
                DesignEstimate(kind="design_mean", variables=["api00"]),
                DesignEstimate(kind="design_proportion", variables=["sch_wide"]),
            ]
        }
    )
    frame = api("api_clus2.csv").with_columns(pl.lit("baseline").alias("event"))
    mean, proportion = (block["estimates"][0] for block in design_estimates(plan, frame))
    expected = reference()["dclus2"]
    assert mean["estimate"] == pytest.approx(expected["mean_api00"]["estimate"], rel=1e-9)
    assert mean["se"] == pytest.approx(expected["mean_api00"]["se"], rel=1e-6)
    # Proportions get R svyciprop's default logit interval.
    assert [proportion["ci_low"], proportion["ci_high"]] == pytest.approx(
        expected["ciprop_logit"]["ci"], rel=1e-6
    )
