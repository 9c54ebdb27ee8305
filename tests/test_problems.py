"""Every reader reports problems as the one Problem: row, column, value, allowed, message."""

from __future__ import annotations

import polars as pl
import pytest

from fibrosurvey.biomarkers import validate_lab_frame
from fibrosurvey.fhir import FhirMappingError, questionnaire_response, read_response
from fibrosurvey.problems import Problem
from fibrosurvey.validation import validate_frame, validate_response


def test_survey_table_lab_table_and_fhir_problems_are_one_type() -> None:
    table = validate_frame(pl.DataFrame({"phq9_1": ["7"]}), ["phq9"]).problems
    response = validate_response({"phq9_1": "x"}, "phq9").problems
    lab = validate_lab_frame(pl.DataFrame({"participant_id": ["P1"]})).problems
    with pytest.raises(FhirMappingError) as fhir:
        read_response({"resourceType": "Observation"})
    found = [*table, *response, *lab, *fhir.value.problems]
    assert found and all(type(problem) is Problem for problem in found)


def test_a_problem_reads_the_same_in_text_and_in_json() -> None:
    problem = Problem(3, "phq9_1", "7", "0, 1, 2, 3", "not one of the answer codes")
    assert (
        str(problem) == "row 3, phq9_1: not one of the answer codes (got '7'; allowed: 0, 1, 2, 3)"
    )
    assert problem.as_dict() == {
        "row": 3,
        "column": "phq9_1",
        "value": "7",
        "allowed": "0, 1, 2, 3",
        "message": "not one of the answer codes",
    }


def test_a_missing_lab_column_has_no_row_and_an_empty_value() -> None:
    [*problems] = validate_lab_frame(pl.DataFrame({"participant_id": ["P1"]})).problems
    unit = next(p for p in problems if p.column == "unit")
    assert (unit.row, unit.value, unit.message) == (None, "", "required column is missing")
    assert str(unit) == "unit: required column is missing (got ''; allowed: a column of this name)"


def test_a_fhir_problem_keeps_the_table_row_apart_from_the_path() -> None:
    with pytest.raises(FhirMappingError) as caught:
        questionnaire_response({"phq9_1": 7}, "phq9", "Patient/P1")
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (None, "phq9_1", "7")
