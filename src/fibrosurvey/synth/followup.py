"""The 3-month follow-up: who answers, and how their severity moves.

About 60% answer (more often the older, less severe and health-conscious: MAR attrition).
Latent severity at follow-up regresses to the class mean:
``severity_3m = class_mean + 0.75 * (severity - class_mean) + effects + N(0, 0.55)``,
so high baseline scores fall on average even without treatment (regression to the mean, plus
item noise at each wave). ``effects`` are the scenario's C3 parameters applied to BASELINE
exposures: any lifestyle domain, exercise, mind-body, gabapentinoid (latent SD units; -0.35 is
about -7 FIQR points, see ``c3.att_fiqr_points`` in the truth). PGIC (1 very much improved ..
7 very much worse) follows the latent change.
"""

from __future__ import annotations

import numpy as np

from fibrosurvey.synth.clinical import draw_followup_items
from fibrosurvey.synth.scenarios import Scenario

__all__ = ["draw_followup"]

Arrays = dict[str, np.ndarray]


def draw_followup(
    rng: np.random.Generator,
    scenario: Scenario,
    latent: Arrays,
    domains: dict[str, np.ndarray],
    gabapentinoid: np.ndarray,
) -> tuple[np.ndarray, Arrays]:
    """(answered mask, follow-up answers for everyone; rows not answered are dropped later)."""
    n = latent["severity"].size
    severity = latent["severity"]
    age_z = (latent["demo_age"].astype(np.float64) - 50.0) / 12.0
    logit = 0.42 + 0.25 * age_z - 0.15 * severity + 0.2 * latent["health"]
    answered = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))

    class_mean = 0.9 * latent["fm_class"] - 0.9
    effect = (
        scenario.effect_any_lifestyle * domains["any_lifestyle"]
        + scenario.effect_exercise * domains["exercise"]
        + scenario.effect_mindbody * domains["mindbody"]
        + scenario.effect_gabapentinoid * gabapentinoid
    )
    severity_3m = (
        class_mean + 0.75 * (severity - class_mean) + effect + 0.55 * rng.standard_normal(n)
    )
    noise = rng.standard_normal
    sleep = 0.7 * severity_3m + np.sqrt(1 - 0.7**2) * noise(n)
    distress = (
        0.55 * severity_3m
        + np.sqrt(1 - 0.55**2) * noise(n)
        - scenario.tone_on_distress * latent["tone_within"]
    )
    anxiety = 0.7 * distress + np.sqrt(1 - 0.7**2) * noise(n)
    answers = draw_followup_items(rng, severity_3m, sleep, distress, anxiety)
    change = severity_3m - severity
    pgic = np.clip(np.rint(4.0 + 2.0 * change / 0.6 + 0.8 * noise(n)), 1, 7).astype(np.int8)
    answers["pgic_1"] = pgic
    answers["severity_3m"] = severity_3m
    return answered, answers
