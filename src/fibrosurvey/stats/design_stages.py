"""Multi-stage sampling structure and its Taylor-linearised variance (R ``survey::svyrecvar``).

A design has one or more sampling stages. At stage ``s`` the sampling units are the stage-``s``
cluster labels nested in everything above them (PSUs in their stratum, second-stage units in
their PSU, ...), drawn within stage-``s`` strata that are themselves nested in the stage
``s - 1`` unit (R ``svydesign(id = ~psu + ssu, strata = ~s1 + s2, fpc = ~N1 + N2, nest = TRUE)``).

The variance of a vector of linearised totals ``z`` is R's recursive ``multistage`` formula,
unrolled so that every stage is computed at once by group sums (no loop over units)::

    V = sum_s sum_{h at stage s} m_h * c_h * sum_{j in h} (t_hj - tbar_h)(t_hj - tbar_h)'

with ``t_hj`` the stage-``s`` unit totals, ``c_h = (1 - f_h) n_h / (n_h - 1)`` and ``m_h`` the
product of the sampling fractions ``n/N`` of the units above ``h`` (1 at the first stage). Later
stages contribute only when an fpc is given (without one R uses the first stage alone, the
"ultimate cluster" variance). An fpc list shorter than the stages means complete sampling at the
remaining stages (R's documented rule; they contribute nothing); an ``inf`` fpc means sampling with
replacement at that stage (``f = 0`` there and nothing from the stages below it).

Lonely units (a stratum with one sampled unit, ``n_h = 1``) follow R ``survey.lonely.psu`` at
every stage: ``adjust`` (the total is not centred, scale ``1 - f``), ``certainty``/``remove``
(no contribution), ``average`` (within each parent unit, the other strata's variance is scaled
up by ``strata / non-lonely strata``; NaN when every stratum of a parent is lonely, as R) or
``fail`` (an error naming the stratum and stage). A stratum sampled completely (``f_h = 1``,
R's ``all(f < 1e-7)``) contributes nothing and is never lonely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fibrosurvey.stats._result import Array

__all__ = [
    "LONELY_PSU_OPTIONS",
    "Stage",
    "build_stages",
    "dense_codes",
    "group_sums",
    "stages_variance",
]

LONELY_PSU_OPTIONS = ("adjust", "certainty", "remove", "average", "fail")
Codes = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Stage:
    """One sampling stage: unit and stratum codes and the per-unit variance scale."""

    number: int
    unit: Codes  # per row: stage unit code (0..n_units-1), nested in all above
    unit_stratum: Codes  # per unit: its stratum code at this stage
    n_units: int
    n_strata: int
    lonely: npt.NDArray[np.bool_]  # per stratum
    centre: npt.NDArray[np.bool_]  # per stratum: centre the unit totals at their mean
    unit_scale: Array  # per unit: m_h * c_h (* the 'average' factor)


def dense_codes(keys: Sequence[Codes]) -> Codes:
    """Dense codes (sorted order) for the row-wise combination of non-negative code vectors."""
    combined = np.zeros(keys[0].size, dtype=np.int64)
    for key in keys:
        _, combined = np.unique(combined * (int(key.max()) + 1) + key, return_inverse=True)
    return np.asarray(combined, dtype=np.intp).ravel()


def group_sums(values: Array, codes: Codes, n_groups: int) -> Array:
    """Column sums of ``values`` (n x k) by group code (``np.bincount``, vectorised)."""
    sums = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):  # columns (estimates), never rows
        sums[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_groups)
    return sums


def _per_group_first(values: Array, codes: Codes, n_groups: int) -> Array:
    first = np.empty(n_groups)
    first[codes[::-1]] = values[::-1]  # the last write wins: each group's first row
    return first


def build_stages(
    strata: Sequence[Codes | None],
    units: Sequence[Codes],
    fpc: Sequence[Array],
    lonely_psu: str,
) -> tuple[list[Stage], Array]:
    """The stages of a design, and R's default weights (``prod N/n``, ones without fpc).

    ``units[s]`` and ``strata[s]`` are per-row integer codes for stage ``s`` (``None`` = one
    stratum); ``fpc[s]`` per-row population sizes (> 1, ``inf`` allowed) or sampling fractions
    (all <= 1) for the first ``len(fpc)`` stages. Raises ``ValueError`` naming the row, stage
    or stratum for inconsistent input.
    """
    n = units[0].size
    has_fpc = len(fpc) > 0
    if has_fpc:
        finite = np.concatenate([f[np.isfinite(f)] for f in fpc])
        fraction_form = bool(finite.size) and bool((finite <= 1).all())
        if not fraction_form and (finite < 1).any():
            raise ValueError("fpc: give population sizes (all >= 1) or fractions (all <= 1)")
    used_stages = len(units) if has_fpc else 1
    stages: list[Stage] = []
    parent = np.zeros(n, dtype=np.intp)  # the stage s-1 unit of each row (one root)
    multiplier_rows = np.ones(n)  # product of n/N of the units above, per row
    default_weights = np.ones(n)
    for s in range(len(units)):
        stratum_key = strata[s] if s < len(strata) and strata[s] is not None else None
        own = np.zeros(n, dtype=np.intp) if stratum_key is None else stratum_key
        stratum = dense_codes([parent, own])
        unit = dense_codes([stratum, units[s]])
        n_units = int(unit.max()) + 1
        n_strata = int(stratum.max()) + 1
        unit_stratum = np.zeros(n_units, dtype=np.intp)
        unit_stratum[unit] = stratum
        n_h = np.bincount(unit_stratum, minlength=n_strata).astype(np.float64)
        if s < len(fpc):
            name = "fpc" if s == 0 else f"fpc (stage {s + 1})"
            given = fpc[s]
            first = _per_group_first(given, stratum, n_strata)
            differs = ~np.isclose(given, first[stratum]) & ~(
                np.isinf(given) & np.isinf(first[stratum])
            )
            if differs.any():
                row = int(np.flatnonzero(differs)[0])
                raise ValueError(f"{name}: row {row} differs from other rows of its stratum")
            population = np.where(np.isinf(first), np.inf, n_h / first) if fraction_form else first
            if (population < n_h - 1e-9).any():
                h = int(np.flatnonzero(population < n_h - 1e-9)[0])
                row = int(np.flatnonzero(stratum == h)[0])
                raise ValueError(
                    f"{name}: the stratum of row {row} has {int(n_h[h])} sampled "
                    f"units but a population of {population[h]:g}"
                )
        elif has_fpc:
            population = n_h.copy()  # complete sampling at stages without an fpc
        else:
            population = np.full(n_strata, np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isinf(population), 1.0, (population - n_h) / population)
            fraction = np.where(np.isinf(population), 0.0, n_h / population)
        default_weights = (
            default_weights * np.where(np.isinf(population), 1.0, population / n_h)[stratum]
        )
        if s < used_stages:
            stages.append(
                _stage(s + 1, unit, stratum, unit_stratum, n_h, f, multiplier_rows, parent,
                       lonely_psu)
            )  # fmt: skip
        multiplier_rows = multiplier_rows * fraction[stratum]
        parent = unit
    return stages, default_weights


def _stage(
    number: int,
    unit: Codes,
    stratum: Codes,
    unit_stratum: Codes,
    n_h: Array,
    f: Array,
    multiplier_rows: Array,
    parent: Codes,
    lonely_psu: str,
) -> Stage:
    n_strata = n_h.size
    certain = f < 1e-7
    lonely = (n_h == 1) & ~certain
    if lonely.any() and lonely_psu == "fail":
        h = int(np.flatnonzero(lonely)[0])
        row = int(np.flatnonzero(stratum == h)[0])
        what = "PSU" if number == 1 else f"sampled unit at stage {number}"
        raise ValueError(
            f"stratum of row {row} has a single {what}; choose lonely_psu from "
            f"{LONELY_PSU_OPTIONS[:-1]} (R survey.lonely.psu)"
        )
    multiplier = _per_group_first(multiplier_rows, stratum, n_strata)
    scale = np.where(n_h > 1, f * n_h / np.maximum(n_h - 1, 1), f) * multiplier
    scale[certain] = 0.0
    centre = ~(lonely & (lonely_psu == "adjust"))
    if lonely_psu in ("certainty", "remove", "average"):
        scale[lonely] = 0.0
    if lonely_psu == "average" and lonely.any():
        parents = _per_group_first(parent.astype(np.float64), stratum, n_strata).astype(np.intp)
        total = np.bincount(parents).astype(np.float64)
        ok = np.bincount(parents, weights=(~lonely).astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            # R: the parent's summed matrix times strata / non-lonely strata; 0 * inf = NaN
            # when every stratum of a parent is lonely, and NaN spreads to the whole matrix.
            scale = scale * (total / ok)[parents]
    return Stage(
        number=number,
        unit=unit,
        unit_stratum=unit_stratum,
        n_units=int(unit_stratum.size),
        n_strata=n_strata,
        lonely=lonely,
        centre=centre,
        unit_scale=scale[unit_stratum],
    )


def stages_variance(stages: Sequence[Stage], influence: Array) -> Array:
    """Design covariance of the column totals of ``influence`` (n x k), summed over stages."""
    z = influence[:, None] if influence.ndim == 1 else influence
    k = z.shape[1]
    cov = np.zeros((k, k))
    for stage in stages:
        totals = group_sums(z, stage.unit, stage.n_units)
        h = stage.unit_stratum
        sums = group_sums(totals, h, stage.n_strata)
        n_h = np.bincount(h, minlength=stage.n_strata).astype(np.float64)
        means = np.where(stage.centre[:, None], sums / n_h[:, None], 0.0)
        dev = totals - means[h]
        scale = stage.unit_scale
        if np.isnan(scale).any():
            return np.full((k, k), np.nan)
        cov += (dev * scale[:, None]).T @ dev
    return cov
