"""Our answers written as FHIR R4 QuestionnaireResponse resources, and Bundles of them.

A response answers fibrosurvey's own Questionnaire (``questionnaire`` is its canonical
``url|version``) and mirrors its structure: the answers sit in the instrument's group item
(linkId ``<id>``), one item per answered question, linkId = the column. Unanswered questions
are left out (FHIR has no "missing" answer). Choice answers are the option's Coding (LOINC
``LA`` code where one exists); integer items are ``valueInteger``; number items
``valueDecimal``. Answers are validated first: a bad answer raises, it is never written.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from fibrosurvey.fhir import urls
from fibrosurvey.fhir.errors import FhirMappingError
from fibrosurvey.fhir.models import Bundle, QuestionnaireResponse, to_json_dict, validated
from fibrosurvey.fhir.questionnaire import answer_coding, check_language, group_link_id
from fibrosurvey.instruments import Instrument, Item, get_instrument
from fibrosurvey.problems import Problem
from fibrosurvey.validation import validate_frame, validate_response

__all__ = ["bundle", "questionnaire_response", "response_bundle"]

Answer = int | float | str | None

# QuestionnaireResponse.status codes in R4 (required binding).
RESPONSE_STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")
DATE_TIME_FORMS = "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a timezone (Z or +hh:mm)"


def _problems_in(answers: Mapping[str, Answer], instrument: Instrument) -> list[Problem]:
    report = validate_response(answers, instrument.id, refuse="not_applicable")
    return list(report.problems)


def _answer(
    instrument: Instrument, item: Item, value: int | float | str, language: str
) -> dict[str, Any]:
    if item.kind == "text":
        return {"valueString": str(value)}
    if item.kind == "date":
        return {"valueDate": str(value)}
    # Values have passed validation, so they parse as numbers (CSV cells may be text).
    number = float(value)
    if item.kind == "choice":
        option = next(option for option in item.options if option.code == number)
        coding = answer_coding(instrument, item, option, language)
        coding.pop("_display", None)  # translations belong in the Questionnaire, not each answer
        return {"valueCoding": coding}
    if item.kind == "integer":
        return {"valueInteger": int(number)}
    return {"valueDecimal": number}


def _response(
    answers: Mapping[str, Answer],
    instrument: Instrument,
    subject_reference: str,
    authored: str | None,
    status: str,
    language: str,
) -> dict[str, Any]:
    answered = [
        {
            "linkId": item.column,
            "text": item.text[language],
            "answer": [_answer(instrument, item, value, language)],
        }
        for item in instrument.items
        if (value := answers.get(item.column)) is not None and str(value).strip() != ""
    ]
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{urls.questionnaire_url(instrument)}|{instrument.version}",
        "status": status,
        "subject": {"reference": subject_reference},
    }
    if language != "en":
        resource["language"] = language
    if authored is not None:
        resource["authored"] = authored
    if answered:
        resource["item"] = [{"linkId": group_link_id(instrument), "item": answered}]
    return resource


def questionnaire_response(
    answers: Mapping[str, Answer],
    instrument_id: str,
    subject_reference: str,
    authored: str | None = None,
    status: str = "completed",
    language: str = "en",
) -> dict[str, Any]:
    """One participant's answers (keys are item columns) as QuestionnaireResponse JSON data.

    ``subject_reference`` is a FHIR reference such as ``Patient/P0001``; ``authored`` a FHIR
    dateTime (``2025-03-01`` or ``2025-03-01T10:00:00Z``); ``language`` the language of the
    item texts and answer displays copied into the response. Raises FhirMappingError listing
    every bad answer, or a resource fhir.resources rejects (e.g. a malformed date).
    """
    instrument = get_instrument(instrument_id)
    check_language(instrument, language)
    problems = _problems_in(answers, instrument)
    if status not in RESPONSE_STATUSES:
        allowed = ", ".join(RESPONSE_STATUSES)
        problems.append(Problem(None, "status", status, allowed, "not an R4 response status"))
    if problems:
        raise FhirMappingError(problems, f"answers to {instrument_id} are not valid")
    resource = _response(answers, instrument, subject_reference, authored, status, language)
    return to_json_dict(validated(QuestionnaireResponse, resource))


def _collection(resources: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": dict(resource)}
        for resource in resources
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def bundle(resources: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A Bundle of type ``collection`` holding ``resources``, each with a fresh urn:uuid.

    The Bundle, and every resource in it, is validated with fhir.resources; the data returned
    is the data given (serialising through fhir.resources again costs ~10 ms a resource).
    """
    result = _collection(resources)
    validated(Bundle, result)
    return result


def _date_time(value: object) -> str | None:
    """A table cell as FHIR dateTime text: dates and datetimes in ISO form, text as it is."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, datetime.date):  # datetime.datetime is a date too
        return value.isoformat()
    return str(value)


def response_bundle(
    rows: Iterable[Mapping[str, Any]],
    instrument_id: str,
    *,
    id_column: str = "participant_id",
    subject_prefix: str = "Patient/",
    authored_column: str | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """A collection Bundle with one QuestionnaireResponse per row of a flat table.

    Each row's subject is ``subject_prefix + row[id_column]`` and ``authored`` the
    ``authored_column`` cell (a date, a timezone-aware datetime or FHIR dateTime text; FHIR
    requires a timezone when a time is given). Other instruments' columns and
    score columns in the row are ignored. Rows with no answer to this instrument are skipped.
    Every problem in every row is reported at once, prefixed with its row number (from 1).
    """
    instrument = get_instrument(instrument_id)
    check_language(instrument, language)
    columns = instrument.item_columns()
    table = list(rows)
    # One vectorised validation of every answer, as for a table import (text cells, as CSV).
    frame = pl.DataFrame(
        {column: [_cell(row.get(column)) for row in table] for column in columns},
        schema=dict.fromkeys(columns, pl.String),
    )
    report = validate_frame(frame, [instrument_id])
    bad_rows = {problem.row for problem in report.problems}
    problems = list(report.problems)
    responses: list[dict[str, Any]] = []
    row_of_entry: list[int] = []
    for number, row in enumerate(table, start=1):
        answers = {column: _cell(row.get(column)) for column in columns}
        if all(value is None for value in answers.values()):
            continue
        participant = _cell(row.get(id_column))
        if participant is None:
            problems.append(Problem(number, id_column, "", "an id", "no participant id"))
            continue
        if number in bad_rows:
            continue
        authored = None if authored_column is None else _date_time(row.get(authored_column))
        responses.append(
            _response(
                answers,
                instrument,
                f"{subject_prefix}{participant}",
                authored,
                "completed",
                language,
            )
        )
        row_of_entry.append(number)
    if problems:
        problems.sort(key=lambda problem: problem.row or 0)
        raise FhirMappingError(problems, f"rows cannot be exported as {instrument_id} responses")
    result = _collection(responses)
    try:
        validated(Bundle, result)
    except FhirMappingError as error:
        raise FhirMappingError(
            [_in_row(problem, row_of_entry) for problem in error.problems],
            f"rows cannot be exported as {instrument_id} responses",
        ) from error
    return result


def _cell(value: object) -> str | None:
    """A table cell as text, None when empty (as a CSV reader would give it)."""
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip()


def _in_row(problem: Problem, row_of_entry: list[int]) -> Problem:
    """A Bundle validation problem (``entry.3.resource.authored``) restated by table row."""
    match = re.match(r"entry\.(\d+)\.resource\.(.*)", problem.column)
    if match is None:
        return problem
    field_path = match.group(2)
    allowed = DATE_TIME_FORMS if field_path == "authored" else problem.allowed
    row = row_of_entry[int(match.group(1))]
    return Problem(row, field_path, problem.value, allowed, problem.message)
