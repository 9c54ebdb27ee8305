"""Shared result type and input checks for the statistics families.

Every estimator returns a frozen dataclass derived from :class:`Estimate`, so the analysis runner
and the report can treat all families alike: ``estimate, ci_low, ci_high, p, n, method`` plus
``status`` (``"ok"`` or the reason there is no estimate) and ``note`` (caveats such as a
continuity correction). ``summary()`` returns the scalar fields as a plain dict (arrays such as ROC
points are left out) and ``conf_int()`` the confidence interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "Array",
    "Estimate",
    "as_matrix",
    "as_vector",
    "check_alpha",
    "check_binary",
    "complete_cases",
]

Array = npt.NDArray[np.float64]


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool | np.floating | np.integer)


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One estimate with its confidence interval, p-value, sample size and method."""

    estimate: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    method: str
    status: str = "ok"
    note: str = ""

    def conf_int(self) -> tuple[float, float]:
        """The confidence interval ``(ci_low, ci_high)``."""
        return (self.ci_low, self.ci_high)

    def summary(self) -> dict[str, Any]:
        """Scalar fields (and tuples of scalars) as a plain dict, ready for a table row."""
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.floating | np.integer):
                value = value.item()
            if _is_scalar(value) or (
                isinstance(value, tuple) and all(_is_scalar(v) for v in value)
            ):
                out[field.name] = value
        return out

    @property
    def ok(self) -> bool:
        """True when an estimate could be computed."""
        return self.status == "ok" and math.isfinite(self.estimate)


def check_alpha(alpha: float) -> float:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def as_vector(values: object, name: str) -> Array:
    """A 1-D float64 array (None/NaN = missing); raises naming the argument otherwise."""
    if isinstance(values, pl.Series):
        if not (values.dtype.is_numeric() or values.dtype == pl.Boolean or values.dtype == pl.Null):
            raise TypeError(
                f"{name}: column {values.name!r} has type {values.dtype}; expected numbers "
                "(code categories numerically first)"
            )
        values = values.cast(pl.Float64).to_numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected numbers (NaN for missing), got {values!r:.80}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if np.isinf(arr).any():
        row = int(np.flatnonzero(np.isinf(arr))[0])
        raise ValueError(f"{name}: row {row} is infinite; allowed: finite numbers or NaN")
    return arr


def as_matrix(values: object, name: str, n_rows: int) -> Array:
    """A 2-D float64 matrix with ``n_rows`` rows; ``None`` gives zero columns.

    Accepts a 1-D array (one column), a 2-D array or a polars DataFrame (all columns used).
    """
    if values is None:
        return np.empty((n_rows, 0), dtype=np.float64)
    if isinstance(values, pl.DataFrame):
        bad = [c for c, t in values.schema.items() if not (t.is_numeric() or t == pl.Boolean)]
        if bad:
            raise TypeError(
                f"{name}: columns {bad} are not numeric; code categories numerically first"
            )
        arr = values.cast(dict.fromkeys(values.columns, pl.Float64)).to_numpy()
    else:
        arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {arr.shape}")
    if arr.shape[0] != n_rows:
        raise ValueError(f"{name}: has {arr.shape[0]} rows but the outcome has {n_rows}")
    if np.isinf(arr).any():
        row, col = (int(v) for v in np.argwhere(np.isinf(arr))[0])
        raise ValueError(f"{name}: row {row}, column {col} is infinite; allowed: finite or NaN")
    return np.ascontiguousarray(arr, dtype=np.float64)


def complete_cases(*arrays: Array) -> npt.NDArray[np.bool_]:
    """Rows with no NaN in any of the (1-D or 2-D) arrays."""
    mask = np.ones(arrays[0].shape[0], dtype=bool)
    for arr in arrays:
        if arr.shape[0] != mask.shape[0]:
            raise ValueError(f"arrays differ in length: {arr.shape[0]} vs {mask.shape[0]}")
        bad = np.isnan(arr) if arr.ndim == 1 else np.isnan(arr).any(axis=1)
        mask &= ~bad
    return mask


def check_binary(values: Array, name: str) -> None:
    """Raise naming the first row whose (non-missing) value is not 0 or 1."""
    observed = ~np.isnan(values)
    bad = observed & (values != 0.0) & (values != 1.0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: row {row} has value {float(values[row])!r}; allowed: 0, 1 or NaN"
        )
