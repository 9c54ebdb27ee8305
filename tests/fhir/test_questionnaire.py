"""The Questionnaire export: valid R4 (fhir.resources R4B) and faithful to each definition."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem

from fibrosurvey.fhir import questionnaire, questionnaire_model
from fibrosurvey.instruments import Instrument, Item, load_instruments

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"

PHQ9_ITEM_CODES = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
    "69722-7",  # the unscored difficulty question
]
DIFFICULTY_LA_CODES = ["LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"]
GAD7_ITEM_CODES = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY_LA_CODES = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]

CASES = [
    (instrument_id, language)
    for instrument_id, instrument in load_instruments().items()
    for language in instrument.languages
]


def _extension(element: Any, url: str) -> Any:
    found = [extension for extension in element.extension or [] if extension.url == url]
    assert len(found) == 1, f"expected one {url} extension"
    return found[0]


def _texts(main: str, primitive_extension: Any, language: str) -> dict[str, str]:
    """All languages of a text: the main text plus its translation extensions."""
    texts = {language: main}
    for extension in primitive_extension.extension if primitive_extension else []:
        assert extension.url == TRANSLATION
        parts = {part.url: part for part in extension.extension}
        texts[parts["lang"].valueCode] = parts["content"].valueString
    return texts


def _parsed(instrument_id: str, language: str) -> Questionnaire:
    """The exported JSON parsed back by fhir.resources, as another system would read it."""
    return Questionnaire.model_validate(questionnaire(instrument_id, language))


def _questions(parsed: Questionnaire) -> list[QuestionnaireItem]:
    [group] = parsed.item
    return [item for item in group.item if item.type != "display"]


def _check_item(
    instrument: Instrument, item: Item, exported: QuestionnaireItem, language: str
) -> None:
    assert exported.linkId == item.column
    assert _texts(exported.text, exported.text__ext, language) == dict(item.text)
    if item.loinc is None:
        assert exported.code is None
    else:
        assert [(c.system, c.code) for c in exported.code] == [(LOINC, item.loinc)]
    if item.kind == "choice":
        assert exported.type == "choice"
        assert len(exported.answerOption) == len(item.options)
        for option, answer in zip(item.options, exported.answerOption, strict=True):
            assert _extension(answer, ORDINAL_VALUE).valueDecimal == Decimal(option.code)
            coding = answer.valueCoding
            if option.loinc is not None:
                assert (coding.system, coding.code) == (LOINC, option.loinc)
            else:
                assert coding.system.startswith(
                    f"https://fibrosurvey.org/fhir/CodeSystem/{instrument.id}-"
                )
                assert coding.code == str(option.code)
            assert _texts(coding.display, coding.display__ext, language) == dict(option.label)
    else:
        assert exported.type == ("integer" if item.kind == "integer" else "decimal")
        minimum = _extension(exported, "http://hl7.org/fhir/StructureDefinition/minValue")
        maximum = _extension(exported, "http://hl7.org/fhir/StructureDefinition/maxValue")
        if item.kind == "integer":
            assert (minimum.valueInteger, maximum.valueInteger) == (item.minimum, item.maximum)
        else:
            assert (float(minimum.valueDecimal), float(maximum.valueDecimal)) == (
                item.minimum,
                item.maximum,
            )
        if item.unit is not None:
            unit = _extension(
                exported, "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
            )
            assert unit.valueCoding.display == item.unit
    assert bool(exported.required) == item.required


@pytest.mark.parametrize(("instrument_id", "language"), CASES)
def test_every_questionnaire_validates_and_round_trips_to_its_definition(
    instrument_id: str, language: str
) -> None:
    instrument = load_instruments()[instrument_id]
    parsed = _parsed(instrument_id, language)

    assert parsed.url == f"https://fibrosurvey.org/fhir/Questionnaire/{instrument_id}"
    assert parsed.version == instrument.version
    assert parsed.status == "active"
    assert parsed.language == language
    assert parsed.copyright == instrument.licence
    assert _texts(parsed.title, parsed.title__ext, language) == dict(instrument.title)
    if instrument.loinc is None:
        assert parsed.code is None
    else:
        assert [(c.system, c.code) for c in parsed.code] == [(LOINC, instrument.loinc)]
    questions = _questions(parsed)
    assert [question.linkId for question in questions] == instrument.item_columns()
    for item, exported in zip(instrument.items, questions, strict=True):
        _check_item(instrument, item, exported, language)


@pytest.mark.parametrize("instrument_id", list(load_instruments()))
def test_recall_period_is_an_instructions_display_item_first_in_the_group(
    instrument_id: str,
) -> None:
    instrument = load_instruments()[instrument_id]
    [group] = _parsed(instrument_id, "en").item
    assert group.type == "group"
    assert group.linkId == instrument_id
    recall = group.item[0]
    assert recall.type == "display"
    assert recall.linkId == f"{instrument_id}-recall-period"
    assert _texts(recall.text, recall.text__ext, "en") == dict(instrument.recall_period)
    category = _extension(
        recall, "http://hl7.org/fhir/StructureDefinition/questionnaire-displayCategory"
    )
    assert category.valueCodeableConcept.coding[0].code == "instructions"


def test_phq9_carries_its_loinc_panel_item_and_answer_codes_with_scores_0_to_3() -> None:
    parsed = _parsed("phq9", "en")
    assert [(c.system, c.code) for c in parsed.code] == [(LOINC, "44249-1")]
    questions = _questions(parsed)
    assert [q.code[0].code for q in questions] == PHQ9_ITEM_CODES
    for question, codes in zip(
        questions, [FREQUENCY_LA_CODES] * 9 + [DIFFICULTY_LA_CODES], strict=True
    ):
        answers = [
            (o.valueCoding.system, o.valueCoding.code, _extension(o, ORDINAL_VALUE).valueDecimal)
            for o in question.answerOption
        ]
        assert answers == [(LOINC, code, Decimal(score)) for score, code in enumerate(codes)]
    assert questions[1].answerOption[1].valueCoding.display == "Several days"


def test_gad7_carries_its_loinc_panel_and_item_codes() -> None:
    parsed = _parsed("gad7", "en")
    assert [(c.system, c.code) for c in parsed.code] == [(LOINC, "69737-5")]
    assert [q.code[0].code for q in _questions(parsed)] == GAD7_ITEM_CODES


def test_spanish_export_puts_spanish_first_and_english_in_translation_extensions() -> None:
    exported = questionnaire("phq9", "es")
    first = exported["item"][0]["item"][1]
    assert exported["language"] == "es"
    assert first["text"] == "Poco interés o placer en hacer cosas"
    assert first["_text"]["extension"] == [
        {
            "url": TRANSLATION,
            "extension": [
                {"url": "lang", "valueCode": "en"},
                {"url": "content", "valueString": "Little interest or pleasure in doing things"},
            ],
        }
    ]
    assert first["answerOption"][0]["valueCoding"]["display"] == "Para nada"


def test_answers_without_loinc_codes_use_one_fibrosurvey_code_system_per_answer_list() -> None:
    exported = questionnaire("nrs")
    pain = next(item for item in exported["item"][0]["item"] if item["linkId"] == "nrs_pain")
    first = pain["answerOption"][0]
    assert first["valueCoding"]["system"] == "https://fibrosurvey.org/fhir/CodeSystem/nrs-pain"
    assert first["valueCoding"]["code"] == "0"
    assert first["extension"] == [{"url": ORDINAL_VALUE, "valueDecimal": 0}]


def test_numeric_items_carry_bounds_and_ucum_units() -> None:
    exported = questionnaire("demo")
    height = next(
        item for item in exported["item"][0]["item"] if item["linkId"] == "demo_height_cm"
    )
    by_url = {extension["url"].rsplit("/", 1)[-1]: extension for extension in height["extension"]}
    assert by_url["minValue"]["valueDecimal"] == 100
    assert by_url["maxValue"]["valueDecimal"] == 250
    assert by_url["questionnaire-unit"]["valueCoding"] == {
        "system": "http://unitsofmeasure.org",
        "code": "cm",
        "display": "cm",
    }


def test_questionnaire_model_is_the_fhir_resources_r4b_model() -> None:
    model = questionnaire_model("gad7")
    assert isinstance(model, Questionnaire)
    assert model.name == "GAD7"


def test_unknown_language_names_the_languages_available() -> None:
    with pytest.raises(ValueError, match=r"phq9 has no language 'fr'; its languages are: en, es"):
        questionnaire("phq9", "fr")


def test_unknown_instrument_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown instrument 'phq10'.*phq9"):
        questionnaire("phq10")


def test_each_call_returns_a_fresh_questionnaire_callers_may_change() -> None:
    first = questionnaire("phq9")
    first["item"][0]["item"].clear()
    assert len(questionnaire("phq9")["item"][0]["item"]) == 11  # instructions + 10 items
