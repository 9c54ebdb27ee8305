"""The C3 cannabinoid group: any CBD product (isolate, broad- or full-spectrum) or THC up to
5 mg/day, as a clinician counts cannabinoid use; the synthetic cohort uses the same rule."""

from __future__ import annotations

import numpy as np
import polars as pl

from fibrosurvey.analysis import load_plan
from fibrosurvey.analysis.derive import rule_expr
from fibrosurvey.analysis.methods_text import methods_in_words
from fibrosurvey.analysis.plan import ConditionDerive
from fibrosurvey.synth import simulate


def _rule() -> ConditionDerive:
    derivation = next(d for d in load_plan().derive if d.name == "ls_cannabinoid")
    assert isinstance(derivation, ConditionDerive)
    return derivation


def test_isolate_and_full_spectrum_cbd_users_are_in_the_cannabinoid_group() -> None:
    people = pl.DataFrame(
        {
            # no CBD, isolate, broad-spectrum, full-spectrum, isolate 0 days, THC only 5, 10 mg
            "tx_cbd_product": [0, 1, 2, 3, 1, 0, 0],
            "tx_cbd_days_week": [0, 3, 3, 3, 0, 0, 0],
            "tx_thc_mg_day": [0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 10.0],
        }
    )
    group = people.select(rule_expr(_rule().rule).cast(pl.Int8)).to_series().to_list()
    assert group == [0, 1, 1, 1, 0, 1, 0]


def test_the_synthetic_cohort_plants_its_effect_on_the_same_group() -> None:
    sim = simulate("seed-claims", 3000, 5)
    tx = pl.DataFrame({k: v for k, v in sim.baseline.items() if k.startswith("tx_")})
    from_plan = tx.select(rule_expr(_rule().rule).fill_null(False)).to_series().to_numpy()
    np.testing.assert_array_equal(from_plan, sim.domains["cannabinoid"] == 1)
    isolate_or_full = np.isin(sim.baseline["tx_cbd_product"], [1, 3])
    assert (sim.domains["cannabinoid"][isolate_or_full] == 1).all()


def test_the_report_methods_say_who_is_in_the_group() -> None:
    methods = " ".join(methods_in_words(load_plan(), 0))
    assert "any CBD product (isolate, broad- or full-spectrum), or THC up to 5 mg/day" in methods
    assert "tx_cbd_product is one of {1, 2, 3}" in methods
