"""Calibration weights: post-stratification, raking and linear (GREG) calibration (R ``survey``).

Each method returns a new :class:`~fibrosurvey.stats.survey_design.SurveyDesign` with calibrated
weights and an adjustment that the design variance applies to every linearised estimator before
the stage formula, exactly as R ``svyrecvar`` does for ``design$postStrata``:

* ``poststratify(design, margin)`` - R ``postStratify(design, ~cells, population)``: weights
  ``w * N_g / Nhat_g`` in each cell ``g``; variance from ``x - psw * mbar_g`` where ``psw`` are the
  new weights and ``mbar_g`` the old-weight mean of ``x / psw`` in the cell.
* ``rake(design, margins, epsilon=1, max_iter=10)`` - R ``rake``: post-stratify on each margin
  in turn until the weighted cross-table of all margins moves by less than ``epsilon`` (absolute;
  a value < 1 is a fraction of the total weight) in one pass, at most ``max_iter`` passes (R's
  defaults, so the weights equal R's). Variance: R's ten sweeps ``x <- x - psw_m * ave(x / psw_m,
  margin_m)`` over the last pass's margins and weights.
* ``calibrate_linear(design, margins, totals)`` - R ``calibrate(design, formula, population,
  calfun = "linear")`` (no bounds): ``g = 1 + x' (X'WX)^- (T - That)``; variance from the residuals
  of the weighted regression of ``x / (g sqrt(w))`` on ``X sqrt(w)``, times ``g sqrt(w)`` (R's
  ``qr.resid``). Categorical margins enter as one indicator per population cell (the fit and the
  residuals depend only on the column space, so this equals R's treatment contrasts).

A :class:`Margin` is a per-row cell label (one variable, or several crossed) with the population
count of each cell. :func:`margins_from_spec` builds them from a margins YAML file::

    margins:
      - by: stype                      # one variable: level -> population count
        population: {E: 4421, H: 755, M: 1018}
      - by: [stype, sch.wide]          # crossed: one entry per cell
        population:
          - {stype: E, sch.wide: "No", count: 472}
    totals:                            # linear calibration only: population totals
      api99: 3914069
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from fibrosurvey.stats._result import Array
from fibrosurvey.stats.design_stages import dense_codes, group_sums

if TYPE_CHECKING:
    from fibrosurvey.stats.survey_design import SurveyDesign

__all__ = [
    "METHODS",
    "Margin",
    "calibrate_linear",
    "calibrate_with_spec",
    "margins_from_spec",
    "poststratify",
    "rake",
]

METHODS = ("poststratify", "rake", "linear")
Codes = npt.NDArray[np.intp]
_SEP = " \u00d7 "


@dataclass(frozen=True)
class Margin:
    """Per-row cell labels of one margin and the population count of each cell."""

    name: str
    labels: tuple[str | None, ...]
    population: Mapping[str, float]

    def codes(self, n: int) -> tuple[Codes, list[str], Array]:
        """Row codes into the population cells, the cells and their counts; checks the labels."""
        if len(self.labels) != n:
            raise ValueError(f"margin {self.name}: {len(self.labels)} labels for {n} rows")
        cells = list(self.population)
        index = {cell: i for i, cell in enumerate(cells)}
        labels = np.array(["" if v is None else v for v in self.labels], dtype=object)
        present = np.array([v is not None for v in self.labels])
        if not present.all():
            raise ValueError(
                f"margin {self.name}: row {int(np.flatnonzero(~present)[0])} has no value"
            )
        levels, inverse = np.unique(labels.astype(str), return_inverse=True)
        level_codes = np.array([index.get(str(level), -1) for level in levels], dtype=np.intp)
        codes = level_codes[np.asarray(inverse).ravel()]
        if (codes < 0).any():
            row = int(np.flatnonzero(codes < 0)[0])
            raise ValueError(
                f"margin {self.name}: row {row} has {self.labels[row]!r}, which is not in the "
                f"population margin (allowed: {', '.join(cells)})"
            )
        counts = np.array([float(self.population[c]) for c in cells])
        if (counts < 0).any() or not np.isfinite(counts).all():
            raise ValueError(f"margin {self.name}: population counts must be numbers >= 0")
        return codes, cells, counts


def _group_mean(values: Array, codes: Codes, weights: Array | None = None) -> Array:
    """Per-row mean of ``values`` (n x k) within the row's group (optionally weighted)."""
    n_groups = int(codes.max()) + 1
    w = np.ones(codes.size) if weights is None else weights
    sums = group_sums(values * w[:, None], codes, n_groups)
    size = np.bincount(codes, weights=w, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / size[:, None]
    return means[codes]


@dataclass(frozen=True)
class PostStratification:
    """R ``postStratify``'s variance step: ``x - psw * (old-weight mean of x / psw)``."""

    codes: Codes
    old_weights: Array
    weights: Array

    def residualise(self, x: Array) -> Array:
        return x - self.weights[:, None] * _group_mean(
            x / self.weights[:, None], self.codes, self.old_weights
        )


@dataclass(frozen=True)
class Raking:
    """R ``rake``'s variance step: ten sweeps of ``x - psw_m * ave(x / psw_m, margin_m)``."""

    margins: tuple[tuple[Codes, Array], ...]

    def residualise(self, x: Array) -> Array:
        for _ in range(10):
            for codes, weights in self.margins:
                x = x - weights[:, None] * _group_mean(x / weights[:, None], codes)
        return x


@dataclass(frozen=True)
class GregCalibration:
    """R ``calibrate``'s variance step: ``qr.resid(qr(X sqrt(w)), x / (g sqrt(w))) g sqrt(w)``."""

    basis: Array  # orthonormal basis of the columns of X sqrt(w)
    scale: Array  # g sqrt(w)

    def residualise(self, x: Array) -> Array:
        y = x / self.scale[:, None]
        return (y - self.basis @ (self.basis.T @ y)) * self.scale[:, None]


def poststratify(design: SurveyDesign, margin: Margin, partial: bool = False) -> SurveyDesign:
    """Post-stratified design (R ``postStratify(design, ~cells, population, partial)``)."""
    codes, cells, counts = margin.codes(design.n)
    old = design.weights
    estimated = np.bincount(codes, weights=old, minlength=len(cells))
    absent = (estimated == 0) & (counts > 0)
    if absent.any() and not partial:
        missing = [cells[i] for i in np.flatnonzero(absent)]
        raise ValueError(
            f"margin {margin.name}: population cells with no sampled row: {', '.join(missing)} "
            "(merge cells, or use partial=True to ignore them as R's partial = TRUE)"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(estimated > 0, counts / estimated, 1.0)
    new = old * factor[codes]
    return design.with_calibration(new, PostStratification(codes, old, new))


def _check_consistent(margins: Sequence[Margin]) -> None:
    sums = [(m.name, math.fsum(float(v) for v in m.population.values())) for m in margins]
    for name, total in sums[1:]:
        if not math.isclose(total, sums[0][1], rel_tol=1e-9):
            raise ValueError(
                f"margins disagree on the population size: {sums[0][0]} sums to {sums[0][1]:g} "
                f"but {name} to {total:g}"
            )


def rake(
    design: SurveyDesign, margins: Sequence[Margin], epsilon: float = 1.0, max_iter: int = 10
) -> SurveyDesign:
    """Raked design (R ``rake(design, margins, populations, control = list(maxit, epsilon))``)."""
    if not margins:
        raise ValueError("rake: give at least one margin")
    if epsilon <= 0 or max_iter < 1:
        raise ValueError("rake: epsilon must be > 0 and max_iter >= 1")
    _check_consistent(margins)
    coded = [m.codes(design.n) for m in margins]
    joint = dense_codes([c for c, _, _ in coded])
    tolerance = epsilon * float(design.weights.sum()) if epsilon < 1 else epsilon
    weights = design.weights
    old_table = np.bincount(joint, weights=weights)
    steps: list[tuple[Codes, Array]] = []
    converged = False
    for _ in range(max_iter):
        steps = []
        for margin, (codes, cells, counts) in zip(margins, coded, strict=True):
            estimated = np.bincount(codes, weights=weights, minlength=len(cells))
            absent = (estimated == 0) & (counts > 0)
            if absent.any():
                missing = [cells[i] for i in np.flatnonzero(absent)]
                raise ValueError(
                    f"margin {margin.name}: population cells with no sampled row: "
                    f"{', '.join(missing)}"
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(estimated > 0, counts / estimated, 1.0)
            weights = weights * factor[codes]
            steps.append((codes, weights))
        new_table = np.bincount(joint, weights=weights)
        if np.max(np.abs(old_table - new_table)) < tolerance:
            converged = True
            break
        old_table = new_table
    if not converged:
        warnings.warn(f"raking did not converge after {max_iter} passes", stacklevel=2)
    return design.with_calibration(weights, Raking(tuple(steps)))


def calibrate_linear(
    design: SurveyDesign,
    margins: Sequence[Margin] = (),
    totals: Mapping[str, tuple[object, float]] | None = None,
) -> SurveyDesign:
    """Linear (GREG) calibration (R ``calibrate(design, formula, population)``).

    ``margins`` add one indicator column per population cell; ``totals`` maps a name to
    ``(per-row values, population total)`` for numeric auxiliaries.
    """
    totals = dict(totals or {})
    if not margins and not totals:
        raise ValueError("calibrate: give margins and/or totals")
    _check_consistent(margins)
    columns: list[Array] = []
    population: list[float] = []
    names: list[str] = []
    for margin in margins:
        codes, cells, counts = margin.codes(design.n)
        indicators = (codes[:, None] == np.arange(len(cells))[None, :]).astype(np.float64)
        columns.extend(indicators.T)
        population.extend(counts.tolist())
        names.extend(f"{margin.name}={cell}" for cell in cells)
    for name, (values, total) in totals.items():
        x = np.asarray(values, dtype=np.float64)
        if x.shape != (design.n,):
            raise ValueError(f"total {name}: expected {design.n} values, got shape {x.shape}")
        if not np.isfinite(x).all():
            row = int(np.flatnonzero(~np.isfinite(x))[0])
            raise ValueError(f"total {name}: row {row} is missing; calibration needs every row")
        columns.append(x)
        population.append(float(total))
        names.append(name)
    mm = np.column_stack(columns)
    target = np.array(population)
    w = design.weights
    sample = mm.T @ w
    unused = (sample == 0) & (target == 0) & (mm == 0).all(axis=0)
    lacking = (sample == 0) & (target != 0)
    if lacking.any():
        raise ValueError(
            "calibrate: no sampled row for " + ", ".join(np.array(names)[lacking].tolist())
        )
    mm, target, sample = mm[:, ~unused], target[~unused], sample[~unused]
    root = np.sqrt(w)
    weighted = mm * root[:, None]
    step = np.linalg.lstsq(weighted.T @ weighted, target - sample, rcond=None)[0]
    g = 1 + mm @ step
    achieved = mm.T @ (w * g)
    if not np.allclose(
        achieved, target, rtol=1e-7, atol=1e-7 * max(1.0, float(np.abs(target).max()))
    ):
        raise ValueError(
            "calibrate: the population totals are inconsistent with each other (e.g. margins "
            "summing to different population sizes); check the margins file"
        )
    u, singular, _ = np.linalg.svd(weighted, full_matrices=False)
    rank = int((singular > singular[0] * max(weighted.shape) * np.finfo(float).eps).sum())
    return design.with_calibration(w * g, GregCalibration(u[:, :rank], g * root))


# -- margins files -------------------------------------------------------------------------
def _labels(series: pl.Series) -> list[str | None]:
    """Cell labels as text: whole floats without '.0', so 1.0 in the data matches 1 in YAML."""
    if series.dtype.is_float():
        return [
            None
            if v is None or math.isnan(v)
            else (str(int(v)) if float(v).is_integer() else str(v))
            for v in series.to_list()
        ]
    return [None if v is None else str(v) for v in series.to_list()]


def _key(value: object, where: str) -> str:
    if isinstance(value, bool):
        raise ValueError(
            f'{where}: level {value!r} was read as a yes/no value; quote it (e.g. "No")'
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _count(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{where}: population count {value!r} is not a number >= 0")
    return float(value)


def margins_from_spec(
    frame: pl.DataFrame, spec: Mapping[str, Any]
) -> tuple[list[Margin], dict[str, tuple[object, float]]]:
    """Margins and numeric totals for the rows of ``frame`` from a margins file's content."""
    unknown = sorted(set(spec) - {"margins", "totals"})
    if unknown:
        raise ValueError(f"margins file: unknown keys {unknown}; allowed: margins, totals")
    margins: list[Margin] = []
    for i, entry in enumerate(spec.get("margins") or []):
        where = f"margins[{i}]"
        if not isinstance(entry, Mapping) or set(entry) != {"by", "population"}:
            raise ValueError(f"{where}: expected the keys 'by' and 'population'")
        by = [entry["by"]] if isinstance(entry["by"], str) else list(entry["by"])
        absent = [c for c in by if c not in frame.columns]
        if absent:
            raise ValueError(f"{where}: column(s) {absent} are not in the data")
        texts = [_labels(frame.get_column(c)) for c in by]
        labels = tuple(
            None if any(t is None for t in row) else _SEP.join(str(t) for t in row)
            for row in zip(*texts, strict=True)
        )
        population: dict[str, float] = {}
        raw = entry["population"]
        if len(by) == 1 and isinstance(raw, Mapping):
            for level, count in raw.items():
                population[_key(level, where)] = _count(count, f"{where}.{level}")
        elif isinstance(raw, list):
            for j, cell in enumerate(raw):
                cell_where = f"{where}.population[{j}]"
                if not isinstance(cell, Mapping) or set(cell) != {*by, "count"}:
                    raise ValueError(f"{cell_where}: expected the keys {[*by, 'count']}")
                key = _SEP.join(_key(cell[c], cell_where) for c in by)
                population[key] = _count(cell["count"], cell_where)
        else:
            raise ValueError(
                f"{where}.population: a mapping level -> count (one variable) or a list of cells"
            )
        margins.append(Margin(_SEP.join(by), labels, population))
    totals: dict[str, tuple[object, float]] = {}
    for name, total in (spec.get("totals") or {}).items():
        if name not in frame.columns:
            raise ValueError(f"totals: column {name!r} is not in the data")
        values = frame.get_column(name)
        if not values.dtype.is_numeric():
            raise ValueError(f"totals: column {name!r} is not numeric")
        totals[str(name)] = (values.cast(pl.Float64).to_numpy(), _count(total, f"totals.{name}"))
    if not margins and not totals:
        raise ValueError("margins file: give 'margins' (and/or 'totals' for linear calibration)")
    return margins, totals


def calibrate_with_spec(
    design: SurveyDesign,
    frame: pl.DataFrame,
    spec: Mapping[str, Any],
    method: str,
    epsilon: float = 1.0,
    max_iter: int = 10,
) -> SurveyDesign:
    """``design`` calibrated by ``method`` (one of :data:`METHODS`) to a margins file's content."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    margins, totals = margins_from_spec(frame, spec)
    if method != "linear" and totals:
        raise ValueError(f"{method}: 'totals' need linear calibration (--method linear)")
    if method == "poststratify":
        if len(margins) != 1:
            raise ValueError(
                "poststratify: give exactly one margin (cross variables with by: [a, b]); "
                f"got {len(margins)}"
            )
        return poststratify(design, margins[0])
    if method == "rake":
        return rake(design, margins, epsilon=epsilon, max_iter=max_iter)
    return calibrate_linear(design, margins, totals)
