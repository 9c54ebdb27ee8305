"""Plasma endocannabinoids with pre-analytical artefacts for the participants with a lab draw.

Concentrations are log-normal (pmol/mL). Reference medians sit in the plasma order of magnitude
reported by LC-MS/MS studies (AEA ~0.5-2, 2-AG ~5-50, PEA ~10-30, OEA and SEA ~5-20 pmol/mL;
e.g. Hillard 2018, Neuropsychopharmacology 43:155; Stensson et al. 2018, J Pain 19:1318 for FM
cohorts). On the natural-log scale:

``log c = log median + sd_bio * bio + BMI and sex effects + artefacts + batch + cannabis``,
``bio = loading * tone + sqrt(1 - loading^2) * noise + fm_shift * fm_class`` (scenario).

Artefacts (directions from the pre-analytical literature, sizes illustrative):

* minutes from draw to centrifugation: ethanolamides (AEA, PEA, OEA, SEA) keep being made by
  blood cells, ``+log(2) * minutes / 60`` at 4 °C (about a doubling after 60 min), 1.5 times
  faster at room temperature (Vogeser et al. 2006, Clin Biochem 39:1040; Hanus/Zoerner review
  of pre-analytics);
* a recent meal raises 2-AG (``+0.4 * exp(-hours / 2)``) and OEA falls a little after eating;
* each freeze-thaw cycle after the first raises 2-AG by ~12% (acyl migration, release);
* serum instead of plasma: ~+40% ethanolamides, ~+50% 2-AG (ex-vivo formation while clotting);
* 2-AG from an assay that does not separate 1-AG (``twoag_includes_1ag = 1``): x1.35;
* a diurnal rhythm in 2-AG (peak in early afternoon; Hanlon et al. 2015, J Clin Endocrinol
  Metab 100:220);
* recreational cannabis used in the past 7 days: AEA -15%, 2-AG +10%; BMI: +1.5%/kg/m2 for
  2-AG, +0.8% for AEA, +0.6% for PEA and OEA (higher in obesity, Engeli et al. 2005,
  Diabetes 54:2838); men about 10% higher AEA and 2-AG;
* analytical batch effect: N(0, 0.08) per batch and analyte.

Values below the LLOQ are stored as the LLOQ with ``<a>_below_lloq = 1`` (the import rule of
:mod:`fibrosurvey.biomarkers`).
"""

from __future__ import annotations

import numpy as np

from fibrosurvey.dataset import ANALYTES, PREANALYTICAL_COLUMNS
from fibrosurvey.synth.scenarios import Scenario

__all__ = ["LAB_LABELS", "LLOQ", "REFERENCE_MEDIAN", "draw_labs"]

# Text columns are drawn as small integer codes (memory) and labelled when the table is built.
LAB_LABELS: dict[str, tuple[str, ...]] = {
    "lab_matrix": ("plasma", "serum"),
    "lab_tube": ("K2EDTA", "serum_clot"),
    "lab_assay": ("LC-MS/MS-A", "LC-MS/MS-B (2-AG+1-AG)"),
}

Arrays = dict[str, np.ndarray]

REFERENCE_MEDIAN = {"aea": 0.9, "twoag": 10.0, "pea": 14.0, "oea": 7.0, "sea": 7.0}
BIOLOGICAL_SD = {"aea": 0.4, "twoag": 0.55, "pea": 0.35, "oea": 0.4, "sea": 0.4}
LLOQ = {"aea": 0.45, "twoag": 3.0, "pea": 6.0, "oea": 3.0, "sea": 3.0}
_DELAY_RATE = {"aea": 1.0, "twoag": 0.0, "pea": 0.8, "oea": 0.8, "sea": 0.6}
_BMI_SLOPE = {"aea": 0.008, "twoag": 0.015, "pea": 0.006, "oea": 0.006, "sea": 0.004}
_MALE = {"aea": 0.1, "twoag": 0.1, "pea": 0.0, "oea": 0.0, "sea": 0.0}
_SERUM = {"aea": 0.34, "twoag": 0.4, "pea": 0.34, "oea": 0.34, "sea": 0.34}
_CANNABIS = {"aea": -0.16, "twoag": 0.1, "pea": 0.0, "oea": 0.0, "sea": 0.0}
_BATCH_SIZE = 80


def draw_labs(
    rng: np.random.Generator,
    scenario: Scenario,
    latent: Arrays,
    cannabis_days_since: np.ndarray,
    recreational: np.ndarray,
    site_index: np.ndarray,
) -> tuple[Arrays, Arrays]:
    """(measured, unmasked) for everyone; rows without a draw are masked by the caller.

    ``measured`` holds the dataset columns (values with LLOQ censoring, flags, pre-analytical);
    ``unmasked`` the latent log concentrations before censoring (for the truth computation).
    """
    n = site_index.size
    pre = _preanalytical(rng, n, site_index)
    if scenario.serum_share_by_fm is not None:
        # Drawn only in such a scenario, so the other scenarios' random streams are unchanged.
        share_fm, share_other = scenario.serum_share_by_fm
        share = np.where(latent["fm_class"] == 1, share_fm, share_other)
        serum_draw = (rng.random(n) < share).astype(np.int8)
        for column in ("lab_matrix_code", "lab_matrix", "lab_tube"):
            pre[column] = serum_draw
    minutes = pre["lab_minutes_to_centrifuge"]
    room_temp = pre["lab_processing_temp_c"] > 10
    delay = np.log(2.0) * minutes / 60.0 * np.where(room_temp, 1.5, 1.0)
    serum = pre["lab_matrix_code"] == 1
    batch = pre["batch_index"]
    n_batches = int(batch.max()) + 1 if n else 0
    recent_cannabis = (recreational == 1) & (np.nan_to_num(cannabis_days_since, nan=9999.0) <= 7)
    male = latent["demo_sex"] == 2
    bmi = latent["bmi_true"]
    draw_hour = pre["draw_hour"]

    measured: Arrays = {}
    log_values: Arrays = {}
    for analyte in ANALYTES:
        loading = scenario.tone_loading.get(analyte, 0.0)
        bio = loading * latent["tone"] + np.sqrt(1 - loading**2) * rng.standard_normal(n)
        bio = bio + scenario.fm_shift_sd.get(analyte, 0.0) * latent["fm_class"]
        log_c = (
            np.log(REFERENCE_MEDIAN[analyte])
            + BIOLOGICAL_SD[analyte] * bio
            + _BMI_SLOPE[analyte] * (bmi - 27.0)
            + _MALE[analyte] * male
            + _DELAY_RATE[analyte] * delay
            + _SERUM[analyte] * serum
            + _CANNABIS[analyte] * recent_cannabis
            + rng.normal(0.0, 0.08, n_batches)[batch]
        )
        if analyte == "twoag":
            hours = pre["lab_hours_since_meal"]
            log_c += 0.4 * np.exp(-hours / 2.0)
            log_c += 0.12 * np.maximum(pre["lab_freeze_thaw"] - 1, 0)
            log_c += 0.15 * np.cos(2 * np.pi * (draw_hour - 13.5) / 24.0)
            log_c += np.log(1.35) * pre["twoag_includes_1ag"]
        if analyte == "oea":
            log_c -= 0.15 * np.exp(-pre["lab_hours_since_meal"] / 3.0)
        value = np.exp(log_c)
        lloq = np.full(n, LLOQ[analyte])
        below = value < lloq
        measured[analyte] = np.where(below, lloq, np.round(value, 4))
        measured[f"{analyte}_lloq"] = lloq
        measured[f"{analyte}_below_lloq"] = below.astype(np.int8)
        log_values[analyte] = log_c
    measured["twoag_includes_1ag"] = pre["twoag_includes_1ag"]
    for column in PREANALYTICAL_COLUMNS:
        measured[column] = pre[column]
    return measured, log_values


def _preanalytical(rng: np.random.Generator, n: int, site_index: np.ndarray) -> Arrays:
    n_sites = int(site_index.max()) + 1 if n else 0
    # Each site uses one matrix and one of two assays; 15% of sites send serum.
    site_serum = rng.random(n_sites) < 0.15
    site_assay_b = rng.random(n_sites) < 0.25  # assay B does not separate 2-AG from 1-AG
    site_on_ice = rng.random(n_sites) < 0.7
    serum = site_serum[site_index] if n else np.zeros(0, bool)
    assay_b = site_assay_b[site_index] if n else np.zeros(0, bool)
    on_ice = site_on_ice[site_index] if n else np.zeros(0, bool)

    minutes = np.clip(np.rint(rng.lognormal(np.log(25.0), 0.6, n)), 5, 240)
    temperature = np.where(on_ice, 4.0, 21.0) + np.round(rng.normal(0, 0.8, n), 1)
    draw_minutes = np.clip(np.rint(rng.normal(10.0 * 60, 100, n)), 7 * 60, 17 * 60)
    draw_hour = draw_minutes / 60.0
    fasting_asked = rng.random(n) < 0.6
    hours_since_meal = np.where(
        fasting_asked,
        np.clip(rng.normal(11.0, 2.0, n), 8.0, 16.0),
        np.clip(rng.gamma(2.0, 1.2, n), 0.25, 7.9),
    ).round(1)
    freeze_thaw = (1 + rng.binomial(3, 0.12, n)).astype(np.int16)
    storage_days = np.clip(np.rint(rng.uniform(14, 720, n)), 1, 3650)
    storage_temp = np.where(rng.random(n) < 0.93, -80.0, -20.0)
    # Batches of ~80 samples in site order (samples are shipped per site).
    order = np.argsort(site_index, kind="stable")
    batch_index = np.empty(n, dtype=np.int32)
    batch_index[order] = np.arange(n) // _BATCH_SIZE
    return {
        "lab_matrix_code": serum.astype(np.int8),
        "lab_matrix": serum.astype(np.int8),  # codes into LAB_LABELS
        "lab_tube": serum.astype(np.int8),
        "lab_draw_time": draw_minutes.astype(np.int16),  # minutes after midnight; formatted later
        "draw_hour": draw_hour,
        "lab_fasting": (hours_since_meal >= 8).astype(np.int8),
        "lab_hours_since_meal": hours_since_meal,
        "lab_minutes_to_centrifuge": minutes,
        "lab_processing_temp_c": temperature,
        "lab_freeze_thaw": freeze_thaw,
        "lab_storage_days": storage_days,
        "lab_storage_temp_c": storage_temp,
        "lab_assay": assay_b.astype(np.int8),
        "twoag_includes_1ag": assay_b.astype(np.int8),
        "batch_index": batch_index,
        "lab_batch": batch_index,  # formatted as B00001 by the generator
    }
