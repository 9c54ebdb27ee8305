"""HL7 FHIR R4 for fibrosurvey instruments: Questionnaire export, QuestionnaireResponse in/out.

FHIR version: the JSON written and read is FHIR R4. It is checked with the ``fhir.resources``
package (8.3), whose default package is R5 and which has no R4 (4.0.1) package, only R4B
(4.3.0) and STU3. R4B left Questionnaire, QuestionnaireResponse and Bundle exactly as in R4, so
``fhir.resources.R4B`` is the R4 validator here (:mod:`fibrosurvey.fhir.models`). The default
R5 package is not: R5 changed these resources (e.g. ``answerConstraint``, ``itemWeight``
replacing the ``ordinalValue`` extension), so it would pass R5-only content.

Canonical URLs (:mod:`fibrosurvey.fhir.urls`): ``https://fibrosurvey.org/fhir`` is a base
fibrosurvey defines; Questionnaires are ``<base>/Questionnaire/<instrument id>``, answers with
no LOINC code use ``<base>/CodeSystem/<instrument>-<option set>`` (or
``<instrument>-item-<item id>``) with the numeric code. LOINC is ``http://loinc.org``.

- :func:`questionnaire` / :func:`questionnaire_model`: an instrument as an SDC-style
  Questionnaire (linkId = column, LOINC codes, ordinalValue scores, min/max, translations).
- :func:`read_response` / :func:`read_response_detail`: a QuestionnaireResponse (ours, or
  LOINC-coded from other SDC tools) into a row of our columns, or FhirMappingError;
  :func:`read_bundle` for every response in a Bundle.
- :func:`instrument_from_questionnaire`: a Questionnaire from another SDC tool (LHC-Forms
  style), skip logic included, as an instrument definition.
- :func:`questionnaire_response`, :func:`bundle`, :func:`response_bundle`: rows out as
  QuestionnaireResponses and collection Bundles.
"""

from fibrosurvey.fhir.errors import FhirMappingError
from fibrosurvey.fhir.questionnaire import questionnaire, questionnaire_model
from fibrosurvey.fhir.questionnaire_reader import instrument_from_questionnaire, read_questionnaire
from fibrosurvey.fhir.response_reader import (
    NOT_IMPORTED_LOINC,
    ResponseReading,
    read_bundle,
    read_response,
    read_response_detail,
)
from fibrosurvey.fhir.response_writer import bundle, questionnaire_response, response_bundle

__all__ = [
    "NOT_IMPORTED_LOINC",
    "FhirMappingError",
    "ResponseReading",
    "bundle",
    "instrument_from_questionnaire",
    "questionnaire",
    "questionnaire_model",
    "questionnaire_response",
    "read_bundle",
    "read_questionnaire",
    "read_response",
    "read_response_detail",
    "response_bundle",
]
