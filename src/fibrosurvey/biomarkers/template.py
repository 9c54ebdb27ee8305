"""The lab results template: an example file and what every column means.

A lab sends results in the long format of :mod:`fibrosurvey.biomarkers.lab_table`. The template
gives the header, example rows a lab can overwrite, and a guide to each column, the analytes'
accepted spellings and the units, so a first import does not fail on guesswork.
"""

from __future__ import annotations

import polars as pl

from fibrosurvey.biomarkers.lab_table import (
    LAB_NUMERIC_COLUMNS,
    LAB_OPTIONAL_COLUMNS,
    LAB_REQUIRED_COLUMNS,
    MATRICES,
)
from fibrosurvey.biomarkers.units import ALLOWED_UNITS_TEXT, accepted_analyte_spellings
from fibrosurvey.dataset import ANALYTE_NAMES, EVENTS

__all__ = [
    "LAB_COLUMN_MEANINGS",
    "LAB_TEMPLATE_COLUMNS",
    "lab_guide_rows",
    "lab_template_csv",
    "lab_template_frame",
]

LAB_TEMPLATE_COLUMNS: tuple[str, ...] = (*LAB_REQUIRED_COLUMNS, *LAB_OPTIONAL_COLUMNS)

LAB_COLUMN_MEANINGS: dict[str, str] = {
    "participant_id": "the participant's study code, as on the tube label",
    "event": f"the visit the sample belongs to: {' | '.join(EVENTS)}",
    "analyte": "which endocannabinoid was measured (see the accepted spellings)",
    "value": "the concentration as reported; '<LLOQ' or '<0.05' when below the LLOQ",
    "unit": f"the unit of value and lloq: {ALLOWED_UNITS_TEXT}",
    "lloq": "the assay's lower limit of quantification, in the same unit as value",
    "lab_matrix": f"what was measured: {' | '.join(MATRICES)}",
    "lab_assay": "the assay method, e.g. the LC-MS/MS method's name",
    "lab_batch": "the analytical batch (run) the sample was measured in",
    "lab_tube": "tube and anticoagulant, e.g. K2EDTA, lithium_heparin, citrate, serum_clot",
    "lab_draw_time": (
        "date and time of the blood draw, YYYY-MM-DDTHH:MM (ISO 8601, local clock time), "
        "or the clock time alone, HH:MM (24 h)"
    ),
    "lab_fasting": "fasting at the draw: 1 or yes (sí), 0 or no",
    "lab_hours_since_meal": "hours between the last meal and the draw",
    "lab_minutes_to_centrifuge": (
        "minutes from draw to centrifugation; ethanolamide levels rise in blood left unprocessed"
    ),
    "lab_processing_temp_c": "temperature (°C) of the blood between draw and centrifugation",
    "lab_freeze_thaw": "how many times the aliquot was frozen and thawed before analysis",
    "lab_storage_days": "days the sample was stored frozen before analysis",
    "lab_storage_temp_c": "storage temperature (°C), e.g. -80",
    "below_lloq": "1 when the value is below the LLOQ (optional: '<LLOQ' in value says the same)",
    "includes_1ag": "2-AG rows only: 1 when the assay did not separate 2-AG from 1-AG",
}

_EXAMPLE_SAMPLE = {
    "participant_id": "EXAMPLE-001",
    "event": EVENTS[0],
    "lab_matrix": "plasma",
    "lab_assay": "LC-MS/MS",
    "lab_batch": "B01",
    "lab_tube": "K2EDTA",
    "lab_draw_time": "2026-03-02T08:30",
    "lab_fasting": "yes",
    "lab_hours_since_meal": "10",
    "lab_minutes_to_centrifuge": "20",
    "lab_processing_temp_c": "4",
    "lab_freeze_thaw": "1",
    "lab_storage_days": "90",
    "lab_storage_temp_c": "-80",
}
_EXAMPLE_RESULTS = (
    {"analyte": "AEA", "value": "0.45", "unit": "ng/mL", "lloq": "0.01"},
    {"analyte": "2-AG", "value": "<LLOQ", "unit": "ng/mL", "lloq": "0.5", "includes_1ag": "1"},
)


def lab_template_frame() -> pl.DataFrame:
    """The template as a table of text: every column, and two example rows of one sample
    (AEA, and 2-AG below its LLOQ) with every pre-analytical column filled in."""
    rows = [{**_EXAMPLE_SAMPLE, **result} for result in _EXAMPLE_RESULTS]
    return pl.DataFrame(
        {column: [row.get(column) for row in rows] for column in LAB_TEMPLATE_COLUMNS},
        schema=dict.fromkeys(LAB_TEMPLATE_COLUMNS, pl.String),
    )


def lab_template_csv() -> str:
    """The template file (:func:`lab_template_frame` as CSV)."""
    return lab_template_frame().write_csv()


def lab_guide_rows() -> list[dict[str, str]]:
    """One row per column: its name, whether it is required, what it means and what it takes."""
    spellings = accepted_analyte_spellings()
    analytes = "; ".join(
        f"{ANALYTE_NAMES[code]}: {', '.join(sorted(spellings[code]))}" for code in ANALYTE_NAMES
    )
    rows = []
    for column in LAB_TEMPLATE_COLUMNS:
        accepted = ""
        if column == "analyte":
            accepted = analytes
        elif column in LAB_NUMERIC_COLUMNS and column != "lab_fasting":
            low, high = LAB_NUMERIC_COLUMNS[column]
            accepted = f"{low:g} to {high:g}"
        rows.append(
            {
                "column": column,
                "required": "required" if column in LAB_REQUIRED_COLUMNS else "optional",
                "meaning": LAB_COLUMN_MEANINGS[column],
                "accepted": accepted,
            }
        )
    return rows
