"""Questionnaire answers driven by the latent traits of :mod:`fibrosurvey.synth.people`.

Each item is ``clip(round(mean + sd * (loading * factor + sqrt(1 - loading^2) * noise)))`` on
its answer range, with the mean set for the FM class (factors are ~0 on average there) and the
noise independent per item, which gives the instruments their internal consistency and makes
them correlate through the shared severity.

Calibration targets in participants meeting the ACR 2016 criteria (checked in
tests/synth/test_calibration.py at n = 20,000; figures recalled from the sources, to be read as
targets, not as exact replications):

* FIQR total mean ~48-50, SD ~20 (Bennett et al. 2009, Arthritis Res Ther 11:R120, FM patients
  in the 50s with SD ~20; community samples somewhat lower);
* FS (WPI + SSS) mean ~21 (Wolfe et al. 2011, J Rheumatol 38:1113; Wolfe et al. 2016, Semin
  Arthritis Rheum 46:319: FM criteria-positive patients average about 20-22);
* ID-Migraine positive ~56% (migraine in roughly half of FM patients: Vij et al. 2015, Pain Med
  16:1467; Lipton et al. 2003, Neurology 61:375 for the screener);
* IBS (Manning >= 3) ~50% (about half of FM patients: Kurland et al. 2006; Veale et al. 1991);
* PHQ-9 >= 10 ~45% and GAD-7 >= 10 ~40% (moderate depression and anxiety in FM online cohorts);
* about 70% of the whole sample meets ACR 2016.

ACR 2016 status is planted through the fsq items: the widespread pain index comes from a
class-specific level plus severity, the painful sites are drawn without replacement with
site-specific weights (Gumbel top-k), and the symptom items follow severity, the migraine and
IBS latents (headache, abdominal) and distress (depression).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FSQ_SITES", "draw_items"]

Arrays = dict[str, np.ndarray]

FSQ_SITES = (
    "jaw_l",
    "jaw_r",
    "shoulder_l",
    "shoulder_r",
    "upperarm_l",
    "upperarm_r",
    "lowerarm_l",
    "lowerarm_r",
    "hip_l",
    "hip_r",
    "upperleg_l",
    "upperleg_r",
    "lowerleg_l",
    "lowerleg_r",
    "neck",
    "upperback",
    "lowerback",
    "chest",
    "abdomen",
)
# Relative chance that a site is among a participant's painful sites.
_SITE_WEIGHTS = np.array(
    [0.5, 0.5, 1.4, 1.4, 0.9, 0.9, 0.8, 0.8, 1.2, 1.2, 1.0, 1.0, 0.9, 0.9, 1.5, 1.2, 1.6, 0.5, 0.6]
)


def _logistic(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _items(
    rng: np.random.Generator,
    factor: np.ndarray,
    means: list[float] | np.ndarray,
    sd: float,
    loading: float,
    low: int,
    high: int,
) -> np.ndarray:
    """An (n, k) int8 block of correlated items on ``low..high``."""
    means_arr = np.asarray(means, dtype=np.float64)
    # float32 noise: half the memory and time of float64, ample for integer answers.
    noise = rng.standard_normal((factor.size, means_arr.size), dtype=np.float32)
    noise *= np.float32(sd * np.sqrt(1 - loading**2))
    noise += (sd * loading * factor).astype(np.float32)[:, None]
    noise += means_arr.astype(np.float32)
    return np.asarray(np.clip(np.rint(noise), low, high), dtype=np.int8)


def _bernoulli(rng: np.random.Generator, p: np.ndarray | float, n: int) -> np.ndarray:
    return np.asarray(rng.random(n) < p, dtype=np.int8)


def draw_items(rng: np.random.Generator, latent: Arrays) -> Arrays:
    """Baseline answers for fsq, fiqr, phq9, gad7, jss, peg, nrs, migraine, ibs and dx."""
    out: Arrays = {}
    out.update(_fsq(rng, latent))
    out.update(
        _fiqr(rng, latent["severity"], latent["sleep"], latent["distress"], latent["anxiety"])
    )
    n = latent["severity"].size
    severity, distress, anxiety = latent["severity"], latent["distress"], latent["anxiety"]

    # PHQ-9: items 3 (sleep) and 4 (tired) lean on severity; item 9 is rare.
    mood = _items(rng, distress, [0.83, 0.83, 0, 0, 0.83, 0.73, 0.83, 0.43, -1.0], 0.95, 0.8, 0, 3)
    somatic = _items(rng, 0.6 * severity + 0.6 * distress, [1.6, 1.8], 0.9, 0.75, 0, 3)
    mood[:, 2:4] = somatic
    for i in range(9):
        out[f"phq9_{i + 1}"] = mood[:, i]
    gad = _items(rng, anxiety, [1.2, 1.0, 1.3, 1.2, 0.8, 1.2, 0.8], 1.0, 0.8, 0, 3)
    for i in range(7):
        out[f"gad7_{i + 1}"] = gad[:, i]
    jss = _items(rng, latent["sleep"], [2.9, 2.7, 2.8, 2.9], 1.5, 0.8, 0, 5)
    for i in range(4):
        out[f"jss_{i + 1}"] = jss[:, i]
    peg = _items(rng, severity, _PEG_MEANS, 2.0, 0.85, 0, 10)
    for i in range(3):
        out[f"peg_{i + 1}"] = peg[:, i]
    out.update(_nrs(rng, severity, latent["sleep"]))

    migraine_p = np.where(latent["migraine"], 0.85, 0.12)
    for i in range(3):
        out[f"migraine_{i + 1}"] = _bernoulli(rng, migraine_p, n)
    ibs_p = np.where(latent["ibs"], 0.7, 0.12)
    for i in range(6):
        out[f"ibs_{i + 1}"] = _bernoulli(rng, ibs_p, n)

    fm = latent["fm_class"] == 1
    out["dx_fibromyalgia"] = _bernoulli(rng, np.where(fm, 0.85, 0.2), n)
    out["dx_ibs"] = _bernoulli(rng, np.where(latent["ibs"], 0.5, 0.04), n)
    out["dx_migraine"] = _bernoulli(rng, np.where(latent["migraine"], 0.6, 0.05), n)
    out["dx_depression"] = _bernoulli(rng, _logistic(-0.6 + 1.3 * distress), n)
    out["dx_anxiety"] = _bernoulli(rng, _logistic(-0.8 + 1.2 * anxiety), n)
    out["dx_tmd"] = _bernoulli(rng, np.where(fm, 0.18, 0.07) + 0.08 * latent["migraine"], n)
    out["dx_interstitial_cystitis"] = _bernoulli(rng, np.where(fm, 0.07, 0.02), n)
    out["dx_cfs"] = _bernoulli(rng, _logistic(-2.2 + 0.7 * severity), n)
    out["dx_restless_legs"] = _bernoulli(rng, np.where(fm, 0.25, 0.1), n)
    return out


def _fsq(rng: np.random.Generator, latent: Arrays) -> Arrays:
    fm = latent["fm_class"].astype(np.float64)
    within = latent["severity"] - (0.9 * fm - 0.9)  # severity within the class
    n = fm.size
    wpi = np.clip(np.rint(3.4 + 9.0 * fm + 3.0 * within + 2.0 * rng.standard_normal(n)), 0, 19)
    # The wpi sites with the largest Gumbel keys are painful: weighted sampling w/o replacement.
    uniform = rng.random((n, 19), dtype=np.float32)
    np.maximum(uniform, np.float32(1e-12), out=uniform)
    keys = np.log(_SITE_WEIGHTS).astype(np.float32) - np.log(-np.log(uniform))  # + Gumbel(0, 1)
    ordered = -np.sort(-keys, axis=1)  # each row's keys, largest first
    kth = np.take_along_axis(ordered, np.maximum(wpi - 1, 0).astype(np.int64)[:, None], axis=1)
    painful = ((keys >= kth) & (wpi[:, None] > 0)).astype(np.int8)
    out = {f"fsq_{site}": painful[:, i] for i, site in enumerate(FSQ_SITES)}
    symptoms = _items(rng, within + 0.9 * fm, [1.55, 1.6, 1.25], 0.85, 0.8, 0, 3)
    for i, name in enumerate(("fatigue", "unrefreshed", "cognitive")):
        out[f"fsq_{name}"] = symptoms[:, i]
    out["fsq_headache"] = _bernoulli(rng, np.where(latent["migraine"], 0.85, 0.3), n)
    out["fsq_abdominal"] = _bernoulli(rng, np.where(latent["ibs"], 0.8, 0.25), n)
    out["fsq_depression"] = _bernoulli(rng, _logistic(-0.2 + 1.2 * latent["distress"]), n)
    out["fsq_duration"] = _bernoulli(rng, np.where(fm == 1, 0.96, 0.8), n)
    return out


# FIQR symptom items: pain, energy, stiffness, sleep, depression, memory, anxiety, tenderness,
# balance, environmental sensitivity (Bennett 2009 item order).
_FIQR_SYMPTOM_MEANS = [5.6, 5.9, 5.2, 5.8, 3.6, 4.4, 4.0, 5.0, 3.4, 4.6]
_FIQR_FUNCTION_MEANS = [2.9, 3.9, 3.2, 4.5, 4.3, 3.7, 4.2, 3.8, 3.7]
_PEG_MEANS = [5.5, 5.3, 5.6]


def _fiqr(
    rng: np.random.Generator,
    severity: np.ndarray,
    sleep: np.ndarray,
    distress: np.ndarray,
    anxiety: np.ndarray,
) -> Arrays:
    function = _items(rng, severity, _FIQR_FUNCTION_MEANS, 3.3, 0.85, 0, 10)
    overall = _items(rng, severity, [4.4, 4.0], 3.3, 0.85, 0, 10)
    symptoms = _items(rng, severity, _FIQR_SYMPTOM_MEANS, 3.0, 0.8, 0, 10)
    symptoms[:, 3] = _items(rng, sleep, [5.6], 3.0, 0.85, 0, 10)[:, 0]
    symptoms[:, 4] = _items(rng, distress, [3.4], 3.0, 0.85, 0, 10)[:, 0]
    symptoms[:, 6] = _items(rng, anxiety, [3.8], 3.0, 0.85, 0, 10)[:, 0]
    block = np.concatenate([function, overall, symptoms], axis=1)
    return {f"fiqr_{i + 1:02d}": block[:, i] for i in range(21)}


def _nrs(rng: np.random.Generator, severity: np.ndarray, sleep: np.ndarray) -> Arrays:
    pain_fatigue_stiff = _items(rng, severity, [5.6, 6.1, 5.3], 2.0, 0.8, 0, 10)
    # Sleep quality: higher is BETTER (the nrs definition), so it falls as the sleep factor rises.
    sleep_quality = _items(rng, -sleep, [4.0], 2.0, 0.8, 0, 10)[:, 0]
    return {
        "nrs_pain": pain_fatigue_stiff[:, 0],
        "nrs_fatigue": pain_fatigue_stiff[:, 1],
        "nrs_sleep_quality": sleep_quality,
        "nrs_stiffness": pain_fatigue_stiff[:, 2],
    }


def draw_followup_items(
    rng: np.random.Generator,
    severity: np.ndarray,
    sleep: np.ndarray,
    distress: np.ndarray,
    anxiety: np.ndarray,
) -> Arrays:
    """Answers to fiqr, nrs and peg at follow-up from the follow-up latents."""
    out = _fiqr(rng, severity, sleep, distress, anxiety)
    peg = _items(rng, severity, _PEG_MEANS, 2.0, 0.85, 0, 10)
    for i in range(3):
        out[f"peg_{i + 1}"] = peg[:, i]
    out.update(_nrs(rng, severity, sleep))
    return out
