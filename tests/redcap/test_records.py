"""A REDCap flat record export as our dataset: events, repeating forms, checkboxes, missing
codes, form status, identifiers and the mapping onto our PHQ-9."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fibrosurvey.redcap import read_data_dictionary
from fibrosurvey.redcap.mapping import MappingError, read_mapping
from fibrosurvey.redcap.records import RecordsError, RedcapDataset, import_records
from fibrosurvey.scoring import score_frame
from fibrosurvey.validation import validate_frame

DATA = Path(__file__).parents[1] / "data" / "redcap"
DICTIONARY = read_data_dictionary(DATA / "symptom_study_dictionary.csv")
RECORDS = DATA / "symptom_study_records.csv"
MAPPING = DATA / "phq9_mapping.yaml"


@pytest.fixture(scope="module")
def mapped() -> RedcapDataset:
    return import_records(DICTIONARY, RECORDS, read_mapping(MAPPING))


@pytest.fixture(scope="module")
def unmapped() -> RedcapDataset:
    return import_records(DICTIONARY, RECORDS)


def test_one_row_per_record_and_event(mapped: RedcapDataset, unmapped: RedcapDataset) -> None:
    keys = mapped.wide.select("participant_id", "event", "site").rows()
    assert keys == [
        ("101", "baseline", "site_a"),
        ("101", "followup_3m", "site_a"),
        ("102", "baseline", "site_b"),
        ("102", "followup_3m", "site_b"),
    ]
    # Without a mapping the REDCap event names come through as they are.
    assert unmapped.wide["event"].to_list()[:2] == ["baseline_arm_1", "month_3_arm_1"]


def test_repeating_instrument_is_a_long_table_of_its_own(mapped: RedcapDataset) -> None:
    assert not [c for c in mapped.wide.columns if c.startswith("medication_")]
    medication = mapped.repeating["medication"]
    assert medication.select(
        "participant_id", "event", "instance", "medication_med_name", "medication_med_dose_mg"
    ).rows() == [
        ("101", "baseline", 1, "Pregabalin", 150.0),
        ("101", "baseline", 2, "Duloxetine", 60.0),
        ("102", "baseline", 1, "Amitriptyline", 25.0),
    ]
    assert medication["redcap_complete_medication"].to_list() == [2, 1, 0]
    assert medication["medication_med_start"].dtype == pl.Date


def test_checkbox_boxes_are_0_1_items_with_number_letter_and_negative_codes(
    mapped: RedcapDataset,
) -> None:
    boxes = mapped.wide.select(
        "symptoms_sym___1", "symptoms_sym___2", "symptoms_sym___a", "symptoms_sym____99"
    )
    assert boxes.rows() == [(1, 0, 1, 0), (0, 0, 0, 1), (1, 1, 0, 0), (None, None, None, None)]


def test_form_status_and_missing_codes_distinct_from_empty(mapped: RedcapDataset) -> None:
    wide = mapped.wide
    assert wide["redcap_complete_symptoms"].to_list() == [2, 1, 2, 0]
    assert wide["redcap_complete_enrolment"].to_list() == [2, None, 2, None]
    assert wide["symptoms_sleep"].to_list() == [40, None, None, None]
    # Row 2 holds UNK (a missing-data code), row 3 an empty cell: both empty values, but only
    # one has a code.
    assert wide["redcap_missing_symptoms_sleep"].to_list() == [None, "UNK", None, None]
    assert wide["redcap_missing_phq9_9"].to_list() == [None, "NASK", None, None]
    # Columns with no code at all get no missing-code column.
    assert "redcap_missing_symptoms_pain_today" not in wide.columns


def test_identifiers_are_left_out_unless_asked_for(mapped: RedcapDataset) -> None:
    assert not {"enrolment_full_name", "enrolment_email", "enrolment_dob"} & set(
        mapped.wide.columns
    )
    kept = import_records(DICTIONARY, RECORDS, keep_identifiers=True).wide
    assert kept["enrolment_full_name"].to_list()[0] == "Ana López"
    assert kept["enrolment_dob"].to_list()[2] is None
    assert kept["redcap_missing_enrolment_dob"].to_list()[2] == "NI"


def test_mapped_phq9_is_validated_and_scored_by_our_definition(mapped: RedcapDataset) -> None:
    wide = mapped.wide
    assert validate_frame(wide.select("participant_id", pl.col("^phq9_\\d$")), ["phq9"]).ok
    scored = score_frame(wide, ["phq9"])
    # By hand: REDCap codes 1-4 recoded to 0-3.
    # 101 baseline: 2,3,1,2,4,1,1,2,1 -> 1+2+0+1+3+0+0+1+0 = 8.
    # 101 follow-up: eight 2s -> eight 1s, item 9 NASK: 8 answered, prorated 8 * 9/8 = 9.
    # 102 baseline: nine 4s -> 27. 102 follow-up: nothing answered -> missing.
    assert scored["phq9_total"].to_list() == [8, 9, 27, None]
    assert wide["redcap_complete_phq9"].to_list() == [2, 2, 2, 0]
    assert scored["redcap_calc_dep_total"].to_list() == [17.0, None, 36.0, None]


def test_without_mapping_the_form_comes_through_as_a_custom_instrument(
    unmapped: RedcapDataset,
) -> None:
    assert unmapped.wide["depressionscreen_dep_1"].to_list() == [2, 2, 4, None]
    assert "redcap_complete_depressionscreen" in unmapped.wide.columns


def _records_with(row: int, column: str, value: str) -> str:
    frame = pl.read_csv(RECORDS, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row - 1)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    return frame.write_csv()


def test_a_bad_cell_refuses_everything_naming_row_field_and_allowed_values() -> None:
    with pytest.raises(RecordsError) as raised:
        import_records(DICTIONARY, _records_with(3, "pain_today", "11"))
    [problem] = raised.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "pain_today", "11")
    assert problem.allowed == ", ".join(str(code) for code in range(11))


def test_a_code_the_mapping_does_not_recode_is_refused() -> None:
    with pytest.raises(RecordsError) as raised:
        import_records(DICTIONARY, _records_with(1, "dep_3", "0"), read_mapping(MAPPING))
    messages = {(p.row, p.column, p.value) for p in raised.value.problems}
    assert (1, "dep_3", "0") in messages


def test_a_column_from_another_project_is_refused() -> None:
    text = RECORDS.read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",weight_kg", *[line + "," for line in text[1:]]]
    with pytest.raises(RecordsError, match=r"weight_kg.*not a field of the dictionary"):
        import_records(DICTIONARY, "\n".join(text))


def test_a_mapping_to_an_unknown_item_is_refused() -> None:
    text = MAPPING.read_text(encoding="utf-8").replace("phq9_9", "phq9_11")
    with pytest.raises(MappingError) as raised:
        read_mapping(text)
    [problem] = raised.value.problems
    assert problem.column == "forms.depression_screen.fields.dep_9"
    assert "phq9_9" in problem.allowed
