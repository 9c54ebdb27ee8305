"""A stratified two-stage cluster sample of a national patient population.

Strata are the 9 US Census divisions (``demo_region`` = ``design_stratum`` 1-9); PSUs are
counties nested in their division. Approximate population shares (2020 Census) and county counts
per division are below; they set stratum sizes and the stage-1 finite population correction.

Stage 1: in stratum h, ``m_h`` counties are drawn with probability proportional to a county
size measure ``M_hj`` (log-normal), so ``pi_hj = m_h * M_hj / M_h``. Stage 2: the stratum's
``n_h`` participants are spread over the drawn counties multinomially (recruitment is uneven).
The sample allocation ``n_h`` is proportional to the square root of the population share, which
over-samples small divisions: weights differ between strata.

``design_weight`` = ``M_h / (m_h * n_hj)`` (stage-1 inverse probability times the within-county
expansion ``M_hj / n_hj``), so the weights of a stratum sum to its population ``M_h``.
``design_fpc`` = the number of counties in the stratum's population, ``N_h``: with
``svydesign(ids = ~design_psu, strata = ~design_stratum, weights = ~design_weight,
fpc = ~design_fpc)`` R's survey package reads an fpc above 1 as the population number of PSUs of
the stratum (stage-1 correction), which is what this column holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["REGION_COUNTIES", "REGION_NAMES", "REGION_SHARES", "SampleDesign", "draw_design"]

REGION_NAMES = (
    "New England",
    "Middle Atlantic",
    "East North Central",
    "West North Central",
    "South Atlantic",
    "East South Central",
    "West South Central",
    "Mountain",
    "Pacific",
)
# Approximate share of the US population per Census division (2020 Census, rounded).
REGION_SHARES = np.array([0.046, 0.126, 0.142, 0.065, 0.206, 0.058, 0.127, 0.076, 0.154])
# Approximate number of counties (or equivalents) per division: the stage-1 population N_h.
REGION_COUNTIES = np.array([67, 150, 437, 618, 589, 364, 470, 281, 167])
# Adults living with fibromyalgia-like chronic widespread pain (~2-4% of ~260 million adults).
TARGET_POPULATION = 7_000_000


@dataclass(frozen=True)
class SampleDesign:
    """Per-participant design arrays (length n)."""

    stratum: np.ndarray  # int8, 1-9
    psu: np.ndarray  # int32, globally unique county code stratum * 10000 + county
    weight: np.ndarray  # float64
    fpc: np.ndarray  # int32, counties in the stratum population
    site_index: np.ndarray  # int32, 0..n_sites-1 (one recruitment site per drawn county)


def draw_design(rng: np.random.Generator, n: int) -> SampleDesign:
    """Draw the design for ``n`` participants (vectorised over participants)."""
    shares = REGION_SHARES / REGION_SHARES.sum()
    allocation = np.sqrt(shares) / np.sqrt(shares).sum()
    n_h = rng.multinomial(n, allocation)
    # About 40 participants per county, at least 2 counties, at most half the stratum's counties.
    m_h = np.clip(np.ceil(n_h / 40).astype(np.int64), 2, REGION_COUNTIES // 2)
    population_h = shares * TARGET_POPULATION

    strata: list[np.ndarray] = []
    psus: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for h in range(9):  # 9 strata: a loop over strata, not over participants
        sizes = rng.lognormal(0.0, 1.0, REGION_COUNTIES[h])
        drawn = _pps_without_replacement(rng, sizes, int(m_h[h]))
        # Uneven recruitment: multinomial over drawn counties, each getting at least one.
        share = rng.dirichlet(np.full(m_h[h], 4.0))
        per_psu = 1 + rng.multinomial(max(int(n_h[h]) - int(m_h[h]), 0), share)
        if n_h[h] < m_h[h]:  # tiny n: keep the first n_h counties only
            per_psu = np.zeros(m_h[h], dtype=np.int64)
            per_psu[: n_h[h]] = 1
        keep = per_psu > 0
        drawn, per_psu = drawn[keep], per_psu[keep]
        psu_weight = population_h[h] / (m_h[h] * per_psu)
        strata.append(np.full(per_psu.sum(), h + 1, dtype=np.int8))
        psus.append(np.repeat((h + 1) * 10000 + drawn, per_psu).astype(np.int32))
        weights.append(np.repeat(psu_weight, per_psu))
    stratum = np.concatenate(strata)
    psu = np.concatenate(psus)
    order = rng.permutation(n)  # participants are not listed by region
    stratum, psu, weight = stratum[order], psu[order], np.concatenate(weights)[order]
    _, site_index = np.unique(psu, return_inverse=True)
    fpc = REGION_COUNTIES[stratum - 1].astype(np.int32)
    return SampleDesign(stratum, psu, weight, fpc, site_index.astype(np.int32))


def _pps_without_replacement(rng: np.random.Generator, sizes: np.ndarray, m: int) -> np.ndarray:
    """Indices of ``m`` units drawn with probability proportional to size (Gumbel top-m)."""
    keys = np.log(sizes) + rng.gumbel(size=sizes.size)
    return np.sort(np.argsort(-keys)[:m])
