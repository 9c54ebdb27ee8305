"""Checking resources against the FHIR R4 structure with ``fhir.resources``.

``fhir.resources`` 8 ships R5 as its default package and R4B (4.3.0) and STU3 as
sub-packages; it has no plain R4 (4.0.1) package. R4B changed no element of Questionnaire,
QuestionnaireResponse or Bundle from R4, so we validate with ``fhir.resources.R4B`` and the
JSON we write and read is R4 JSON (the R5 Questionnaire differs: e.g. ``answerConstraint``,
and ``itemWeight`` instead of the ``ordinalValue`` extension).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar, cast

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from fibrosurvey.fhir.errors import FhirMappingError, shown
from fibrosurvey.problems import Problem

__all__ = ["Bundle", "Questionnaire", "QuestionnaireResponse", "to_json_dict", "validated"]

Model = TypeVar("Model", bound=FHIRAbstractModel)


def validated(model: type[Model], resource: dict[str, Any]) -> Model:
    """``resource`` parsed as ``model``; structural errors become a FhirMappingError."""
    try:
        return model.model_validate(resource)
    except ValidationError as error:
        problems = [
            Problem(
                row=None,
                column=".".join(str(part) for part in problem["loc"]) or "(resource)",
                value=shown(problem.get("input")),
                allowed="",
                message=problem["msg"],
            )
            for problem in error.errors()
        ]
        raise FhirMappingError(
            problems, f"not a valid FHIR R4 {model.get_resource_type()}"
        ) from error


def to_json_dict(model: FHIRAbstractModel) -> dict[str, Any]:
    """The resource as plain JSON data (decimals as JSON numbers, no Python-only types)."""
    return cast(dict[str, Any], json.loads(model.model_dump_json()))
