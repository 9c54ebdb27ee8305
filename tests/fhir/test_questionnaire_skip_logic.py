"""Skip logic in FHIR: exported as enableWhen, and read from other SDC tools' Questionnaires."""

from __future__ import annotations

from typing import Any

import pytest

from fibrosurvey.fhir import questionnaire, questionnaire_model
from fibrosurvey.fhir.questionnaire_reader import instrument_from_questionnaire
from fibrosurvey.instruments import DefinitionError, get_instrument
from fibrosurvey.instruments.logic import SkipLogic

LOINC = "http://loinc.org"
YES = {"system": LOINC, "code": "LA33-6", "display": "Yes"}
NO = {"system": LOINC, "code": "LA32-8", "display": "No"}


def _questions(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in resource["item"][0]["item"]}


def test_exported_questionnaire_carries_enable_when_and_behavior() -> None:
    items = _questions(questionnaire("tx"))
    assert items["tx_thc_mg_day"]["enableWhen"] == [
        {
            "question": "tx_thc_use",
            "operator": "=",
            "answerCoding": {
                "system": "https://fibrosurvey.org/fhir/CodeSystem/tx-yes_no",
                "code": "1",
            },
        }
    ]
    assert "enableBehavior" not in items["tx_thc_mg_day"]
    assert items["tx_cannabis_days_since"]["enableBehavior"] == "any"
    assert len(items["tx_cannabis_days_since"]["enableWhen"]) == 5  # three CBD products
    assert "enableWhen" not in items["tx_opioid"]
    # The R4 validator accepts it, in both languages.
    questionnaire_model("demo", "es")
    assert _questions(questionnaire("demo"))["demo_menopause"]["enableWhen"][0]["operator"] == "!="


@pytest.mark.parametrize("instrument_id", ["tx", "demo", "migraine", "ibs"])
def test_our_questionnaire_reads_back_with_the_same_logic(instrument_id: str) -> None:
    ours = get_instrument(instrument_id)
    read = instrument_from_questionnaire(questionnaire(instrument_id))
    assert read.item_columns() == ours.item_columns()
    for item in ours.items:
        again = read.item(item.id)
        assert again.enable_when == item.enable_when, item.column
        assert again.enable_behavior == item.enable_behavior, item.column
        assert again.codes == item.codes, item.column


def _lhc_style() -> dict[str, Any]:
    """Written as LHC-Forms writes it: path linkIds, LOINC answers, a gated group."""
    return {
        "resourceType": "Questionnaire",
        "status": "draft",
        "name": "Sleep-Screen",
        "title": "Sleep screen",
        "item": [
            {
                "linkId": "/snore",
                "type": "choice",
                "text": "Do you snore?",
                "answerOption": [{"valueCoding": NO}, {"valueCoding": YES}],
            },
            {
                "linkId": "/grp",
                "type": "group",
                "text": "Snoring",
                "enableWhen": [{"question": "/snore", "operator": "=", "answerCoding": YES}],
                "item": [
                    {
                        "linkId": "/grp/nights",
                        "type": "integer",
                        "text": "Nights a week?",
                        "extension": [
                            {"url": "http://hl7.org/fhir/StructureDefinition/minValue",
                             "valueInteger": 0},
                            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue",
                             "valueInteger": 7},
                        ],
                    },
                    {
                        "linkId": "/grp/loud",
                        "type": "boolean",
                        "text": "Loud?",
                        "enableWhen": [
                            {"question": "/grp/nights", "operator": ">=", "answerInteger": 3},
                            {"question": "/snore", "operator": "exists", "answerBoolean": True},
                        ],
                        "enableBehavior": "all",
                    },
                ],
            },
            {
                "linkId": "/apnoea",
                "type": "boolean",
                "text": "Stopped breathing?",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                        "sdc-questionnaire-enableWhenExpression",
                        "valueExpression": {
                            "language": "text/fhirpath",
                            "expression": "%resource.repeat(item).where(linkId='sleepscreen_"
                            "grp_nights').answer.value >= 5",
                        },
                    }
                ],
            },
        ],
    }  # fmt: skip


def test_lhc_forms_questionnaire_imports_with_its_logic() -> None:
    instrument = instrument_from_questionnaire(_lhc_style())
    assert instrument.id == "sleepscreen"
    assert instrument.item_columns() == [
        "sleepscreen_snore",
        "sleepscreen_grp_nights",
        "sleepscreen_grp_loud",
        "sleepscreen_apnoea",
    ]
    logic = SkipLogic([instrument])
    assert logic.disabled_columns({"sleepscreen_snore": 1}) == {
        "sleepscreen_grp_nights",
        "sleepscreen_grp_loud",
        "sleepscreen_apnoea",
    }  # "No" is the first option: code 1; "Yes" is 2
    snorer = {"sleepscreen_snore": 2, "sleepscreen_grp_nights": 6}
    assert logic.disabled_columns(snorer) == set()
    assert logic.disabled_columns(snorer | {"sleepscreen_grp_nights": 2}) == {
        "sleepscreen_grp_loud",
        "sleepscreen_apnoea",
    }
    # Gates and the items they gate land on separate pages.
    assert instrument.pages == (("snore",), ("grp_nights",), ("grp_loud", "apnoea"))


def test_enable_when_naming_an_unknown_link_id_is_refused() -> None:
    resource = _lhc_style()
    resource["item"][1]["enableWhen"][0]["question"] = "/snoring"
    with pytest.raises(
        DefinitionError, match=r"enableWhen\.0\.question: unknown linkId '/snoring'"
    ):
        instrument_from_questionnaire(resource)


def test_enable_when_answer_that_is_not_an_option_is_refused() -> None:
    resource = _lhc_style()
    resource["item"][1]["enableWhen"][0]["answerCoding"] = {"system": LOINC, "code": "LA9999-9"}
    with pytest.raises(DefinitionError, match=r"'LA9999-9' is not an answerOption of /snore"):
        instrument_from_questionnaire(resource)
