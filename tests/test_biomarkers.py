"""Unit conversion and lab-table validation, against hand-worked conversions."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fibrosurvey.biomarkers import (
    ANALYTE_NAMES,
    ANALYTES,
    LAB_DATE_COLUMNS,
    LAB_OPTIONAL_COLUMNS,
    LAB_REQUIRED_COLUMNS,
    UnitError,
    lab_guide_rows,
    lab_template_csv,
    to_pmol_per_ml,
    to_wide,
    validate_lab_frame,
)
from fibrosurvey.dataset import PREANALYTICAL_COLUMNS, biomarker_columns
from fibrosurvey.problems import Problem


def test_aea_one_ng_per_ml_is_1000_over_molecular_weight() -> None:
    # 1 ng/mL = 1e-9 g / 1e-3 L; / 347.5 g/mol = 2.8777e-9 mol/L = 2.8777 pmol/mL
    assert to_pmol_per_ml(1.0, "ng/mL", "aea") == pytest.approx(1000 / 347.5)
    assert to_pmol_per_ml(1.0, "ng/mL", "aea") == pytest.approx(2.8777, abs=1e-4)


def test_twoag_ten_ng_per_ml() -> None:
    # 10 * 1000 / 378.5 = 26.4201 pmol/mL
    assert to_pmol_per_ml(10.0, "ng/mL", "twoag") == pytest.approx(26.4201, abs=1e-4)


def test_ng_per_litre_and_pg_per_ml_are_a_thousandth_of_ng_per_ml() -> None:
    # PEA 500 ng/L = 0.5 ng/mL = 500 / 299.5 pmol/mL = 1.6694
    assert to_pmol_per_ml(500.0, "ng/L", "pea") == pytest.approx(1.6694, abs=1e-4)
    assert to_pmol_per_ml(500.0, "pg/mL", "pea") == pytest.approx(1.6694, abs=1e-4)


def test_nanomolar_and_nmol_per_litre_pass_through() -> None:
    values = np.array([0.5, 1.25, 40.0])
    for unit in ("nM", "nm", "nmol/L", "pmol/mL", " PMOL/ML "):
        np.testing.assert_allclose(to_pmol_per_ml(values, unit, "oea"), values)


def test_conversion_is_vectorised_over_arrays_series_and_expressions() -> None:
    values = np.array([1.0, 2.0, 3.0])
    expected = values * 1000 / 327.6
    np.testing.assert_allclose(to_pmol_per_ml(values, "ng/mL", "sea"), expected)
    series = to_pmol_per_ml(pl.Series(values), "ng/mL", "sea")
    np.testing.assert_allclose(series.to_numpy(), expected)
    frame = pl.DataFrame({"x": values}).select(to_pmol_per_ml(pl.col("x"), "ng/mL", "sea"))
    np.testing.assert_allclose(frame["x"].to_numpy(), expected)


def test_unknown_unit_names_the_unit_and_the_allowed_ones() -> None:
    with pytest.raises(UnitError, match=r"'mg/dL'.*ng/mL, ng/L.*pmol/mL, nM"):
        to_pmol_per_ml(1.0, "mg/dL", "aea")


def test_unknown_analyte_is_a_unit_error_listing_analytes() -> None:
    with pytest.raises(UnitError, match=r"'thc'.*AEA \(anandamide\), 2-AG"):
        to_pmol_per_ml(1.0, "ng/mL", "thc")


def test_analytes_are_the_dataset_contract() -> None:
    assert ANALYTES == {"aea": 347.5, "twoag": 378.5, "pea": 299.5, "oea": 325.5, "sea": 327.6}


def _lab(**overrides: list[object]) -> pl.DataFrame:
    """Two participants, all five analytes, valid; ``overrides`` replaces whole columns."""
    n = 10
    base: dict[str, list[object]] = {
        "participant_id": ["p1"] * 5 + ["p2"] * 5,
        "event": ["baseline"] * n,
        "analyte": ["aea", "twoag", "pea", "oea", "sea"] * 2,
        "value": ["1", "10", "3", "2", "2"] * 2,
        "unit": ["ng/mL"] * n,
        "lloq": ["0.01"] * n,
        "lab_matrix": ["plasma"] * n,
        "lab_assay": ["lcms-v1"] * n,
        "lab_batch": ["B1"] * n,
        "lab_minutes_to_centrifuge": ["15"] * 5 + ["45"] * 5,
        "lab_fasting": ["1"] * 5 + ["0"] * 5,
    }
    base.update(overrides)
    return pl.DataFrame(base, schema={k: pl.String for k in base})


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_table_is_ok_and_converted() -> None:
    result = validate_lab_frame(_lab())
    assert result.ok, result.summary()
    aea = result.clean.filter(pl.col("analyte") == "aea")["value"].to_list()
    assert aea == pytest.approx([1000 / 347.5] * 2)
    assert result.clean["lloq"].to_list()[1] == pytest.approx(0.01 * 1000 / 378.5)


def test_one_bad_row_among_good_ones_is_not_ok() -> None:
    values = ["1", "10", "3", "2", "2", "1", "10", "abc", "2", "2"]
    result = validate_lab_frame(_lab(value=values))
    assert not result.ok
    problem = _only(result.problems)
    assert (problem.row, problem.column, problem.value) == (8, "value", "abc")
    assert "number" in problem.allowed
    assert result.clean.height == 9  # the good rows, for preview; import needs .ok


def test_unknown_analyte_reported_with_the_analytes_names() -> None:
    analytes = ["aea", "twoag", "pea", "oea", "thc", "aea", "twoag", "pea", "oea", "sea"]
    problem = _only(validate_lab_frame(_lab(analyte=analytes)).problems)
    assert (problem.row, problem.column, problem.value) == (5, "analyte", "thc")
    assert problem.allowed == (
        "AEA (anandamide), 2-AG (2-arachidonoylglycerol), PEA (palmitoylethanolamide), "
        "OEA (oleoylethanolamide), SEA (stearoylethanolamide)"
    )


def test_unconvertible_unit_reported_with_allowed_units() -> None:
    units = ["ng/mL"] * 9 + ["mg/dL"]
    problem = _only(validate_lab_frame(_lab(unit=units)).problems)
    assert (problem.row, problem.column, problem.value) == (10, "unit", "mg/dL")
    assert "pmol/mL" in problem.allowed and "nM" in problem.allowed


def test_negative_value_reported() -> None:
    values = ["-0.5", "10", "3", "2", "2"] * 2
    problems = validate_lab_frame(_lab(value=values)).problems
    assert [(p.row, p.column, p.message) for p in problems] == [
        (1, "value", "negative concentration"),
        (6, "value", "negative concentration"),
    ]


def test_missing_required_field_and_missing_column() -> None:
    batches: list[object] = ["B1"] * 9 + [""]
    problem = _only(validate_lab_frame(_lab(lab_batch=batches)).problems)
    assert (problem.row, problem.column, problem.message) == (10, "lab_batch", "required")
    without = _lab().drop("lab_assay")
    problem = _only(validate_lab_frame(without).problems)
    assert (problem.row, problem.column) == (None, "lab_assay")


def test_duplicate_participant_event_analyte_reported_on_the_repeat() -> None:
    analytes = ["aea", "twoag", "pea", "oea", "sea", "aea", "twoag", "pea", "oea", "AEA"]
    problem = _only(validate_lab_frame(_lab(analyte=analytes)).problems)
    assert (problem.row, problem.column) == (10, "analyte")
    assert problem.message == "duplicate of row 6"


def test_conflicting_preanalytical_values_within_a_sample_reported() -> None:
    minutes = ["15", "15", "15", "15", "90"] + ["45"] * 5
    problems = validate_lab_frame(_lab(lab_minutes_to_centrifuge=minutes)).problems
    assert {p.row for p in problems} == {1, 2, 3, 4, 5}
    assert {p.column for p in problems} == {"lab_minutes_to_centrifuge"}


def test_out_of_range_preanalytical_and_matrix_reported() -> None:
    fasting = ["2"] * 5 + ["0"] * 5
    matrix = ["plasma"] * 9 + ["urine"]
    problems = validate_lab_frame(_lab(lab_fasting=fasting, lab_matrix=matrix)).problems
    by_column = {(p.row, p.column): p for p in problems}
    assert by_column[(1, "lab_fasting")].allowed == "1 or yes (sí), 0 or no"
    assert by_column[(10, "lab_matrix")].allowed == "plasma | serum | whole_blood"


def test_value_below_lloq_is_flagged_and_stored_as_the_lloq() -> None:
    # AEA 0.005 ng/mL with LLOQ 0.01 ng/mL -> value = LLOQ = 0.01 * 1000 / 347.5 pmol/mL
    values = ["0.005", "10", "<LLOQ", "2", "2", "1", "10", "3", "2", "2"]
    result = validate_lab_frame(_lab(value=values))
    assert result.ok, result.summary()
    p1 = result.clean.filter(pl.col("participant_id") == "p1")
    aea = p1.filter(pl.col("analyte") == "aea").row(0, named=True)
    assert aea["below_lloq"] == 1
    assert aea["value"] == pytest.approx(0.01 * 1000 / 347.5)
    pea = p1.filter(pl.col("analyte") == "pea").row(0, named=True)
    assert (pea["below_lloq"], pea["value"]) == (1, pytest.approx(0.01 * 1000 / 299.5))
    assert result.clean.filter(pl.col("participant_id") == "p2")["below_lloq"].sum() == 0


def test_below_lloq_flag_with_value_above_lloq_is_a_problem() -> None:
    flags: list[object] = ["1"] + [None] * 9
    problem = _only(validate_lab_frame(_lab(below_lloq=flags)).problems)
    assert (problem.row, problem.column) == (1, "below_lloq")


def test_includes_1ag_only_on_twoag_rows() -> None:
    flags: list[object] = [None, "1", None, None, None, "1", None, None, None, None]
    problem = _only(validate_lab_frame(_lab(includes_1ag=flags)).problems)
    assert (problem.row, problem.column) == (6, "includes_1ag")


def test_to_wide_gives_analysis_dataset_columns() -> None:
    flags: list[object] = [None, "1", None, None, None, None, "0", None, None, None]
    result = validate_lab_frame(_lab(includes_1ag=flags))
    assert result.ok, result.summary()
    wide = to_wide(result.clean)
    assert wide.columns == [
        "participant_id",
        "event",
        *biomarker_columns(),
        *PREANALYTICAL_COLUMNS,
        *LAB_DATE_COLUMNS,
    ]
    assert wide.height == 2
    p1, p2 = wide.sort("participant_id").iter_rows(named=True)
    assert p1["twoag"] == pytest.approx(10 * 1000 / 378.5)
    assert (p1["twoag_includes_1ag"], p2["twoag_includes_1ag"]) == (1, 0)
    assert (p1["lab_minutes_to_centrifuge"], p2["lab_minutes_to_centrifuge"]) == (15.0, 45.0)
    assert (p1["lab_fasting"], p2["lab_fasting"]) == (1, 0)
    assert p1["lab_tube"] is None  # optional column absent from the file


def test_unmeasured_analyte_is_null_in_wide() -> None:
    lab = _lab().filter(pl.col("analyte") != "sea")
    wide = to_wide(validate_lab_frame(lab).clean)
    assert wide["sea"].null_count() == 2
    assert wide["sea_below_lloq"].null_count() == 2


@given(
    value=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    analyte=st.sampled_from(sorted(ANALYTES)),
)
def test_one_ng_per_ml_equals_a_thousand_ng_per_litre(value: float, analyte: str) -> None:
    assert to_pmol_per_ml(value, "ng/mL", analyte) == pytest.approx(
        to_pmol_per_ml(value * 1000, "ng/L", analyte), rel=1e-12, abs=1e-12
    )


def test_validation_scales_to_a_large_table_without_row_loops() -> None:
    n = 200_000
    frame = pl.DataFrame(
        {
            "participant_id": [f"p{i // 5}" for i in range(n)],
            "event": ["baseline"] * n,
            "analyte": ["aea", "twoag", "pea", "oea", "sea"] * (n // 5),
            "value": ["1.5"] * n,
            "unit": ["ng/mL"] * n,
            "lloq": ["0.01"] * n,
            "lab_matrix": ["plasma"] * n,
            "lab_assay": ["a"] * n,
            "lab_batch": ["b"] * n,
        }
    )
    result = validate_lab_frame(frame)
    assert result.ok
    assert to_wide(result.clean).height == n // 5


@pytest.mark.parametrize(
    ("answers", "stored"),
    [
        (["yes", "Yes", "Y", "sí", "SI"], 1),
        (["no", "No", "N", "false", "0"], 0),
    ],
)
def test_fasting_accepts_yes_and_no_in_english_and_spanish(answers: list[str], stored: int) -> None:
    fasting = [answer for answer in answers for _ in range(2)]
    result = validate_lab_frame(_lab(lab_fasting=fasting))
    assert result.problems == []
    assert set(result.clean["lab_fasting"].to_list()) == {stored}


def test_fasting_that_is_neither_yes_nor_no_names_the_accepted_answers() -> None:
    fasting = ["maybe"] * 5 + ["1"] * 5
    problems = validate_lab_frame(_lab(lab_fasting=fasting)).problems
    assert {(p.row, p.column, p.allowed) for p in problems} == {
        (row, "lab_fasting", "1 or yes (sí), 0 or no") for row in range(1, 6)
    }


def test_problems_name_the_analyte_not_its_column_code() -> None:
    frame = _lab()
    twice = pl.concat([frame, frame.filter(pl.col("analyte") == frame["analyte"][1])])
    problems = validate_lab_frame(twice).problems
    duplicate = next(p for p in problems if p.message.startswith("duplicate"))
    assert duplicate.value in ANALYTE_NAMES.values()


def test_the_template_is_a_valid_lab_file_with_every_column() -> None:
    text = lab_template_csv()
    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    assert tuple(frame.columns) == LAB_REQUIRED_COLUMNS + LAB_OPTIONAL_COLUMNS
    result = validate_lab_frame(frame)
    assert result.problems == []
    assert result.clean["analyte"].to_list() == ["aea", "twoag"]
    assert result.clean["below_lloq"].to_list() == [0, 1]


def test_the_guide_explains_every_column_and_lists_analyte_spellings() -> None:
    guide = {row["column"]: row for row in lab_guide_rows()}
    assert set(guide) == set(LAB_REQUIRED_COLUMNS + LAB_OPTIONAL_COLUMNS)
    assert all(row["meaning"] for row in guide.values())
    assert "anandamide" in guide["analyte"]["accepted"]
    assert "2-ag" in guide["analyte"]["accepted"]
    assert guide["lab_matrix"]["required"] == "required"


def test_draw_date_and_time_in_iso_8601_keep_the_clock_time_and_the_date_apart() -> None:
    times: list[object] = ["2026-03-02T08:30"] * 5 + ["2026-03-03 17:05:30+01:00"] * 5
    result = validate_lab_frame(_lab(lab_draw_time=times))
    assert result.ok, result.summary()
    wide = to_wide(result.clean).sort("participant_id")
    assert wide["lab_draw_time"].to_list() == ["08:30", "17:05"]
    assert wide["lab_draw_date"].to_list() == [date(2026, 3, 2), date(2026, 3, 3)]
    assert wide.schema["lab_draw_date"] == pl.Date


def test_a_plain_clock_time_is_still_accepted_without_a_date() -> None:
    result = validate_lab_frame(_lab(lab_draw_time=["08:30"] * 5 + ["7:45"] * 5))
    assert result.ok, result.summary()
    wide = to_wide(result.clean).sort("participant_id")
    assert wide["lab_draw_time"].to_list() == ["08:30", "7:45"]
    assert wide["lab_draw_date"].to_list() == [None, None]


def test_the_draw_date_is_not_an_analysis_dataset_column() -> None:
    # It identifies people: only a shifted copy may leave the study (de-identified exports).
    assert "lab_draw_date" not in PREANALYTICAL_COLUMNS
    assert "lab_draw_date" not in LAB_OPTIONAL_COLUMNS


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("2026-02-30T08:30", "no such date"),
        ("2026-03-02T25:00", "not a clock time or an ISO 8601 date and time"),
        ("02/03/2026 08:30", "not a clock time or an ISO 8601 date and time"),
        ("2026-03-02", "not a clock time or an ISO 8601 date and time"),
        ("2999-01-01T08:30", "draw date out of range (in the future or long past)"),
        ("1900-01-01T08:30", "draw date out of range (in the future or long past)"),
    ],
)
def test_a_bad_draw_date_or_time_names_the_row_and_the_accepted_forms(
    written: str, message: str
) -> None:
    times: list[object] = ["08:30"] * 9 + [written]
    times[5:9] = [written] * 4  # p2's rows agree with one another: only the value is wrong
    problems = validate_lab_frame(_lab(lab_draw_time=times)).problems
    assert {p.row for p in problems} == {6, 7, 8, 9, 10}
    assert {(p.column, p.value, p.message) for p in problems} == {
        ("lab_draw_time", written, message)
    }
    assert "YYYY-MM-DD" in problems[0].allowed


def test_the_template_example_carries_a_draw_date() -> None:
    frame = pl.read_csv(io.StringIO(lab_template_csv()), infer_schema=False)
    result = validate_lab_frame(frame)
    assert result.ok, result.summary()
    assert result.clean["lab_draw_date"].to_list() == [date(2026, 3, 2)] * 2
