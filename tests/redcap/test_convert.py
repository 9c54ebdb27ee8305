"""A REDCap data dictionary converted to instruments: items, skip logic, scores, refusals."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fibrosurvey.instruments import Instrument, load_definition
from fibrosurvey.instruments.logic import SkipLogic
from fibrosurvey.instruments.writer import write_definition
from fibrosurvey.redcap import (
    ConversionResult,
    dictionary_to_instruments,
    read_data_dictionary,
)
from fibrosurvey.redcap.dictionary import CSV_COLUMNS
from fibrosurvey.scoring import score_frame_with

DICTIONARY = Path(__file__).parents[1] / "data" / "redcap" / "symptom_study_dictionary.csv"


@pytest.fixture(scope="module")
def result() -> ConversionResult:
    return dictionary_to_instruments(read_data_dictionary(DICTIONARY))


def _instrument(result: ConversionResult, instrument_id: str) -> Instrument:
    return next(i for i in result.instruments if i.id == instrument_id)


def test_one_instrument_per_form_and_the_record_id_is_not_an_item(
    result: ConversionResult,
) -> None:
    assert result.forms == {
        "enrolment": "enrolment",
        "symptoms": "symptoms",
        "medication": "medication",
        "depression_screen": "depressionscreen",
    }
    assert result.record_id_field == "record_id"
    assert "record_id" not in [item.id for item in _instrument(result, "enrolment").items]


def test_refusals_name_line_field_and_reason(result: ConversionResult) -> None:
    assert [(r.line, r.field) for r in result.refusals] == [
        (14, "older"),
        (17, "any_sum"),
        (18, "upload"),
    ]
    assert "another event" in result.refusals[0].reason
    assert "sum()" in result.refusals[1].reason
    assert "file uploads" in result.refusals[2].reason


def test_field_types_and_identifiers(result: ConversionResult) -> None:
    enrolment = _instrument(result, "enrolment")
    kinds = {item.id: (item.kind, item.identifier) for item in enrolment.items}
    assert kinds == {
        "full_name": ("text", True),
        "email": ("text", True),
        "dob": ("date", True),
        "age": ("integer", False),
        "sex": ("choice", False),
    }
    age = enrolment.item("age")
    assert (age.minimum, age.maximum, age.required) == (18, 100, True)
    assert enrolment.page_instructions[0]["en"] == "Contact details"
    medication = _instrument(result, "medication")
    assert medication.item("med_dose_mg").kind == "number"
    assert medication.item("med_dose_mg").maximum == 5000
    assert medication.item("med_start").kind == "date"  # date_dmy is stored Y-M-D by REDCap
    symptoms = _instrument(result, "symptoms")
    assert symptoms.item("fatigue").codes == (1, 0)
    assert (symptoms.item("sleep").minimum, symptoms.item("sleep").maximum) == (0, 100)
    assert symptoms.item("sym_other").kind == "text"


def test_checkbox_boxes_with_number_letter_and_negative_codes(result: ConversionResult) -> None:
    symptoms = _instrument(result, "symptoms")
    boxes = [item for item in symptoms.items if item.checkbox is not None]
    assert [(b.id, b.checkbox.code, b.text["en"]) for b in boxes if b.checkbox] == [
        ("sym___1", "1", "Headache"),
        ("sym___2", "2", "Nausea"),
        ("sym___a", "a", "Other"),
        ("sym____99", "-99", "None of these"),
    ]
    assert all(box.codes == (0, 1) for box in boxes)
    assert boxes[0].checkbox is not None
    assert boxes[0].checkbox.question["en"] == "Which symptoms did you have?"
    assert result.columns["sym___a"] == "symptoms_sym___a"


def test_branching_logic_as_enable_when(result: ConversionResult) -> None:
    symptoms = _instrument(result, "symptoms")
    other = symptoms.item("sym_other")  # [sym(a)] = '1' (written with curly quotes)
    assert [(c.question, c.operator, c.answer) for c in other.enable_when] == [
        ("symptoms_sym___a", "=", 1)
    ]
    # [pain_today] > 7 (a choice: the codes above 7) or [fatigue_days] >= 5
    severe = symptoms.item("severe")
    assert severe.enable_behavior == "any"
    assert [(c.question, c.operator, c.answer) for c in severe.enable_when] == [
        ("symptoms_pain_today", "=", 8),
        ("symptoms_pain_today", "=", 9),
        ("symptoms_pain_today", "=", 10),
        ("symptoms_fatigue_days", ">=", 5),
    ]
    # The gate is on an earlier page than what it gates.
    page = {item_id: n for n, page in enumerate(symptoms.pages) for item_id in page}
    assert page["sym___a"] < page["sym_other"] and page["fatigue"] < page["fatigue_days"]


@pytest.mark.parametrize(
    ("fatigue", "pain", "headache", "asked"),
    [
        (1, 5, 0, True),
        (1, 4, 1, True),
        (1, 4, 0, False),
        (0, 9, 1, False),
        (None, 9, 1, False),
    ],
)
def test_nested_logic_is_evaluated_as_redcap_would(
    result: ConversionResult, fatigue: int | None, pain: int, headache: int, asked: bool
) -> None:
    # [fatigue] = '1' and ([pain_today] >= '5' or [sym(1)] = '1')
    symptoms = _instrument(result, "symptoms")
    days = symptoms.item("fatigue_days")
    assert days.enable_when_expression is not None
    answers = {
        "symptoms_fatigue": fatigue,
        "symptoms_pain_today": pain,
        "symptoms_sym___1": headache,
    }
    logic = SkipLogic([symptoms])
    assert logic.enabled(answers)["symptoms_fatigue_days"] is asked
    frame = pl.DataFrame([answers], schema={column: pl.Int64 for column in answers})
    assert frame.select(logic.expressions(frame.columns)["symptoms_fatigue_days"]).item() is asked


def test_calc_sum_becomes_a_score_that_scores(result: ConversionResult) -> None:
    screen = _instrument(result, "depressionscreen")
    [total] = screen.scores
    assert total.rule == "sum" and total.id == "dep_total"
    assert (total.minimum, total.maximum) == (9, 36)
    frame = pl.DataFrame({f"depressionscreen_dep_{i}": [i % 4 + 1] for i in range(1, 10)})
    scored = score_frame_with(frame, [screen])
    assert scored["depressionscreen_dep_total"].to_list() == [2 + 3 + 4 + 1 + 2 + 3 + 4 + 1 + 2]
    symptoms = _instrument(result, "symptoms")
    assert symptoms.scores[0].id == "symptom_count"


def test_written_yaml_loads_back_equal(result: ConversionResult, tmp_path: Path) -> None:
    for instrument in result.instruments:
        assert load_definition(write_definition(instrument, tmp_path)) == instrument


def _dictionary(*rows: str) -> str:
    header = ",".join(f'"{column}"' for column in CSV_COLUMNS)
    return "\n".join([header, "record_id,f,,text,ID" + "," * 13, *rows]) + "\n"


def test_a_gate_asked_after_what_it_gates_is_refused_and_the_rest_kept() -> None:
    text = _dictionary(
        "later,f,,yesno,Asked first," + "," * 5 + ",[gate] = '1'" + "," * 6,
        "gate,f,,yesno,The gate" + "," * 13,
    )
    result = dictionary_to_instruments(read_data_dictionary(text))
    [refusal] = result.refusals
    assert (refusal.line, refusal.field) == (3, "later")
    assert "f_gate, which is asked later" in refusal.reason
    [instrument] = result.instruments
    assert not instrument.item("later").gated


def test_a_bound_that_is_not_a_number_falls_back_with_a_note() -> None:
    text = _dictionary("n,f,,text,Count,,,integer,[other],10" + "," * 8)
    result = dictionary_to_instruments(read_data_dictionary(text))
    assert result.ok
    item = result.instruments[0].item("n")
    assert (item.minimum, item.maximum) == (-1e9, 10)
    assert "'[other]' is not a number" in result.notes[0]


def test_field_names_lose_a_leading_form_prefix_as_item_ids() -> None:
    text = _dictionary('f_pain,f,,radio,Pain,"0, None | 1, Some"' + "," * 12)
    result = dictionary_to_instruments(read_data_dictionary(text))
    [item] = result.instruments[0].items
    assert (item.id, item.column) == ("pain", "f_pain")
    assert result.columns == {"f_pain": "f_pain"}


def test_a_team_form_named_like_a_built_in_instrument_gets_its_own_id() -> None:
    text = _dictionary(
        'phq9_1,phq9,,radio,Interest,"1, Not at all | 2, Several days"' + "," * 12
    ).replace("record_id,f,", "record_id,phq9,")
    result = dictionary_to_instruments(read_data_dictionary(text))
    [instrument] = result.instruments
    assert instrument.id == "phq9redcap"
    assert instrument.items[0].column == "phq9redcap_phq9_1"  # never our phq9_1
    assert "built-in" in result.notes[0]


def test_consecutive_descriptive_texts_make_one_page_instruction() -> None:
    text = _dictionary(
        "intro,f,,descriptive,Welcome" + "," * 13,
        "more,f,,descriptive,Take your time" + "," * 13,
        "q,f,,yesno,Ready?" + "," * 13,
    )
    [instrument] = dictionary_to_instruments(read_data_dictionary(text)).instruments
    assert instrument.page_instructions[0]["en"] == "Welcome\n\nTake your time"
