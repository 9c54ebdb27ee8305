"""Canonical URLs and code systems used in fibrosurvey's FHIR resources.

``https://fibrosurvey.org/fhir`` is a canonical base fibrosurvey defines for its own
resources. It names things; nothing needs to be served there (FHIR canonicals are identifiers,
not locators). Questionnaires are ``<base>/Questionnaire/<instrument id>``; answers with no
LOINC answer code use a fibrosurvey CodeSystem per answer list (see :func:`option_system`).
"""

from __future__ import annotations

from fibrosurvey.instruments import Instrument, Item

__all__ = [
    "BASE",
    "CODE_SYSTEM_BASE",
    "CQF_CITATION",
    "DISPLAY_CATEGORY",
    "DISPLAY_CATEGORY_SYSTEM",
    "ENABLE_WHEN_EXPRESSION",
    "LOINC",
    "MAX_VALUE",
    "MIN_VALUE",
    "ORDINAL_VALUE",
    "QUESTIONNAIRE_BASE",
    "TRANSLATION",
    "UCUM",
    "UNIT",
    "option_system",
    "questionnaire_url",
]

BASE = "https://fibrosurvey.org/fhir"
QUESTIONNAIRE_BASE = f"{BASE}/Questionnaire/"
CODE_SYSTEM_BASE = f"{BASE}/CodeSystem/"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

# Core R4 extensions (hl7.org/fhir/R4/extensibility-registry.html) used by SDC.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
DISPLAY_CATEGORY = "http://hl7.org/fhir/StructureDefinition/questionnaire-displayCategory"
DISPLAY_CATEGORY_SYSTEM = "http://hl7.org/fhir/questionnaire-display-category"
CQF_CITATION = "http://hl7.org/fhir/StructureDefinition/cqf-citation"
ENABLE_WHEN_EXPRESSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
)


def questionnaire_url(instrument: Instrument) -> str:
    return f"{QUESTIONNAIRE_BASE}{instrument.id}"


def option_system(instrument: Instrument, item: Item) -> str:
    """The CodeSystem of ``item``'s numeric answer codes.

    A code means something only within its answer list (``1`` is "female" for demo_sex but
    "primary" for demo_education), so each list gets its own system: a shared option set is
    ``<base>/CodeSystem/<instrument>-<option set>``, an item's own list is
    ``<base>/CodeSystem/<instrument>-item-<item id>``.
    """
    if item.option_set is not None:
        return f"{CODE_SYSTEM_BASE}{instrument.id}-{item.option_set}"
    return f"{CODE_SYSTEM_BASE}{instrument.id}-item-{item.id}"
