"""Treatments and lifestyle in the past 3 months, confounded by severity.

Sicker participants (higher baseline FIQR, a standardised observed score) use more analgesics
and try more supplements, cannabinoids, mind-body practice and sleep hygiene; exercise falls a
little with severity. A health-conscious trait raises every lifestyle choice together, and
education raises supplement use. Lifestyle choices depend on OBSERVED baseline severity (FIQR),
age, sex and BMI only, so an ANCOVA on baseline FIQR plus those covariates is the right
adjustment set for C3 (the truth still reports the population ANCOVA coefficient numerically).

Lifestyle domains (the C3 exposure, see :func:`lifestyle_domains`):
omega-3 (supplement or >= 2 fish servings/week), exercise (>= 150 aerobic min/week or >= 2
resistance sessions/week), mind-body (>= 1 session/week), sleep hygiene, cannabinoid
(broad-spectrum CBD, or low-dose THC 0 < mg/day <= 5).
Analgesics: opioid or gabapentinoid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_treatments", "lifestyle_domains", "perturb_treatments"]

Arrays = dict[str, np.ndarray]


def _logistic(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def draw_treatments(
    rng: np.random.Generator, latent: Arrays, fiqr_z: np.ndarray, bmi_z: np.ndarray
) -> Arrays:
    """tx_* answers. ``fiqr_z`` is the standardised observed baseline FIQR total."""
    n = fiqr_z.size
    health = latent["health"]
    edu = latent["demo_education"].astype(np.float64) - 2.6
    age_z = (latent["demo_age"].astype(np.float64) - 50.0) / 12.0
    female = (latent["demo_sex"] == 1).astype(np.float64)

    def yes(logit: np.ndarray | float) -> np.ndarray:
        return (rng.random(n) < _logistic(np.asarray(logit))).astype(np.int8)

    def count(mean: np.ndarray, cap: int) -> np.ndarray:
        return np.minimum(rng.poisson(mean), cap).astype(np.int16)

    out: Arrays = {
        "tx_opioid": yes(-1.7 + 0.6 * fiqr_z + 0.2 * age_z),
        "tx_gabapentinoid": yes(-1.0 + 0.5 * fiqr_z),
        "tx_snri": yes(-1.3 + 0.35 * fiqr_z + 0.4 * latent["distress"]),
        "tx_tca": yes(-2.2 + 0.3 * fiqr_z),
        "tx_cyclobenzaprine": yes(-2.0 + 0.3 * fiqr_z),
        "tx_nsaid": yes(-0.3 + 0.2 * fiqr_z - 0.2 * age_z),
    }
    try_more = 0.3 * fiqr_z + 0.6 * health
    out["tx_omega3_supplement"] = yes(-1.6 + try_more + 0.25 * edu + 0.2 * female)
    out["tx_fish_servings_week"] = count(np.exp(-0.1 + 0.3 * health + 0.1 * edu), 21)
    aerobic_any = yes(-0.2 - 0.25 * fiqr_z + 0.6 * health - 0.2 * bmi_z - 0.2 * age_z)
    aerobic = rng.lognormal(np.log(80.0) + 0.3 * health - 0.2 * fiqr_z, 0.8)
    out["tx_aerobic_min_week"] = np.where(
        aerobic_any == 1, np.clip(np.rint(aerobic / 10) * 10, 10, 2000), 0
    ).astype(np.int16)
    resistance_any = yes(-1.4 - 0.15 * fiqr_z + 0.6 * health)
    out["tx_resistance_sessions_week"] = np.where(
        resistance_any == 1, np.clip(1 + count(np.full(n, 1.0), 13), 1, 14), 0
    ).astype(np.int16)
    mindbody_any = yes(-1.5 + try_more + 0.4 * female)
    out["tx_mindbody_sessions_week"] = np.where(
        mindbody_any == 1, np.clip(1 + count(np.full(n, 1.2), 13), 1, 14), 0
    ).astype(np.int16)
    out["tx_sleep_hygiene"] = yes(-1.3 + try_more)

    cbd_any = rng.random(n) < _logistic(-1.2 + 0.3 * fiqr_z + 0.2 * health - 0.2 * age_z)
    product = rng.choice(np.array([1, 2, 3], dtype=np.int8), size=n, p=[0.25, 0.35, 0.40])
    out["tx_cbd_product"] = np.where(cbd_any, product, 0).astype(np.int8)
    cbd_mg = np.clip(np.round(rng.lognormal(np.log(25.0), 0.8, n)), 1, 2000)
    out["tx_cbd_mg_day"] = np.where(cbd_any, cbd_mg, 0.0)
    out["tx_cbd_days_week"] = np.where(cbd_any, rng.integers(1, 8, n), 0).astype(np.int8)

    thc_any = rng.random(n) < _logistic(-2.0 + 0.3 * fiqr_z - 0.3 * age_z)
    thc_mg = np.clip(np.round(rng.lognormal(np.log(5.0), 0.7, n), 1), 0.5, 100)
    out["tx_thc_mg_day"] = np.where(thc_any, thc_mg, 0.0)
    out["tx_thc_days_week"] = np.where(thc_any, rng.integers(1, 8, n), 0).astype(np.int8)

    recreational = rng.random(n) < _logistic(-1.6 + 0.25 * fiqr_z - 0.5 * age_z - 0.3 * female)
    out["tx_cannabis_recreational"] = recreational.astype(np.int8)
    # Days since ANY cannabis, THC or CBD product (the item's wording). Users in the past 3
    # months: mostly recent (daily users 0-1 days). Others: 40% used long ago, 60% never (null).
    user = recreational | cbd_any | thc_any
    days_per_week = np.maximum(out["tx_cbd_days_week"], out["tx_thc_days_week"]).astype(float)
    mean_gap = np.where(days_per_week > 0, 7.0 / np.maximum(days_per_week, 1.0), 12.0)
    days_user = np.minimum(np.floor(rng.exponential(mean_gap)), 90)
    past = rng.random(n) < 0.4
    days_past = rng.integers(91, 3651, n).astype(np.float64)
    out["tx_cannabis_days_since"] = np.where(user, days_user, np.where(past, days_past, np.nan))
    return out


def lifestyle_domains(tx: Arrays) -> dict[str, np.ndarray]:
    """0/1 per lifestyle domain, plus ``any_lifestyle`` and ``analgesic``."""
    thc = np.nan_to_num(tx["tx_thc_mg_day"].astype(np.float64))
    domains = {
        "omega3": (tx["tx_omega3_supplement"] == 1) | (tx["tx_fish_servings_week"] >= 2),
        "exercise": (tx["tx_aerobic_min_week"] >= 150) | (tx["tx_resistance_sessions_week"] >= 2),
        "mindbody": tx["tx_mindbody_sessions_week"] >= 1,
        "sleep_hygiene": tx["tx_sleep_hygiene"] == 1,
        # Any CBD product (isolate, broad- or full-spectrum) or THC up to 5 mg/day: the plan's
        # ls_cannabinoid.
        "cannabinoid": (np.isin(tx["tx_cbd_product"], [1, 2, 3]) & (tx["tx_cbd_days_week"] >= 1))
        | ((thc > 0) & (thc <= 5)),
    }
    any_lifestyle = np.zeros_like(domains["omega3"])
    for value in domains.values():
        any_lifestyle = any_lifestyle | value
    domains["any_lifestyle"] = any_lifestyle
    domains["analgesic"] = (tx["tx_opioid"] == 1) | (tx["tx_gabapentinoid"] == 1)
    return {k: v.astype(np.int8) for k, v in domains.items()}


def perturb_treatments(rng: np.random.Generator, tx: Arrays, share: float = 0.1) -> Arrays:
    """Follow-up tx answers: the baseline answers, with ``share`` of each 0/1 item flipped."""
    out: Arrays = {}
    for column, values in tx.items():
        if values.dtype == np.int8 and column in _BINARY_TX:
            flip = rng.random(values.size) < share
            out[column] = np.where(flip, 1 - values, values).astype(np.int8)
        else:
            out[column] = values.copy()
    return out


_BINARY_TX = {
    "tx_opioid",
    "tx_gabapentinoid",
    "tx_snri",
    "tx_tca",
    "tx_cyclobenzaprine",
    "tx_nsaid",
    "tx_omega3_supplement",
    "tx_sleep_hygiene",
}
