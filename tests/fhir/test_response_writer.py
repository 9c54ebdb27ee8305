"""Writing our answers as QuestionnaireResponses and Bundles, and reading them back."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from fibrosurvey.fhir import (
    FhirMappingError,
    bundle,
    questionnaire,
    questionnaire_response,
    read_bundle,
    read_response,
    response_bundle,
)
from fibrosurvey.instruments import get_instrument, load_instruments
from fibrosurvey.instruments.logic import SkipLogic
from tests.strategies import answers as answer_strategy

LOINC = "http://loinc.org"


def _answered(resource: dict[str, Any]) -> list[dict[str, Any]]:
    [group] = resource["item"]
    items: list[dict[str, Any]] = group["item"]
    return items


def test_phq9_response_uses_our_canonical_and_loinc_answer_codes() -> None:
    resource = questionnaire_response(
        {"phq9_1": 2, "phq9_2": None, "phq9_9": 0}, "phq9", "Patient/P0001", "2025-03-01"
    )
    parsed = QuestionnaireResponse.model_validate(resource)
    assert parsed.questionnaire == "https://fibrosurvey.org/fhir/Questionnaire/phq9|1.1.0"
    assert parsed.status == "completed"
    assert parsed.subject.reference == "Patient/P0001"
    assert str(parsed.authored) == "2025-03-01"
    assert resource["item"][0]["linkId"] == "phq9"
    answered = _answered(resource)
    assert [item["linkId"] for item in answered] == ["phq9_1", "phq9_9"]
    assert answered[0]["answer"] == [
        {"valueCoding": {"system": LOINC, "code": "LA6570-1", "display": "More than half the days"}}
    ]


def test_numbers_are_written_as_integer_or_decimal_as_the_item_kind_says() -> None:
    resource = questionnaire_response(
        {"demo_age": 47, "demo_height_cm": 162.5, "demo_sex": 1}, "demo", "Patient/P2"
    )
    by_link = {item["linkId"]: item["answer"][0] for item in _answered(resource)}
    assert by_link["demo_age"] == {"valueInteger": 47}
    assert by_link["demo_height_cm"] == {"valueDecimal": 162.5}
    # demo_sex has its own answer list (no shared option set), so its own CodeSystem.
    assert by_link["demo_sex"]["valueCoding"]["system"] == (
        "https://fibrosurvey.org/fhir/CodeSystem/demo-item-sex"
    )
    assert by_link["demo_sex"]["valueCoding"]["code"] == "1"


def test_csv_text_cells_are_accepted_as_numbers() -> None:
    resource = questionnaire_response({"gad7_1": "3", "gad7_2": " "}, "gad7", "Patient/P3")
    assert [item["linkId"] for item in _answered(resource)] == ["gad7_1"]
    assert read_response(resource)["gad7_1"] == 3


def test_no_answers_gives_a_response_without_items() -> None:
    resource = questionnaire_response({}, "jss", "Patient/P4", status="in-progress")
    assert "item" not in resource
    assert resource["status"] == "in-progress"


def test_bad_answers_are_refused_all_at_once_and_nothing_is_written() -> None:
    with pytest.raises(FhirMappingError) as caught:
        questionnaire_response({"phq9_1": 7, "phq9_2": 1.5, "phq9_x": 0}, "phq9", "Patient/P1")
    message = str(caught.value)
    assert "answers to phq9 are not valid" in message
    assert {problem.column for problem in caught.value.problems} == {"phq9_1", "phq9_2", "phq9_x"}
    assert "allowed: 0, 1, 2, 3" in message


def test_bad_status_and_date_are_refused() -> None:
    with pytest.raises(FhirMappingError, match="status: not an R4 response status"):
        questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1", status="done")
    with pytest.raises(FhirMappingError, match="authored"):
        questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1", authored="01/03/2025")


def test_bundle_is_a_valid_collection_of_the_responses() -> None:
    first = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    second = questionnaire_response({"gad7_1": 2}, "gad7", "Patient/P1")
    result = bundle([first, second])
    parsed = Bundle.model_validate(result)
    assert parsed.type == "collection"
    assert [entry.resource.questionnaire for entry in parsed.entry] == [
        first["questionnaire"],
        second["questionnaire"],
    ]
    urls = [entry["fullUrl"] for entry in result["entry"]]
    assert len(set(urls)) == 2 and all(url.startswith("urn:uuid:") for url in urls)


def test_response_bundle_writes_one_response_per_row_with_answers() -> None:
    rows = [
        {"participant_id": "P1", "event": "baseline", "gad7_1": 1, "gad7_total": 1, "phq9_1": 2},
        {"participant_id": "P2", "gad7_1": None},
        {"participant_id": "P3", "gad7_3": 3, "when": "2025-02-03"},
    ]
    result = response_bundle(rows, "gad7", authored_column="when")
    responses = [entry["resource"] for entry in result["entry"]]
    assert [r["subject"]["reference"] for r in responses] == ["Patient/P1", "Patient/P3"]
    assert [read_response(r)["gad7_1"] for r in responses] == [1, None]
    assert responses[1]["authored"] == "2025-02-03"
    assert "authored" not in responses[0]


def test_response_bundle_reports_every_bad_row_by_number() -> None:
    rows = [{"participant_id": "P1", "gad7_1": 9}, {"participant_id": "", "gad7_2": 1}]
    with pytest.raises(FhirMappingError) as caught:
        response_bundle(rows, "gad7")
    places = [(problem.row, problem.column) for problem in caught.value.problems]
    assert places == [(1, "gad7_1"), (2, "participant_id")]
    assert "row 2, participant_id: no participant id" in str(caught.value)


@pytest.mark.parametrize("instrument_id", list(load_instruments()))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_valid_answers_round_trip_through_a_response(
    instrument_id: str, data: st.DataObject
) -> None:
    instrument = get_instrument(instrument_id)
    answers = data.draw(answer_strategy(instrument, missing=0.3))
    resource = questionnaire_response(answers, instrument_id, "Patient/P1")
    QuestionnaireResponse.model_validate(resource)
    assert read_response(resource) == answers


def test_spanish_response_copies_spanish_texts_and_says_so() -> None:
    resource = questionnaire_response({"phq9_1": 0}, "phq9", "Patient/P1", language="es")
    assert resource["language"] == "es"
    [item] = _answered(resource)
    assert item["text"] == "Poco interés o placer en hacer cosas"
    assert item["answer"][0]["valueCoding"]["display"] == "Para nada"
    assert read_response(resource)["phq9_1"] == 0


def test_response_bundle_writes_dates_and_refuses_datetimes_without_timezone() -> None:
    utc = datetime.UTC
    rows = [
        {"participant_id": "P1", "gad7_1": 1, "at": datetime.date(2025, 1, 2)},
        {
            "participant_id": "P2",
            "gad7_1": 1,
            "at": datetime.datetime(2025, 1, 2, 10, 30, tzinfo=utc),
        },
    ]
    result = response_bundle(rows, "gad7", authored_column="at")
    authored = [entry["resource"]["authored"] for entry in result["entry"]]
    assert authored == ["2025-01-02", "2025-01-02T10:30:00+00:00"]
    naive = [{"participant_id": "P3", "gad7_1": 1, "at": datetime.datetime(2025, 1, 2, 10, 30)}]
    with pytest.raises(FhirMappingError) as caught:
        response_bundle(naive, "gad7", authored_column="at")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (1, "authored")
    assert "with a timezone" in problem.allowed


def test_our_bundle_reads_back_with_subjects_and_dates() -> None:
    rows = [
        {"participant_id": "P1", "phq9_1": 3, "phq9_9": 1, "at": "2025-06-01"},
        {"participant_id": "P2", "phq9_2": 0, "at": "2025-06-02"},
    ]
    readings = read_bundle(response_bundle(rows, "phq9", authored_column="at"))
    assert [(r.subject_reference, r.authored) for r in readings] == [
        ("Patient/P1", "2025-06-01"),
        ("Patient/P2", "2025-06-02"),
    ]
    assert [(r.row["phq9_1"], r.row["phq9_2"], r.row["phq9_9"]) for r in readings] == [
        (3, None, 1),
        (None, 0, None),
    ]


def test_bundle_with_bad_entries_is_refused_naming_each_entry() -> None:
    good = questionnaire_response({"gad7_1": 2}, "gad7", "Patient/P1")
    bad = questionnaire_response({"gad7_1": 2}, "gad7", "Patient/P2")
    bad["item"][0]["item"][0]["linkId"] = "gad7_8"
    result = bundle([good, bad, {"resourceType": "Patient"}])
    with pytest.raises(FhirMappingError) as caught:
        read_bundle(result)
    paths = [problem.column for problem in caught.value.problems]
    assert paths == [
        "entry[1].QuestionnaireResponse.item[0].item[0] (linkId 'gad7_8')",
        "entry[2].resourceType",
    ]
    with pytest.raises(FhirMappingError, match="not a Bundle"):
        read_bundle(good)


def _structure(items: list[dict[str, Any]], parent: str = "") -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for item in items:
        pairs.add((parent, item["linkId"]))
        pairs |= _structure(item.get("item", []), item["linkId"])
    return pairs


@pytest.mark.parametrize("instrument_id", list(load_instruments()))
def test_response_items_sit_where_the_questionnaire_puts_them(instrument_id: str) -> None:
    # SDC/FHIR: a response's item tree must follow its Questionnaire's (same parent linkIds).
    instrument = get_instrument(instrument_id)
    answers = {
        item.column: item.codes[0] if item.codes else item.minimum for item in instrument.items
    }
    hidden = SkipLogic([instrument]).disabled_columns(answers)  # "No" to a gate hides items
    answers = {column: value for column, value in answers.items() if column not in hidden}
    resource = questionnaire_response(answers, instrument_id, "Patient/P1")
    in_response = _structure(resource["item"])
    assert in_response <= _structure(questionnaire(instrument_id)["item"])
    assert len(in_response) == len(answers) + 1
