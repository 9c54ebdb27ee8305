"""The analysis-dataset contract: one row per participant x event.

Every producer (the synthetic cohort, the web export, a REDCap conversion) writes these
columns, and every consumer (scoring, analysis, report) reads them. Item and score columns
are ``<instrument>_<item>`` and ``<instrument>_<score>`` as defined by the instrument files;
the columns below are the ones that do not come from an instrument.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = [
    "ANALYTES",
    "ANALYTE_NAMES",
    "BASELINE",
    "DESIGN_COLUMNS",
    "EVENTS",
    "FOLLOWUP",
    "ID_COLUMNS",
    "INTEGER_PREANALYTICAL_COLUMNS",
    "LAB_FLAG_COLUMNS",
    "MAX_MINUTES_TO_CENTRIFUGE",
    "PREANALYTICAL_COLUMNS",
    "TEXT_PREANALYTICAL_COLUMNS",
    "biomarker_columns",
    "column_dtype",
]

BASELINE: Final = "baseline"
FOLLOWUP: Final = "followup_3m"
EVENTS: Final = (BASELINE, FOLLOWUP)

# participant_id is pseudonymous; site is the recruitment site (a data access group).
ID_COLUMNS: Final = ("participant_id", "event", "site")

# Survey design: stratum (region), primary sampling unit (cluster), sampling weight, and the
# finite population correction as R survey reads fpc= with ids=~design_psu: the number of PSUs
# in the stratum's population.
DESIGN_COLUMNS: Final = ("design_stratum", "design_psu", "design_weight", "design_fpc")

# Endocannabinoids, stored in pmol/mL (= nM). Value column name -> molecular weight (g/mol).
ANALYTES: Final[dict[str, float]] = {
    "aea": 347.5,
    "twoag": 378.5,
    "pea": 299.5,
    "oea": 325.5,
    "sea": 327.6,
}
# The names people use for the analytes: errors, pages and the report say these, never the
# column codes (a lab technician does not know that "twoag" means 2-AG).
ANALYTE_NAMES: Final[dict[str, str]] = {
    "aea": "AEA (anandamide)",
    "twoag": "2-AG (2-arachidonoylglycerol)",
    "pea": "PEA (palmitoylethanolamide)",
    "oea": "OEA (oleoylethanolamide)",
    "sea": "SEA (stearoylethanolamide)",
}

# For each analyte a: `<a>_lloq` (pmol/mL) and `<a>_below_lloq` (0/1; the value column
# then holds the LLOQ). 2-AG measured together with 1-AG is flagged once per sample.
LAB_FLAG_COLUMNS: Final = ("twoag_includes_1ag",)

# Pre-analytical metadata, one set per sample (DESIGN.md section 5).
PREANALYTICAL_COLUMNS: Final = (
    "lab_matrix",  # plasma | serum | whole_blood
    "lab_tube",  # e.g. K2EDTA, lithium_heparin, citrate, serum_clot
    "lab_draw_time",  # clock time HH:MM
    "lab_fasting",  # 0/1
    "lab_hours_since_meal",
    "lab_minutes_to_centrifuge",
    "lab_processing_temp_c",
    "lab_freeze_thaw",  # number of freeze-thaw cycles
    "lab_storage_days",
    "lab_storage_temp_c",
    "lab_assay",  # e.g. LC-MS/MS method name
    "lab_batch",
)
TEXT_PREANALYTICAL_COLUMNS: Final = (
    "lab_matrix",
    "lab_tube",
    "lab_draw_time",
    "lab_assay",
    "lab_batch",
)
INTEGER_PREANALYTICAL_COLUMNS: Final = ("lab_fasting", "lab_freeze_thaw")

# Ethanolamides keep being made in blood left unprocessed: samples slower than this from draw to
# centrifugation are flagged on the labs dashboard and left out in the analysis plan's quality
# sensitivity analysis (the plan's default ``quality.max_minutes_to_centrifuge``).
MAX_MINUTES_TO_CENTRIFUGE: Final = 30


def biomarker_columns() -> list[str]:
    """All biomarker value, LLOQ and flag columns, in a stable order."""
    columns: list[str] = []
    for analyte in ANALYTES:
        columns += [analyte, f"{analyte}_lloq", f"{analyte}_below_lloq"]
    return [*columns, *LAB_FLAG_COLUMNS]


_INTEGER_COLUMNS: Final = frozenset(
    {
        "design_stratum",
        "design_psu",
        *INTEGER_PREANALYTICAL_COLUMNS,
        *LAB_FLAG_COLUMNS,
        *(f"{analyte}_below_lloq" for analyte in ANALYTES),
    }
)


def column_dtype(column: str) -> pl.DataType:
    """The type of a design, biomarker or pre-analytical column, for every producer: text,
    Int64 (codes, counts and 0/1 flags) or Float64 (measurements and weights)."""
    if column in TEXT_PREANALYTICAL_COLUMNS:
        return pl.String()
    if column in _INTEGER_COLUMNS:
        return pl.Int64()
    if column in (*DESIGN_COLUMNS, *PREANALYTICAL_COLUMNS, *biomarker_columns()):
        return pl.Float64()
    raise KeyError(f"{column!r} is not a design, biomarker or pre-analytical column")
