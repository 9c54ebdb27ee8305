"""Latent traits and demographics of the synthetic participants.

Latent variables (all arrays of length n, vectorised):

* ``fm_class``: 1 for the ~82% drawn from the fibromyalgia population, 0 for other chronic pain;
  whether a participant MEETS the ACR 2016 criteria is decided by the fsq items
  (:mod:`fibrosurvey.synth.clinical`), and about 70% do.
* ``tone``: the endocannabinoid tone, N(tone_shift_fm * fm_class, 1).
* ``severity``: 0.9 * fm_class - 0.9 + z, z = -c * tone_within + sqrt(1 - c^2) * noise (C1, c
  from the scenario; tone_within = tone minus its class mean); 0 on average in the FM class.
* ``distress`` (depression) and ``anxiety``: correlated with severity (0.55) and with low tone
  in seed-claims (C2); ``sleep``: 0.7 with severity; ``health``: a health-conscious trait that
  raises education and lifestyle uptake.
* comorbidity latents ``migraine`` and ``ibs`` (0/1): logistic in severity (and low tone, C2).

Demographics: ~90% of FM participants are women (Wolfe et al. 2013, Arthritis Care Res
65:777-785 found a higher male share in population samples, but clinic and online FM cohorts
are ~90% female), mean age ~49; BMI higher with FM and severity (FM cohorts average BMI ~28-30);
menopause status follows age; hormonal contraception only for premenopausal women.
"""

from __future__ import annotations

import numpy as np

from fibrosurvey.synth.scenarios import Scenario

__all__ = ["FM_CLASS_SHARE", "draw_people"]

FM_CLASS_SHARE = 0.82
Arrays = dict[str, np.ndarray]


def _logistic(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def draw_people(rng: np.random.Generator, n: int, scenario: Scenario) -> Arrays:
    """Latent traits plus the demo_* items (except region, which comes from the design)."""
    normal = rng.standard_normal
    fm = (rng.random(n) < FM_CLASS_SHARE).astype(np.int8)
    tone = scenario.tone_shift_fm * fm + normal(n)
    # Effects act through the tone's deviation from its class mean, so every scenario keeps the
    # same clinical calibration (class means) and only the associations change.
    tone_within = tone - scenario.tone_shift_fm * fm
    c = scenario.tone_on_severity
    severity = 0.9 * fm - 0.9 - c * tone_within + np.sqrt(1 - c * c) * normal(n)
    distress = (
        0.55 * severity + np.sqrt(1 - 0.55**2) * normal(n) - scenario.tone_on_distress * tone_within
    )
    anxiety = 0.7 * distress + np.sqrt(1 - 0.7**2) * normal(n)
    sleep = 0.7 * severity + np.sqrt(1 - 0.7**2) * normal(n)
    health = normal(n)

    female_share = np.where(fm == 1, 0.91, 0.72)
    u = rng.random(n)
    sex = np.where(u < female_share, 1, np.where(u < 0.99, 2, 3)).astype(np.int8)
    female = sex == 1
    migraine = rng.random(n) < _logistic(
        -0.2
        + 0.55 * severity
        + 0.5 * female
        - scenario.tone_on_migraine_logit * tone_within
        - 0.9 * (1 - fm)
    )
    ibs = rng.random(n) < _logistic(
        -0.05 + 0.5 * severity - scenario.tone_on_ibs_logit * tone_within - 0.9 * (1 - fm)
    )

    age = np.clip(np.rint(np.where(fm == 1, 49, 52) + 12.5 * normal(n)), 18, 90).astype(np.int16)
    education = np.clip(
        np.digitize(0.6 * health + 0.8 * normal(n), [-1.6, 0.1, 1.1]) + 1, 1, 4
    ).astype(np.int8)
    height = np.where(sex == 1, 163.0, np.where(sex == 2, 177.0, 170.0)) + 7.0 * normal(n)
    height = np.clip(np.round(height, 0), 140, 205)
    bmi = np.clip(27.3 + 1.3 * fm + 0.8 * severity - 0.4 * health + 5.5 * normal(n), 16.0, 60.0)
    weight = np.clip(np.round(bmi * (height / 100) ** 2, 1), 35.0, 250.0)
    onset = np.minimum(rng.gamma(2.0, np.where(fm == 1, 6.0, 4.0)), age - 12)
    years_since_onset = np.clip(np.rint(onset), 0, 80).astype(np.int16)

    menopause = _menopause(rng, age, female)
    contraception = (female & (menopause == 0) & (rng.random(n) < 0.25)).astype(np.int8)
    return {
        "fm_class": fm,
        "tone": tone,
        "tone_within": tone_within,
        "severity": severity,
        "distress": distress,
        "anxiety": anxiety,
        "sleep": sleep,
        "health": health,
        "migraine": migraine,
        "ibs": ibs,
        "demo_age": age,
        "demo_sex": sex,
        "demo_height_cm": height,
        "demo_weight_kg": weight,
        "bmi_true": bmi,
        "demo_education": education,
        "demo_years_since_onset": years_since_onset,
        "demo_menopause": menopause,
        "demo_hormonal_contraception": contraception,
    }


def _menopause(rng: np.random.Generator, age: np.ndarray, female: np.ndarray) -> np.ndarray:
    """0 pre, 1 peri, 2 post (by age band), 3 not applicable (not female)."""
    u = rng.random(age.size)
    status = np.where(
        age < 45,
        np.where(u < 0.92, 0, 1),
        np.where(
            age <= 55, np.where(u < 0.25, 0, np.where(u < 0.6, 1, 2)), np.where(u < 0.05, 1, 2)
        ),
    )
    return np.where(female, status, 3).astype(np.int8)
