"""The analysis-dataset contract: one row per participant x event.

Every producer (the synthetic cohort, the web export, a REDCap conversion) writes these
columns, and every consumer (scoring, analysis, report) reads them. Item and score columns
are ``<instrument>_<item>`` and ``<instrument>_<score>`` as defined by the instrument files;
the columns below are the ones that do not come from an instrument.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ANALYTES",
    "ANALYTE_NAMES",
    "BASELINE",
    "DESIGN_COLUMNS",
    "EVENTS",
    "FOLLOWUP",
    "ID_COLUMNS",
    "LAB_FLAG_COLUMNS",
    "PREANALYTICAL_COLUMNS",
    "biomarker_columns",
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


def biomarker_columns() -> list[str]:
    """All biomarker value, LLOQ and flag columns, in a stable order."""
    columns: list[str] = []
    for analyte in ANALYTES:
        columns += [analyte, f"{analyte}_lloq", f"{analyte}_below_lloq"]
    return [*columns, *LAB_FLAG_COLUMNS]
