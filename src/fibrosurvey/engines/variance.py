"""The multi-stage variance from per-stratum aggregates (the tail of R ``svyrecvar``).

Each stage's table (one row per stratum, from :meth:`.sql.SqlPlan.stage_sql`) carries the number
of units ``n_h``, the stratum's fpc and, per estimand, the sum and centred sum of squares of the
unit totals. This module applies exactly the rules of :mod:`fibrosurvey.stats.design_stages`
(fpc as sizes or fractions, the multiplier of the sampling fractions above, lonely units, complete
sampling) to those small tables; the rows never reach Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from fibrosurvey.engines.sql import SqlPlan
from fibrosurvey.stats._result import Array
from fibrosurvey.stats.design_stages import LONELY_PSU_OPTIONS

__all__ = ["stage_variances"]


def _label(plan: SqlPlan, table: pl.DataFrame, row: int, stage: int) -> str:
    """The stratum of ``row`` named by its design columns, e.g. ``design_stratum='north'``."""
    d = plan.design
    names = {f"_s{i}": c for i, c in enumerate(d.strata)} | {
        f"_p{i}": c for i, c in enumerate(d.psu)
    }
    parts = [f"{names[k]}={table[k][row]!r}" for k in plan.stratum_keys(stage) if k in names]
    return ", ".join(parts) or "the only stratum"


def _fraction_form(plan: SqlPlan, tables: Sequence[pl.DataFrame]) -> bool:
    values = np.concatenate(
        [t[c].cast(pl.Float64).to_numpy() for t in tables[: len(plan.design.fpc)]
         for c in ("fmin", "fmax")]
    ) if plan.design.fpc else np.array([])  # fmt: skip
    finite = values[np.isfinite(values)]
    fraction_form = bool(finite.size) and bool((finite <= 1).all())
    if not fraction_form and (finite < 1).any():
        raise ValueError("fpc: give population sizes (all >= 1) or fractions (all <= 1)")
    return fraction_form


def stage_variances(plan: SqlPlan, tables: Sequence[pl.DataFrame]) -> tuple[Array, int]:
    """Variance of each estimand's linearised total, and the design df (PSUs - strata)."""
    k = len(plan.estimands)
    cov, df = stage_covariance(plan, tables, k, [(j, j) for j in range(k)])
    return np.diag(cov).copy(), df


def stage_covariance(
    plan: SqlPlan, tables: Sequence[pl.DataFrame], k: int, pairs: Sequence[tuple[int, int]]
) -> tuple[Array, int]:
    """Design covariance (k x k, entries of ``pairs`` and their mirror) of ``k`` totals."""
    design = plan.design
    fraction_form = _fraction_form(plan, tables)
    variance = np.zeros((k, k))
    fractions: list[pl.DataFrame] = []
    for stage, table in enumerate(tables):
        n_h = table["n_h"].cast(pl.Float64).to_numpy()
        if stage < len(design.fpc):
            name = "fpc" if stage == 0 else f"fpc (stage {stage + 1})"
            low = table["fmin"].cast(pl.Float64).to_numpy()
            high = table["fmax"].cast(pl.Float64).to_numpy()
            differs = ~np.isclose(high, low) & ~(np.isinf(high) & np.isinf(low))
            if differs.any():
                where = _label(plan, table, int(np.flatnonzero(differs)[0]), stage)
                raise ValueError(f"{name}: differs between rows of the stratum {where}")
            with np.errstate(divide="ignore"):
                population = np.where(np.isinf(low), np.inf, n_h / low) if fraction_form else low
            short = population < n_h - 1e-9
            if short.any():
                h = int(np.flatnonzero(short)[0])
                raise ValueError(
                    f"{name}: the stratum {_label(plan, table, h, stage)} has {int(n_h[h])} "
                    f"sampled units but a population of {population[h]:g}"
                )
        else:
            population = np.full(n_h.size, np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(np.isinf(population), 1.0, (population - n_h) / population)
            fraction = np.where(np.isinf(population), 0.0, n_h / population)
        keys = plan.stratum_keys(stage)
        current = table.with_columns(
            pl.Series("_fraction", fraction), pl.Series("_f", f),
            pl.Series("_order", np.arange(table.height)),
        )  # fmt: skip
        multiplier = np.ones(table.height)
        for above, stratum_fraction in enumerate(fractions):
            joined = current.select([*plan.stratum_keys(above), "_order"]).join(
                stratum_fraction, on=plan.stratum_keys(above), how="left"
            )
            multiplier = multiplier * joined.sort("_order")[f"_fraction_{above}"].to_numpy()
        fractions.append(current.select([*keys, pl.col("_fraction").alias(f"_fraction_{stage}")]))
        contribution = _stage_contribution(plan, current, stage, n_h, f, multiplier, pairs)
        if contribution is None:
            return np.full((k, k), np.nan), _df(tables[0])
        for (a, b), value in zip(pairs, contribution, strict=True):
            variance[a, b] += value
            if a != b:
                variance[b, a] += value
    return variance, _df(tables[0])


def _df(first_stage: pl.DataFrame) -> int:
    return int(first_stage["n_h"].sum()) - first_stage.height


def _stage_contribution(
    plan: SqlPlan,
    table: pl.DataFrame,
    stage: int,
    n_h: Array,
    f: Array,
    multiplier: Array,
    pairs: Sequence[tuple[int, int]],
) -> list[float] | None:
    """This stage's share of each variance; ``None`` when R's 'average' rule gives NaN."""
    lonely_psu = plan.design.lonely_psu
    certain = f < 1e-7
    lonely = (n_h == 1) & ~certain
    if lonely.any() and lonely_psu == "fail":
        what = "PSU" if stage == 0 else f"sampled unit at stage {stage + 1}"
        where = _label(plan, table, int(np.flatnonzero(lonely)[0]), stage)
        raise ValueError(
            f"the stratum {where} has a single {what}; choose lonely_psu from "
            f"{LONELY_PSU_OPTIONS[:-1]} (R survey.lonely.psu)"
        )
    scale = np.where(n_h > 1, f * n_h / np.maximum(n_h - 1, 1), f) * multiplier
    scale[certain] = 0.0
    centre = ~(lonely & (lonely_psu == "adjust"))
    if lonely_psu in ("certainty", "remove", "average"):
        scale[lonely] = 0.0
    if lonely_psu == "average" and lonely.any():
        parents = plan.parent_keys(stage)
        counted = table.select(parents).with_columns(
            pl.Series("_ok", (~lonely).astype(np.float64)), pl.lit(1.0).alias("_all")
        )
        factor = counted.with_columns(
            (pl.col("_all").sum().over(parents) / pl.col("_ok").sum().over(parents)).alias("_x")
        )["_x"].to_numpy()
        with np.errstate(invalid="ignore"):
            scale = scale * factor  # 0 * inf = NaN when a parent's strata are all lonely, as R
    if np.isnan(scale).any():
        return None
    out = []
    for a, b in pairs:
        sum_a = table[f"s_{a}"].cast(pl.Float64).to_numpy()
        sum_b = table[f"s_{b}"].cast(pl.Float64).to_numpy()
        products = table[f"ss_{a}_{b}"].cast(pl.Float64).to_numpy()
        out.append(float(np.sum(scale * np.where(centre, products, sum_a * sum_b))))
    return out
