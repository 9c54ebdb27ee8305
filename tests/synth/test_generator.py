"""Shape, determinism, answer ranges and missingness of the generated dataset."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from fibrosurvey.dataset import (
    ANALYTES,
    DESIGN_COLUMNS,
    ID_COLUMNS,
    PREANALYTICAL_COLUMNS,
    biomarker_columns,
)
from fibrosurvey.instruments import load_instruments
from fibrosurvey.synth import SynthResult, generate
from fibrosurvey.synth.generator import NOT_SIMULATED

FOLLOWUP_INSTRUMENTS = ("fiqr", "nrs", "peg", "tx", "pgic")


def _baseline(result: SynthResult) -> pl.DataFrame:
    return result.data.filter(pl.col("event") == "baseline")


def test_same_seed_gives_identical_data() -> None:
    first = generate("seed-claims", 1500, seed=5)
    second = generate("seed-claims", 1500, seed=5)
    assert first.data.equals(second.data, null_equal=True)
    assert first.truth == second.truth


def test_different_seed_gives_different_data() -> None:
    first = generate("seed-claims", 1500, seed=5).data
    second = generate("seed-claims", 1500, seed=6).data
    assert not first.equals(second, null_equal=True)
    # Not just a reshuffle: the FIQR distribution itself differs.
    assert first["fiqr_total"].drop_nulls().to_list() != second["fiqr_total"].drop_nulls().to_list()


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(ValueError, match="seed-claims, literature, null"):
        generate("optimistic", 10, seed=1)


def test_one_baseline_row_per_participant_and_a_followup_subset(seed_claims: SynthResult) -> None:
    data = seed_claims.data
    baseline = _baseline(seed_claims)
    assert baseline.height == 20_000
    assert baseline["participant_id"].n_unique() == 20_000
    followup = data.filter(pl.col("event") == "followup_3m")
    assert set(followup["participant_id"]) <= set(baseline["participant_id"])
    assert followup["participant_id"].n_unique() == followup.height
    assert 0.55 < followup.height / baseline.height < 0.65
    assert set(data["event"].unique()) == {"baseline", "followup_3m"}


def test_columns_follow_the_dataset_contract(seed_claims: SynthResult) -> None:
    columns = set(seed_claims.data.columns)
    assert set(ID_COLUMNS) | set(DESIGN_COLUMNS) <= columns
    assert set(biomarker_columns()) | set(PREANALYTICAL_COLUMNS) <= columns
    for instrument in load_instruments().values():
        simulated = set(instrument.item_columns()) - NOT_SIMULATED
        assert simulated <= columns, instrument.id
        assert set(instrument.score_columns()) <= columns, instrument.id


def test_every_item_is_in_its_allowed_range_or_null(seed_claims: SynthResult) -> None:
    data = seed_claims.data
    for instrument in load_instruments().values():
        for item in instrument.items:
            if item.column in NOT_SIMULATED:
                continue
            values = data[item.column].drop_nulls().cast(pl.Float64).to_numpy()
            assert values.size > 0, item.column
            if item.options:
                allowed = np.array([option.code for option in item.options], dtype=float)
                assert np.isin(values, allowed).all(), item.column
            else:
                assert item.minimum is not None and item.maximum is not None
                assert values.min() >= item.minimum and values.max() <= item.maximum, item.column
                if item.kind == "integer":
                    assert (values == np.round(values)).all(), item.column


def test_followup_rows_carry_only_followup_instruments(seed_claims: SynthResult) -> None:
    followup = seed_claims.data.filter(pl.col("event") == "followup_3m")
    instruments = load_instruments()
    answered = {c for i in FOLLOWUP_INSTRUMENTS for c in instruments[i].item_columns()}
    for instrument in instruments.values():
        for item in instrument.items:
            column = item.column
            if column in NOT_SIMULATED or item.gated:
                continue  # not simulated, or empty where skip logic hides it
            nulls = followup[column].null_count() / followup.height
            if column in answered:
                assert nulls < 0.05, column
            else:
                assert nulls == 1.0, column
    assert _baseline(seed_claims)["pgic_1"].null_count() == 20_000


def test_item_nonresponse_is_rare_null_and_more_common_when_severe(
    seed_claims: SynthResult,
) -> None:
    baseline = _baseline(seed_claims)
    items = [
        c
        for i in ("fsq", "fiqr", "phq9", "gad7", "jss", "peg", "nrs", "migraine", "ibs")
        for c in load_instruments()[i].item_columns()
        if c not in NOT_SIMULATED
    ]
    missing = baseline.select(pl.sum_horizontal(pl.col(items).is_null()).alias("m"))["m"]
    rate = missing.sum() / (baseline.height * len(items))
    assert 0.003 < rate < 0.03
    # MAR: participants with more pain skip more (nrs_pain is itself rarely missing).
    frame = baseline.with_columns(missing.alias("m")).drop_nulls("nrs_pain")
    high = frame.filter(pl.col("nrs_pain") >= 8)["m"].mean()
    low = frame.filter(pl.col("nrs_pain") <= 3)["m"].mean()
    assert high is not None and low is not None
    assert float(high) > 1.5 * float(low)  # type: ignore[arg-type]


def test_biomarkers_for_about_forty_percent_with_full_lab_metadata(
    seed_claims: SynthResult,
) -> None:
    baseline = _baseline(seed_claims)
    with_lab = baseline.filter(pl.col("aea").is_not_null())
    assert 0.35 < with_lab.height / baseline.height < 0.45
    for column in [*biomarker_columns(), *PREANALYTICAL_COLUMNS]:
        assert with_lab[column].null_count() == 0, column
        assert baseline.filter(pl.col("aea").is_null())[column].null_count() == (
            baseline.height - with_lab.height
        ), column
    assert set(with_lab["lab_matrix"].unique()) <= {"plasma", "serum", "whole_blood"}
    assert with_lab["lab_draw_time"].str.contains(r"^\d\d:\d\d$").all()
    assert set(with_lab["twoag_includes_1ag"].unique()) == {0, 1}
    assert (with_lab["lab_fasting"] == (with_lab["lab_hours_since_meal"] >= 8)).all()


def test_plasma_levels_have_the_literature_order_of_magnitude(seed_claims: SynthResult) -> None:
    with_lab = _baseline(seed_claims).filter(pl.col("aea").is_not_null())
    ranges = {"aea": (0.5, 2.0), "twoag": (5, 50), "pea": (10, 30), "oea": (5, 20), "sea": (5, 20)}
    for analyte, (low, high) in ranges.items():
        median = float(with_lab[analyte].median())  # type: ignore[arg-type]
        assert low <= median <= high, (analyte, median)


def test_below_lloq_values_are_stored_as_the_lloq_and_flagged(seed_claims: SynthResult) -> None:
    with_lab = _baseline(seed_claims).filter(pl.col("aea").is_not_null())
    flagged_total = 0
    for analyte in ANALYTES:
        flagged = with_lab.filter(pl.col(f"{analyte}_below_lloq") == 1)
        flagged_total += flagged.height
        assert (flagged[analyte] == flagged[f"{analyte}_lloq"]).all()
        unflagged = with_lab.filter(pl.col(f"{analyte}_below_lloq") == 0)
        assert (unflagged[analyte] >= unflagged[f"{analyte}_lloq"]).all()
    assert flagged_total > 0


def test_processing_delay_raises_aea_but_not_2ag(seed_claims: SynthResult) -> None:
    lab = _baseline(seed_claims).filter(pl.col("aea").is_not_null())
    slow = lab.filter(pl.col("lab_minutes_to_centrifuge") >= 60)
    fast = lab.filter(pl.col("lab_minutes_to_centrifuge") <= 20)
    ratio_aea = float(slow["aea"].median()) / float(fast["aea"].median())  # type: ignore[arg-type]
    ratio_2ag = float(slow["twoag"].median()) / float(fast["twoag"].median())  # type: ignore[arg-type]
    assert ratio_aea > 1.4
    assert 0.85 < ratio_2ag < 1.15


def test_design_psus_nest_in_strata_with_positive_weights(seed_claims: SynthResult) -> None:
    baseline = _baseline(seed_claims)
    per_psu = baseline.group_by("design_psu").agg(pl.col("design_stratum").n_unique())
    assert (per_psu["design_stratum"] == 1).all()
    assert (baseline["design_weight"] > 0).all()
    assert baseline["design_weight"].n_unique() > 9  # unequal weights within strata too
    assert (baseline["design_stratum"] == baseline["demo_region"]).all()
    assert set(baseline["design_stratum"].unique()) == set(range(1, 10))
    strata = baseline.group_by("design_stratum").agg(
        pl.col("design_fpc").n_unique().alias("fpc_values"),
        pl.col("design_fpc").first().alias("fpc"),
        pl.col("design_psu").n_unique().alias("psus"),
    )
    assert (strata["fpc_values"] == 1).all()
    assert (strata["psus"] >= 2).all() and (strata["psus"] <= strata["fpc"]).all()
    site_per_psu = baseline.group_by("design_psu").agg(pl.col("site").n_unique())
    assert (site_per_psu["site"] == 1).all()


def test_design_weights_sum_to_the_stratum_population(seed_claims: SynthResult) -> None:
    from fibrosurvey.synth.design import REGION_SHARES, TARGET_POPULATION

    totals = (
        _baseline(seed_claims)
        .group_by("design_stratum")
        .agg(pl.col("design_weight").sum())
        .sort("design_stratum")["design_weight"]
        .to_numpy()
    )
    expected = REGION_SHARES / REGION_SHARES.sum() * TARGET_POPULATION
    np.testing.assert_allclose(totals, expected, rtol=1e-9)


def test_generated_table_passes_the_project_validator(seed_claims: SynthResult) -> None:
    from fibrosurvey.validation import validate_frame

    report = validate_frame(seed_claims.data.head(4000))
    assert report.ok, report.problems[:5]


@pytest.mark.parametrize("n", [1, 2, 17])
def test_tiny_cohorts_still_generate_a_valid_design(n: int) -> None:
    baseline = _baseline(generate("null", n, seed=3))
    assert baseline.height == n
    assert (baseline["design_weight"] > 0).all()
    assert baseline["design_psu"].null_count() == 0


@pytest.mark.parametrize("country", ["ES", "MX"])
def test_a_cohort_in_another_country_is_stratified_by_its_regions(country: str) -> None:
    from fibrosurvey.countries import get_country
    from fibrosurvey.synth.design import region_shares, target_population
    from fibrosurvey.validation import validate_frame

    result = generate("seed-claims", 2500, 11, score=False, country=country)
    baseline = result.data.filter(pl.col("event") == "baseline")
    codes = get_country(country).region_codes
    assert sorted(baseline["design_stratum"].unique().to_list()) == list(codes)
    assert (
        baseline.filter(pl.col("demo_region").is_not_null())
        .select((pl.col("demo_region") == pl.col("design_stratum")).all())
        .item()
    )
    totals = baseline.group_by("design_stratum").agg(pl.col("design_weight").sum())
    totals = totals.sort("design_stratum")["design_weight"].to_numpy()
    shares = region_shares(country)
    np.testing.assert_allclose(totals, shares / shares.sum() * target_population(country))
    assert validate_frame(result.data).ok
