"""A stratified two-stage cluster sample of a national patient population.

Strata are the regions of the study's country (``demo_region`` = ``design_stratum``, the codes
of :mod:`fibrosurvey.countries`): by default the 9 US Census divisions (1-9), whose PSUs are
counties nested in their division; Spain's autonomous communities and Mexico's federal entities,
whose PSUs are municipalities. Approximate population shares and PSU counts per region are in
:mod:`fibrosurvey.countries`; they set stratum sizes and the stage-1 finite population correction.

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

from fibrosurvey.countries import DEFAULT_COUNTRY, get_country

__all__ = [
    "REGION_COUNTIES",
    "REGION_SHARES",
    "SampleDesign",
    "draw_design",
    "region_counts",
    "region_shares",
    "target_population",
]


def region_shares(country: str = DEFAULT_COUNTRY) -> np.ndarray:
    """Approximate share of the national population per region, in region order."""
    return np.array([region.population_share for region in get_country(country).regions])


def region_counts(country: str = DEFAULT_COUNTRY) -> np.ndarray:
    """Approximate number of PSUs (counties, municipalities) per region: the stage-1 N_h."""
    return np.array([region.psu_count for region in get_country(country).regions])


# The US figures, as before countries existed.
REGION_SHARES = region_shares()
REGION_COUNTIES = region_counts()
# Adults living with fibromyalgia-like chronic widespread pain (~2-4% of adults): ~260 million
# adults in the US; Spain ~40 million, Mexico ~90 million.
_ADULTS_MILLIONS = {"US": 260, "ES": 40, "MX": 90}


def target_population(country: str = DEFAULT_COUNTRY) -> int:
    # 7 million for the US, as before; the same prevalence elsewhere.
    return round(7_000_000 * _ADULTS_MILLIONS[get_country(country).code] / 260)


TARGET_POPULATION = target_population()


@dataclass(frozen=True)
class SampleDesign:
    """Per-participant design arrays (length n)."""

    stratum: np.ndarray  # int16, the region code
    psu: np.ndarray  # int32, globally unique PSU code: region index * 10000 + PSU
    weight: np.ndarray  # float64
    fpc: np.ndarray  # int32, counties in the stratum population
    site_index: np.ndarray  # int32, 0..n_sites-1 (one recruitment site per drawn county)


def draw_design(rng: np.random.Generator, n: int, country: str = DEFAULT_COUNTRY) -> SampleDesign:
    """Draw the design for ``n`` participants in ``country`` (vectorised over participants)."""
    codes = np.array(get_country(country).region_codes, dtype=np.int16)
    counties = region_counts(country)
    raw_shares = region_shares(country)
    shares = raw_shares / raw_shares.sum()
    allocation = np.sqrt(shares) / np.sqrt(shares).sum()
    n_h = rng.multinomial(n, allocation)
    # About 40 participants per PSU, at least 2 PSUs, at most half the stratum's PSUs.
    m_h = np.clip(np.ceil(n_h / 40).astype(np.int64), 2, counties // 2)
    population_h = shares * target_population(country)

    strata: list[np.ndarray] = []
    psus: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for h in range(codes.size):  # a loop over strata, not over participants
        sizes = rng.lognormal(0.0, 1.0, counties[h])
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
        strata.append(np.full(per_psu.sum(), codes[h], dtype=np.int16))
        psus.append(np.repeat((h + 1) * 10000 + drawn, per_psu).astype(np.int32))
        weights.append(np.repeat(psu_weight, per_psu))
    stratum = np.concatenate(strata)
    psu = np.concatenate(psus)
    order = rng.permutation(n)  # participants are not listed by region
    stratum, psu, weight = stratum[order], psu[order], np.concatenate(weights)[order]
    _, site_index = np.unique(psu, return_inverse=True)
    fpc = counties[np.searchsorted(codes, stratum)].astype(np.int32)
    return SampleDesign(stratum, psu, weight, fpc, site_index.astype(np.int32))


def _pps_without_replacement(rng: np.random.Generator, sizes: np.ndarray, m: int) -> np.ndarray:
    """Indices of ``m`` units drawn with probability proportional to size (Gumbel top-m)."""
    keys = np.log(sizes) + rng.gumbel(size=sizes.size)
    return np.sort(np.argsort(-keys)[:m])
