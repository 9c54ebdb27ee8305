"""Turning the analysis dataset into the arrays each analysis needs (vectorised)."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt
import polars as pl

Array = npt.NDArray[np.float64]

MIN_LEVEL_COUNT = 30

__all__ = [
    "MIN_LEVEL_COUNT",
    "at_event",
    "change_frame",
    "clear_frame_cache",
    "column_ranks",
    "covariate_matrix",
    "model_covariate_mask",
    "model_covariates",
    "numeric_columns",
    "to_numeric",
    "vector",
]


def to_numeric(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast text columns that hold only numbers (CSV read as text) to Float64.

    A column is cast only when every non-empty cell parses as a number, so identifiers and
    categorical text (event, lab_matrix, ...) are left alone.
    """
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text_columns:
        return frame

    def parsed(name: str) -> tuple[pl.Expr, pl.Expr]:
        stripped = pl.col(name).str.strip_chars()
        text = pl.when(stripped != "").then(stripped)
        return text, text.cast(pl.Float64, strict=False)

    # First only the verdict per column (a column is numeric when parsing loses no non-empty
    # cell), then the cast of the numeric ones: no full text copy of every column is held at
    # once (reading a 100k-participant CSV as text peaked at twice the memory before).
    lost = frame.select(
        [(parsed(c)[0].is_not_null() & parsed(c)[1].is_null()).any().alias(c) for c in text_columns]
    ).row(0, named=True)
    numeric = [c for c in text_columns if not lost[c]]
    # Text columns that are not numeric keep their text with blanks as missing, as before.
    return frame.with_columns(
        [parsed(c)[1].alias(c) if c in numeric else parsed(c)[0].alias(c) for c in text_columns]
    )


def numeric_columns(frame: pl.DataFrame) -> list[str]:
    return [name for name, dtype in frame.schema.items() if dtype.is_numeric()]


def at_event(frame: pl.DataFrame, event: str) -> pl.DataFrame:
    """Rows of one event (all rows when the data have no event column)."""
    if "event" not in frame.columns:
        return frame
    at = frame.get_column("event") == event
    # Imputed copies already hold one event only; skipping the filter saves a polars query per
    # hypothesis and copy.
    return frame if at.null_count() == 0 and at.all() else frame.filter(at)


# Conversions of recent frames to NumPy, keyed by the frame's identity. Each hypothesis reads
# the same exposures, outcomes and covariates from the same frame (its event's rows, an imputed
# copy); converting once per frame instead of once per hypothesis removed about a third of the
# run time at 100k participants (profile in benchmarks/bench_vs_r.py). The frame itself is held
# so that its id cannot be reused while cached; arrays are read-only so no caller can alter
# another's data.
_CACHED_FRAMES = 12
_cache: OrderedDict[int, tuple[pl.DataFrame, dict[object, object]]] = OrderedDict()


_cache_lock = threading.Lock()  # imputed copies are analysed on two threads


def _frame_cache(frame: pl.DataFrame) -> dict[object, object]:
    key = id(frame)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is None or entry[0] is not frame:
            entry = (frame, {})
            _cache[key] = entry
            while len(_cache) > _CACHED_FRAMES:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        return entry[1]


def clear_frame_cache() -> None:
    """Forget every cached conversion (the runner calls it when a run ends)."""
    _cache.clear()


def _read_only(values: Array) -> Array:
    values.setflags(write=False)
    return values


def vector(frame: pl.DataFrame, column: str) -> Array:
    """A float64 vector with NaN for missing (read-only)."""
    cache = _frame_cache(frame)
    cached = cache.get(column)
    if cached is None:
        series = frame.get_column(column).cast(pl.Float64).fill_null(np.nan)
        cached = cache[column] = _read_only(np.array(series.to_numpy(), dtype=np.float64))
    return cached  # type: ignore[return-value]


def covariate_matrix(
    frame: pl.DataFrame,
    covariates: list[str],
    categorical: list[str],
    restrict_rare: list[str] | tuple[str, ...] = (),
) -> tuple[Array, list[str]]:
    """Covariates as an (n, k) float matrix; categorical ones as indicators (first level = ref).

    Missing stays missing (NaN) in every indicator of a categorical covariate. Every observed
    level gets an indicator here; :func:`model_covariates` merges the rare ones per model,
    except for the covariates in ``restrict_rare``: there a level with fewer than
    ``MIN_LEVEL_COUNT`` rows is made missing, so its rows leave the model (a model restricted
    to the common levels) instead of being pooled with the reference level. The sample matrix
    is such a covariate: 18 serum samples pooled with plasma would be pooling unadjusted.
    The returned array is read-only (shared by every model on the same frame).
    """
    cache = _frame_cache(frame)
    key = ("covariates", tuple(covariates), tuple(categorical), tuple(restrict_rare))
    cached = cache.get(key)
    if cached is None:
        cached = cache[key] = _covariate_matrix(frame, covariates, categorical, restrict_rare)
    matrix: Array = cached[0]  # type: ignore[index]
    names: list[str] = cached[1]  # type: ignore[index]
    return matrix, list(names)


def _covariate_matrix(
    frame: pl.DataFrame,
    covariates: list[str],
    categorical: list[str],
    restrict_rare: list[str] | tuple[str, ...],
) -> tuple[Array, list[str]]:
    exprs: list[pl.Expr] = []
    names: list[str] = []
    for covariate in covariates:
        column = pl.col(covariate).cast(pl.Float64)
        if covariate in categorical:
            # NumPy, not a polars unique(): this runs for every model and imputed copy, and a
            # polars query costs a millisecond of planning each time.
            values = frame.get_column(covariate).cast(pl.Float64).to_numpy()
            levels, counts = np.unique(values[~np.isnan(values)], return_counts=True)
            if covariate in restrict_rare and levels.size > 1:
                # The common levels; when none is common, the most common one alone.
                common = (counts >= MIN_LEVEL_COUNT) | (counts == counts.max())
                rare = levels[~common].tolist()
                levels = levels[common]
                if rare:
                    column = pl.when(column.is_in(rare)).then(None).otherwise(column)
                    # A marker column (0, or missing for the rare levels' rows) takes those rows
                    # out of the model's complete cases; it does not vary, so the model drops it.
                    exprs.append((column * 0.0).alias(f"{covariate}:restricted"))
                    names.append(f"{covariate}:restricted")
            for level in levels.tolist()[1:]:
                name = f"{covariate}={level:g}"
                exprs.append((column == level).cast(pl.Float64).alias(name))
                names.append(name)
        else:
            exprs.append(column.alias(covariate))
            names.append(covariate)
    if not exprs:
        return np.empty((frame.height, 0)), []
    matrix: Array = frame.select(exprs).fill_null(np.nan).to_numpy().astype(np.float64)
    return _read_only(matrix), names


def change_frame(
    frame: pl.DataFrame,
    *,
    outcome: str,
    exposures: list[str],
    covariates: list[str],
    baseline_event: str,
    followup_event: str,
    exposure_event: str,
) -> pl.DataFrame:
    """One row per participant: ``<outcome>_baseline``, ``<outcome>_followup``, exposures
    (from ``exposure_event``) and covariates (from baseline)."""
    if "event" not in frame.columns or "participant_id" not in frame.columns:
        raise ValueError(
            "a change analysis needs long data with participant_id and event columns "
            f"(one row per participant x event); the data have neither {baseline_event!r} "
            f"nor {followup_event!r} rows to pair"
        )
    key = "participant_id"
    base_columns = list(dict.fromkeys([outcome, *covariates]))
    base = at_event(frame, baseline_event).select(
        key, *[pl.col(c) for c in base_columns if c != outcome], pl.col(outcome).alias("_base")
    )
    follow = at_event(frame, followup_event).select(key, pl.col(outcome).alias("_follow"))
    exposed = at_event(frame, exposure_event).select(
        key, *[pl.col(e).alias(f"_exp_{e}") for e in exposures]
    )
    return base.join(follow, on=key, how="inner").join(exposed, on=key, how="left")


def model_covariates(z: Array, names: list[str]) -> tuple[Array, list[str]]:
    """The covariate columns one model uses, given the rows it analyses (its complete cases).

    A categorical level seen fewer than ``MIN_LEVEL_COUNT`` times among these rows gets no
    indicator of its own (it joins the reference level): a handful of people in a category
    otherwise makes logistic models separate ("no event among the 9 participants of other
    sex"). Counting over the model's own rows, not the whole dataset, matters: a level common
    overall can be rare among the participants with, say, a blood sample. Columns that do not
    vary among the rows carry no information and would make the model singular; they go too.
    """
    if z.shape[1] == 0:
        return z, names
    used = model_covariate_mask(z, names)
    return z[:, used], [n for n, u in zip(names, used, strict=True) if u]


def model_covariate_mask(z: Array, names: list[str]) -> npt.NDArray[np.bool_]:
    """Which columns of ``z`` (the model's rows) :func:`model_covariates` keeps."""
    indicator = np.array(["=" in name for name in names], dtype=bool)
    sparse = indicator & ((z == 1).sum(axis=0) < MIN_LEVEL_COUNT)
    varies = (z != z[0]).any(axis=0) if z.shape[0] else np.zeros(z.shape[1], dtype=bool)
    used: npt.NDArray[np.bool_] = varies & ~sparse
    return used


def column_ranks(frame: pl.DataFrame, key: object, values: Array) -> Array:
    """Average ranks of each column of ``values`` (all rows of ``frame``, none missing), kept
    with the frame under ``key``: on an imputed copy every correlation uses every row, so each
    variable is ranked once per copy instead of once per hypothesis."""
    cache = _frame_cache(frame)
    cached = cache.get(("ranks", key))
    if cached is None:
        from fibrosurvey.stats.correlation import average_ranks

        matrix = values if values.ndim == 2 else values[:, None]
        cached = cache[("ranks", key)] = _read_only(average_ranks(matrix))
    return cached  # type: ignore[return-value]
