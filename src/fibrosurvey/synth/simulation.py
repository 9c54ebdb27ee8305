"""Draw a complete synthetic cohort: every latent and observed array, no missingness.

NumPy, vectorised, one ``np.random.default_rng(seed)`` stream, so the same seed gives the same
numbers. :mod:`.generator` turns a simulation into the analysis dataset; :mod:`.truth` computes
the population values on a large one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fibrosurvey.countries import DEFAULT_COUNTRY
from fibrosurvey.synth.clinical import draw_items
from fibrosurvey.synth.design import draw_design
from fibrosurvey.synth.followup import draw_followup
from fibrosurvey.synth.labs import draw_labs
from fibrosurvey.synth.people import draw_people
from fibrosurvey.synth.scenarios import Scenario, get_scenario
from fibrosurvey.synth.treatments import draw_treatments, lifestyle_domains, perturb_treatments

__all__ = ["LAB_SHARE", "Arrays", "Progress", "Simulation", "simulate", "without_effects"]

LAB_SHARE = 0.4
Arrays = dict[str, np.ndarray]
Progress = Callable[[str], None]


@dataclass
class Simulation:
    """Everything drawn for one cohort, complete (no item non-response)."""

    scenario: Scenario
    n: int
    seed: int
    design: Any
    latent: Arrays
    baseline: Arrays  # item answers incl. demo and tx
    labs: Arrays  # biomarker + pre-analytical columns, for everyone
    has_lab: np.ndarray
    followup: Arrays  # fiqr, nrs, peg, tx, pgic answers at 3 months, for everyone
    answered_followup: np.ndarray
    domains: dict[str, np.ndarray]


def _fiqr_total(items: Arrays) -> np.ndarray:
    function = sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(1, 10))
    overall = sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(10, 12))
    symptoms = sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(12, 22))
    return np.asarray(function / 3 + overall + symptoms / 2)


def simulate(
    scenario: str | Scenario,
    n: int,
    seed: int,
    progress: Progress | None = None,
    country: str = DEFAULT_COUNTRY,
) -> Simulation:
    """Draw a complete cohort in ``country`` (see the package docstring for the model)."""
    if n < 1:
        raise ValueError(f"n must be a positive number of participants, got {n}")
    spec = get_scenario(scenario) if isinstance(scenario, str) else scenario
    rng = np.random.default_rng(seed)
    step = progress or (lambda _message: None)
    step("sampling design")
    design = draw_design(rng, n, country)
    step("participants and latent severity")
    latent = draw_people(rng, n, spec)
    latent["demo_region"] = design.stratum.astype(np.int16)
    step("questionnaire answers")
    baseline = draw_items(rng, latent)
    for column in (
        "demo_age",
        "demo_sex",
        "demo_height_cm",
        "demo_weight_kg",
        "demo_region",
        "demo_education",
        "demo_years_since_onset",
        "demo_menopause",
        "demo_hormonal_contraception",
    ):
        baseline[column] = latent[column]
    fiqr = _fiqr_total(baseline)
    fiqr_z = (fiqr - fiqr.mean()) / max(float(fiqr.std()), 1e-9)
    bmi_z = (latent["bmi_true"] - 28.0) / 6.0
    step("treatments and lifestyle")
    tx = draw_treatments(rng, latent, fiqr_z, bmi_z)
    baseline.update(tx)
    step("biomarkers")
    n_sites = int(design.site_index.max()) + 1
    site_lab_share = np.clip(rng.normal(LAB_SHARE, 0.1, n_sites), 0.05, 0.95)
    has_lab = rng.random(n) < site_lab_share[design.site_index]
    labs, log_values = draw_labs(
        rng,
        spec,
        latent,
        tx["tx_cannabis_days_since"],
        tx["tx_cannabis_recreational"],
        design.site_index,
    )
    latent.update({f"log_{k}": v for k, v in log_values.items()})
    step("follow-up at 3 months")
    domains = lifestyle_domains(tx)
    answered, followup = draw_followup(rng, spec, latent, domains, tx["tx_gabapentinoid"])
    latent["severity_3m"] = followup.pop("severity_3m")
    followup.update(perturb_treatments(rng, tx))
    return Simulation(
        spec, n, seed, design, latent, baseline, labs, has_lab, followup, answered, domains
    )


def without_effects(scenario: Scenario) -> Scenario:
    """The same scenario with every C3 effect set to zero (the counterfactual course)."""
    return replace(
        scenario,
        effect_any_lifestyle=0.0,
        effect_exercise=0.0,
        effect_mindbody=0.0,
        effect_gabapentinoid=0.0,
    )
