"""Endocannabinoid biomarkers: units and conversion to pmol/mL (:mod:`.units`), the lab results
table and its validation (:mod:`.lab_table`), and the template a lab fills in (:mod:`.template`).
"""

from __future__ import annotations

from fibrosurvey.biomarkers.lab_table import (
    LAB_DATE_COLUMNS,
    LAB_DRAW_TIME_ALLOWED,
    LAB_NUMERIC_COLUMNS,
    LAB_OPTIONAL_COLUMNS,
    LAB_REQUIRED_COLUMNS,
    MATRICES,
    LabValidationResult,
    to_wide,
    validate_lab_frame,
)
from fibrosurvey.biomarkers.template import (
    LAB_COLUMN_MEANINGS,
    LAB_TEMPLATE_COLUMNS,
    lab_guide_rows,
    lab_template_csv,
    lab_template_frame,
)
from fibrosurvey.biomarkers.units import (
    UNITS,
    UnitError,
    accepted_analyte_spellings,
    canonical_unit,
    conversion_factor,
    to_pmol_per_ml,
)
from fibrosurvey.dataset import ANALYTE_NAMES, ANALYTES

__all__ = [
    "ANALYTES",
    "ANALYTE_NAMES",
    "LAB_COLUMN_MEANINGS",
    "LAB_DATE_COLUMNS",
    "LAB_DRAW_TIME_ALLOWED",
    "LAB_NUMERIC_COLUMNS",
    "LAB_OPTIONAL_COLUMNS",
    "LAB_REQUIRED_COLUMNS",
    "LAB_TEMPLATE_COLUMNS",
    "MATRICES",
    "UNITS",
    "LabValidationResult",
    "UnitError",
    "accepted_analyte_spellings",
    "canonical_unit",
    "conversion_factor",
    "lab_guide_rows",
    "lab_template_csv",
    "lab_template_frame",
    "to_pmol_per_ml",
    "to_wide",
    "validate_lab_frame",
]
