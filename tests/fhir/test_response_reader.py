"""Reading QuestionnaireResponses: LOINC-coded ones from other SDC tools, our own, and refusals."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fibrosurvey.fhir import (
    FhirMappingError,
    questionnaire_response,
    read_response,
    read_response_detail,
)

DATA = Path(__file__).parent / "data"
LOINC = "http://loinc.org"


def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return loaded


def _lhc_phq9() -> dict[str, Any]:
    return _fixture("phq9_lhcforms_response.json")


def _phq9_items(resource: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = resource["item"][0]["item"]
    return items


def _refusal(resource: object, **kwargs: Any) -> str:
    with pytest.raises(FhirMappingError) as caught:
        read_response(resource, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def test_lhc_forms_phq9_response_is_read_into_the_phq9_columns() -> None:
    # LOINC-coded, nested in the panel group, linkIds "/44250-9", with a calculated total.
    reading = read_response_detail(_lhc_phq9())
    assert reading.instrument_id == "phq9"
    assert reading.row == {
        "phq9_1": 1,
        "phq9_2": 2,
        "phq9_3": 0,
        "phq9_4": 3,
        "phq9_5": 1,
        "phq9_6": 0,
        "phq9_7": 2,
        "phq9_8": 1,
        "phq9_9": 0,
        "phq9_10": 1,  # the difficulty question (LOINC 69722-7): "Somewhat difficult"
    }


def test_calculated_total_is_skipped_and_reported() -> None:
    reading = read_response_detail(_lhc_phq9())
    assert [note.split(":")[0] for note in reading.ignored] == ["/44261-6"]
    assert "calculated" in reading.ignored[0]


def test_a_wrong_calculated_total_in_the_file_is_ignored_not_trusted() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[-1]["answer"] = [{"valueDecimal": 27}]
    row = read_response(resource)
    assert sum(row[f"phq9_{n}"] or 0 for n in range(1, 10)) == 10


def test_loinc_gad7_response_without_answer_systems_is_read_into_the_gad7_columns() -> None:
    reading = read_response_detail(_fixture("gad7_loinc_response.json"))
    assert reading.instrument_id == "gad7"
    assert reading.row == {
        "gad7_1": 2,
        "gad7_2": 3,
        "gad7_3": 1,
        "gad7_4": 0,
        "gad7_5": 1,
        "gad7_6": 2,
        "gad7_7": 0,
    }
    assert [note.split(":")[0] for note in reading.ignored] == ["/70274-6"]


def test_instrument_is_found_from_item_codes_when_no_panel_code_is_given() -> None:
    resource = _fixture("gad7_loinc_response.json")
    del resource["questionnaire"]
    assert read_response_detail(resource).instrument_id == "gad7"


def test_integer_answers_to_choice_items_are_read_as_the_option_scores() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"] = [{"valueInteger": 3}]
    assert read_response(resource)["phq9_1"] == 3


def test_unanswered_items_are_missing_not_zero() -> None:
    resource = _lhc_phq9()
    del _phq9_items(resource)[0]["answer"]
    del _phq9_items(resource)[1]
    row = read_response(resource)
    assert row["phq9_1"] is None
    assert row["phq9_2"] is None
    assert row["phq9_3"] == 0


def test_own_response_round_trips_with_numbers_and_codes() -> None:
    answers = {"tx_cbd_product": 2, "tx_cbd_mg_day": 37.5, "tx_cbd_days_week": 4, "tx_opioid": 0}
    resource = questionnaire_response(answers, "tx", "Patient/P0001", "2025-05-01")
    row = read_response(resource)
    assert {column: value for column, value in row.items() if value is not None} == answers
    assert isinstance(row["tx_cbd_days_week"], int)
    assert isinstance(row["tx_cbd_mg_day"], float)


def test_naming_the_instrument_reads_a_response_with_no_questionnaire() -> None:
    resource = questionnaire_response({"jss_1": 4}, "jss", "Patient/P1")
    del resource["questionnaire"]
    assert "cannot identify the instrument" in _refusal(copy.deepcopy(resource))
    assert read_response(resource, instrument_id="jss")["jss_1"] == 4


# --- refusals: each names the place, the value and what is allowed ---------------------------


def test_wrong_resource_type_is_refused() -> None:
    message = _refusal({"resourceType": "Observation", "status": "final"})
    assert (
        "resourceType: wrong resource type (got 'Observation'; allowed: QuestionnaireResponse)"
        in message
    )


def test_a_json_array_is_refused_as_not_a_resource() -> None:
    assert "(resource): not a resource" in _refusal([_lhc_phq9()])


def test_malformed_structure_is_refused_with_the_fhir_path() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"] = {"valueInteger": 1}  # must be a list
    del _phq9_items(resource)[2]["linkId"]
    resource["authored"] = "last tuesday"
    message = _refusal(resource)
    assert "not a valid FHIR R4 QuestionnaireResponse" in message
    assert "item.0.item.0.answer" in message
    assert "item.0.item.2.linkId" in message
    assert "authored" in message and "'last tuesday'" in message


def test_unknown_own_questionnaire_is_refused_listing_ours() -> None:
    resource = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    resource["questionnaire"] = "https://fibrosurvey.org/fhir/Questionnaire/phq10|1.0.0"
    message = _refusal(resource)
    assert "questionnaire: unknown questionnaire" in message
    assert "https://fibrosurvey.org/fhir/Questionnaire/phq9" in message


def test_other_major_version_of_our_questionnaire_is_refused() -> None:
    resource = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    resource["questionnaire"] = "https://fibrosurvey.org/fhir/Questionnaire/phq9|2.0.0"
    assert "answers a different major version of phq9" in _refusal(resource)


def test_foreign_questionnaire_without_loinc_codes_is_refused() -> None:
    resource = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://example.org/Questionnaire/mood",
        "status": "completed",
        "item": [{"linkId": "q1", "answer": [{"valueInteger": 2}]}],
    }
    message = _refusal(resource)
    assert "cannot tell which instrument this answers" in message
    assert "44249-1 (phq9)" in message and "69737-5 (gad7)" in message


def test_response_mixing_two_panels_is_refused_as_ambiguous() -> None:
    resource = _lhc_phq9()
    gad7 = _fixture("gad7_loinc_response.json")
    del gad7["questionnaire"]
    resource["item"] += gad7["item"]
    resource["item"][0]["linkId"] = "/group"
    assert "matches several instruments (phq9, gad7)" in _refusal(resource)


def test_unknown_linkid_is_refused_listing_the_allowed_ones() -> None:
    resource = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    resource["item"][0]["item"][0]["linkId"] = "phq9_11"
    message = _refusal(resource)
    assert "QuestionnaireResponse.item[0].item[0] (linkId 'phq9_11'): unknown question" in message
    assert "allowed: phq9_1, phq9_2" in message


def test_unknown_loinc_code_is_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[3]["linkId"] = "/12345-6"
    message = _refusal(resource)
    assert "(linkId '/12345-6'): unknown question" in message
    assert "/44250-9" in message


def test_answer_code_outside_the_option_list_is_refused_with_the_allowed_codes() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"][0]["valueCoding"]["code"] = "LA6572-7"
    message = _refusal(resource)
    assert "item[0].item[0] (linkId '/44250-9').answer[0].valueCoding" in message
    assert "not one of the answer codes of phq9_1" in message
    assert "'LA6572-7'" in message
    assert "http://loinc.org|LA6568-5, http://loinc.org|LA6569-3" in message


def test_answer_code_from_another_system_is_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"][0]["valueCoding"]["system"] = "http://snomed.info/sct"
    assert "not one of the answer codes of phq9_1" in _refusal(resource)


def test_integer_that_is_not_an_option_score_is_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"] = [{"valueInteger": 4}]
    message = _refusal(resource)
    assert "answer[0].valueInteger: not an answer to phq9_1 (got '4';" in message
    assert "valueInteger 0, 1, 2, 3" in message


def test_text_answer_to_a_choice_item_is_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"] = [{"valueString": "Several days"}]
    assert "valueString: not an answer to phq9_1" in _refusal(resource)


def test_two_answers_for_one_item_are_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"].append({"valueInteger": 2})
    message = _refusal(resource)
    assert "(linkId '/44250-9'): phq9_1 has 2 answers" in message


def test_the_same_item_answered_twice_is_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource).append(copy.deepcopy(_phq9_items(resource)[0]))
    message = _refusal(resource)
    assert "phq9_1 is answered twice (also at QuestionnaireResponse.item[0].item[0]" in message


def test_out_of_range_number_is_refused_by_validation() -> None:
    resource = questionnaire_response({"tx_cbd_days_week": 4}, "tx", "Patient/P1")
    resource["item"][0]["item"][0]["answer"] = [{"valueInteger": 9}]
    message = _refusal(resource)
    assert "the answers are not valid tx answers" in message
    assert "tx_cbd_days_week" in message and "0 to 7" in message


def test_fractional_decimal_for_an_integer_item_is_refused() -> None:
    resource = questionnaire_response({"tx_cbd_days_week": 4}, "tx", "Patient/P1")
    resource["item"][0]["item"][0]["answer"] = [{"valueDecimal": 2.5}]
    assert "valueDecimal: not an answer to tx_cbd_days_week (got '2.5'" in _refusal(resource)


def test_entered_in_error_response_is_refused() -> None:
    resource = _lhc_phq9()
    resource["status"] = "entered-in-error"
    assert "entered in error" in _refusal(resource)


def test_every_problem_is_listed_not_only_the_first() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"][0]["valueCoding"]["code"] = "LA0000-0"
    _phq9_items(resource)[1]["linkId"] = "/11111-1"
    _phq9_items(resource)[2]["answer"].append({"valueInteger": 1})
    with pytest.raises(FhirMappingError) as caught:
        read_response(resource)
    assert len(caught.value.problems) == 3


def test_naming_another_instrument_than_our_questionnaire_says_is_refused() -> None:
    resource = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    message = _refusal(resource, instrument_id="gad7")
    assert "the response answers 'phq9', not the instrument asked for" in message


def test_naming_an_unknown_instrument_is_refused() -> None:
    resource = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    assert "(instrument): unknown instrument" in _refusal(resource, instrument_id="phq10")


def test_an_empty_instrument_group_is_accepted_as_no_answers() -> None:
    resource = questionnaire_response({"phq9_1": 1}, "phq9", "Patient/P1")
    del resource["item"][0]["item"]
    assert set(read_response(resource).values()) == {None}


def test_nested_items_under_an_answer_are_refused() -> None:
    resource = _lhc_phq9()
    _phq9_items(resource)[0]["answer"][0]["item"] = [
        {"linkId": "/x", "answer": [{"valueInteger": 1}]}
    ]
    assert "items nested under an answer are not supported" in _refusal(resource)


def test_path_style_linkids_of_nested_lhc_forms_items_are_read_by_their_last_code() -> None:
    resource = _lhc_phq9()
    for item in _phq9_items(resource):
        item["linkId"] = "/44249-1" + item["linkId"]
    reading = read_response_detail(resource)
    assert reading.row["phq9_4"] == 3
    assert [note.split(":")[0] for note in reading.ignored] == ["/44249-1/44261-6"]
