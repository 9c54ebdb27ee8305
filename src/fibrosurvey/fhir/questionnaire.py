"""An instrument definition as an HL7 FHIR R4 Questionnaire in the style of SDC.

Layout of the exported Questionnaire (every choice is the same for all instruments):

- ``url`` is ``https://fibrosurvey.org/fhir/Questionnaire/<id>`` (a canonical fibrosurvey
  defines), ``version`` the definition's version, ``name`` the id in capitals, ``code`` the
  instrument's LOINC panel code where it has one, ``copyright`` the licence note and the
  ``cqf-citation`` extension the citation.
- One top-level ``group`` item, linkId ``<id>``, titled with the instrument title. It starts
  with a ``display`` item (linkId ``<id>-recall-period``, displayCategory ``instructions``)
  holding the recall period, then one item per question.
- A question's ``linkId`` is its flat-file column (``phq9_1``): unique across instruments, so
  responses to several instruments can sit in one Bundle, and it maps straight back to a row.
  ``code`` is the item's LOINC code where it has one.
- Choice items list ``answerOption.valueCoding``: LOINC answer codes (``LA…``) where they
  exist, otherwise the numeric code in a fibrosurvey CodeSystem (:func:`option_system`). The
  numeric score is on each option in the R4 ``ordinalValue`` extension (R5 has ``itemWeight``).
- ``integer``/``decimal`` items carry the ``minValue``/``maxValue`` extensions and, where the
  definition has a unit, the ``questionnaire-unit`` extension.
- Skip logic: ``enable_when`` is ``enableWhen`` (``question`` = the gate's linkId, i.e. its
  column; ``answerCoding`` for choice gates, the option's Coding as in ``answerOption``;
  ``answerInteger``/``answerDecimal``; ``answerBoolean`` for ``exists``) with
  ``enableBehavior`` when there is more than one condition; ``enable_when_expression`` is the
  SDC ``enableWhenExpression`` extension (text/fhirpath).
- Text is in the requested ``language`` (also set as ``Questionnaire.language``); every other
  language of the definition rides along in the standard ``translation`` extension on
  ``_text``, ``_title`` and ``_display``. The canonical URL is the same for every language.

No calculated-score item is exported: scores come from fibrosurvey's scoring engine.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fibrosurvey.fhir import urls
from fibrosurvey.fhir.models import Questionnaire, to_json_dict, validated
from fibrosurvey.instruments import Instrument, Item, Option, get_instrument
from fibrosurvey.instruments.schema import EnableWhen

__all__ = [
    "answer_coding",
    "check_language",
    "group_link_id",
    "questionnaire",
    "questionnaire_model",
    "recall_link_id",
]

# Units in the definitions that have a UCUM code; others are exported with a display only.
UCUM_UNITS = {
    "cm": "cm",
    "kg": "kg",
    "years": "a",
    "mg/day": "mg/d",
    "days/week": "d/wk",
    "min/week": "min/wk",
}


def group_link_id(instrument: Instrument) -> str:
    return instrument.id


def recall_link_id(instrument: Instrument) -> str:
    # A hyphen cannot occur in a column name, so this never collides with a question's linkId.
    return f"{instrument.id}-recall-period"


def _translations(texts: dict[str, str], language: str) -> dict[str, Any] | None:
    """The ``_element`` holding translation extensions for every language but ``language``."""
    others = [
        {
            "url": urls.TRANSLATION,
            "extension": [
                {"url": "lang", "valueCode": code},
                {"url": "content", "valueString": text},
            ],
        }
        for code, text in texts.items()
        if code != language
    ]
    return {"extension": others} if others else None


def _with_text(element: dict[str, Any], key: str, texts: dict[str, str], language: str) -> None:
    element[key] = texts[language]
    translations = _translations(texts, language)
    if translations is not None:
        element[f"_{key}"] = translations


def answer_coding(
    instrument: Instrument, item: Item, option: Option, language: str = "en"
) -> dict[str, Any]:
    """The Coding an answer option is exported (and written in responses) as."""
    if option.loinc is not None:
        coding: dict[str, Any] = {"system": urls.LOINC, "code": option.loinc}
    else:
        coding = {"system": urls.option_system(instrument, item), "code": str(option.code)}
    _with_text(coding, "display", dict(option.label), language)
    return coding


def _bound(url: str, kind: str, value: float) -> dict[str, Any]:
    if kind == "integer":
        return {"url": url, "valueInteger": int(value)}
    return {"url": url, "valueDecimal": value}


def _enable_when(condition: EnableWhen) -> dict[str, Any]:
    element: dict[str, Any] = {"question": condition.question, "operator": condition.operator}
    if condition.operator == "exists":
        element["answerBoolean"] = bool(condition.answer)
        return element
    gate_instrument = get_instrument(condition.question.split("_", 1)[0])
    gate = next(i for i in gate_instrument.items if i.column == condition.question)
    if gate.kind == "choice":
        option = next(o for o in gate.options if o.code == condition.answer)
        coding = answer_coding(gate_instrument, gate, option)
        coding.pop("display", None)
        coding.pop("_display", None)
        element["answerCoding"] = coding
    elif gate.kind == "integer":
        element["answerInteger"] = int(condition.answer)
    else:
        element["answerDecimal"] = float(condition.answer)
    return element


def _question(instrument: Instrument, item: Item, language: str) -> dict[str, Any]:
    element: dict[str, Any] = {"linkId": item.column}
    if item.loinc is not None:
        element["code"] = [{"system": urls.LOINC, "code": item.loinc}]
    _with_text(element, "text", dict(item.text), language)
    extensions: list[dict[str, Any]] = []
    if item.kind == "choice":
        element["type"] = "choice"
        element["answerOption"] = [
            {
                "extension": [{"url": urls.ORDINAL_VALUE, "valueDecimal": option.code}],
                "valueCoding": answer_coding(instrument, item, option, language),
            }
            for option in item.options
        ]
    elif item.kind in ("text", "date"):
        element["type"] = "string" if item.kind == "text" else "date"
    else:
        assert item.minimum is not None and item.maximum is not None  # the schema ensures it
        element["type"] = "integer" if item.kind == "integer" else "decimal"
        extensions.append(_bound(urls.MIN_VALUE, item.kind, item.minimum))
        extensions.append(_bound(urls.MAX_VALUE, item.kind, item.maximum))
        if item.unit is not None:
            unit: dict[str, Any] = {"display": item.unit}
            if item.unit in UCUM_UNITS:
                unit = {"system": urls.UCUM, "code": UCUM_UNITS[item.unit], "display": item.unit}
            extensions.append({"url": urls.UNIT, "valueCoding": unit})
    if item.required:
        element["required"] = True
    if item.enable_when:
        element["enableWhen"] = [_enable_when(condition) for condition in item.enable_when]
        if len(item.enable_when) > 1:
            element["enableBehavior"] = item.enable_behavior
    if item.enable_when_expression is not None:
        extensions.append(
            {
                "url": urls.ENABLE_WHEN_EXPRESSION,
                "valueExpression": {
                    "language": "text/fhirpath",
                    "expression": item.enable_when_expression,
                },
            }
        )
    if extensions:
        element["extension"] = extensions
    return element


def _recall_period(instrument: Instrument, language: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "extension": [
            {
                "url": urls.DISPLAY_CATEGORY,
                "valueCodeableConcept": {
                    "coding": [{"system": urls.DISPLAY_CATEGORY_SYSTEM, "code": "instructions"}]
                },
            }
        ],
        "linkId": recall_link_id(instrument),
        "type": "display",
    }
    _with_text(element, "text", dict(instrument.recall_period), language)
    return element


def check_language(instrument: Instrument, language: str) -> None:
    if language not in instrument.languages:
        known = ", ".join(instrument.languages)
        raise ValueError(
            f"{instrument.id} has no language {language!r}; its languages are: {known}"
        )


def _resource(instrument: Instrument, language: str) -> dict[str, Any]:
    check_language(instrument, language)
    group: dict[str, Any] = {"linkId": group_link_id(instrument), "type": "group"}
    _with_text(group, "text", dict(instrument.title), language)
    group["item"] = [
        _recall_period(instrument, language),
        *(_question(instrument, item, language) for item in instrument.items),
    ]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": instrument.id,
        "language": language,
        "extension": [{"url": urls.CQF_CITATION, "valueString": instrument.citation}],
        "url": urls.questionnaire_url(instrument),
        "version": instrument.version,
        "name": instrument.id.upper(),
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "fibrosurvey",
        "copyright": instrument.licence,
        "item": [group],
    }
    _with_text(resource, "title", dict(instrument.title), language)
    if language in instrument.description:
        resource["description"] = instrument.description[language]
    if instrument.loinc is not None:
        # No display: LOINC's own display names differ from our titles, and a display that
        # is not the code system's is a validation warning elsewhere.
        resource["code"] = [{"system": urls.LOINC, "code": instrument.loinc}]
    return resource


def questionnaire_model(instrument_id: str, language: str = "en") -> Questionnaire:
    """The instrument as a validated ``fhir.resources`` R4B (= R4 for this resource) model.

    Raises KeyError for an unknown instrument and ValueError for a language it does not have.
    """
    return validated(Questionnaire, _resource(get_instrument(instrument_id), language))


@cache
def _questionnaire_json(instrument_id: str, language: str) -> str:
    # Definitions are fixed for the life of the process (the loader caches them too), and
    # validating a large Questionnaire takes a noticeable fraction of a second.
    return json.dumps(to_json_dict(questionnaire_model(instrument_id, language)))


def questionnaire(instrument_id: str, language: str = "en") -> dict[str, Any]:
    """The instrument as FHIR R4 Questionnaire JSON data (see the module docstring).

    Each call returns a fresh dict; callers may change it.
    """
    loaded: dict[str, Any] = json.loads(_questionnaire_json(instrument_id, language))
    return loaded
