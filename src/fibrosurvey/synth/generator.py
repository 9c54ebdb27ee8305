"""Assemble the synthetic national survey as an analysis dataset (one row per participant x event).

:func:`~fibrosurvey.synth.simulation.simulate` draws every latent and observed array for ``n``
participants without any missingness; :func:`generate` applies item non-response, keeps lab
values only for the ~40% with a draw, builds the Polars frame with the baseline rows and the
~60% follow-up rows, and adds the score columns with :func:`fibrosurvey.scoring.score_frame`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from fibrosurvey.countries import DEFAULT_COUNTRY
from fibrosurvey.dataset import (
    BASELINE,
    FOLLOWUP,
    PREANALYTICAL_COLUMNS,
    biomarker_columns,
    column_dtype,
)
from fibrosurvey.instruments import INSTRUMENT_ORDER, load_instruments
from fibrosurvey.synth.labs import LAB_LABELS
from fibrosurvey.synth.nonresponse import missing_masks
from fibrosurvey.synth.simulation import (
    LAB_SHARE,
    Progress,
    Simulation,
    simulate,
    without_effects,
)
from fibrosurvey.synth.truth import truth_for

__all__ = [
    "LAB_SHARE",
    "Simulation",
    "SynthResult",
    "generate",
    "simulate",
    "without_effects",
]

FOLLOWUP_INSTRUMENTS = ("fiqr", "nrs", "peg", "tx", "pgic")


@dataclass
class SynthResult:
    """The dataset and the planted truth (see :mod:`fibrosurvey.synth.truth`)."""

    data: pl.DataFrame
    truth: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        baseline = self.data.filter(pl.col("event") == BASELINE)
        return (
            f"scenario {self.truth.get('scenario')}: {baseline.height} participants, "
            f"{self.data.height - baseline.height} follow-up rows, "
            f"{baseline['aea'].drop_nulls().len()} with biomarkers"
        )


def _column(values: np.ndarray, missing: np.ndarray | None, dtype: pl.DataType) -> pl.Series:
    """A Polars series with nulls where ``missing`` (or NaN) holds; no Python loop."""
    array = np.asarray(values)
    mask = np.zeros(array.shape, dtype=bool) if missing is None else missing.copy()
    if array.dtype.kind == "f":
        mask |= np.isnan(array)
    if array.dtype.kind in "US":
        series = pl.Series(array.astype(str))
        return series.set(pl.Series(mask), None) if mask.any() else series
    return pl.from_arrow(pa.array(array, mask=mask)).cast(dtype)  # type: ignore[return-value]


# Gate items added with skip logic (instrument versions 1.1.0) that the simulation does not
# draw: without their column the items they gate stay asked of everyone (as in 1.0.0), so the
# simulated answers and the truth values do not change.
NOT_SIMULATED = frozenset({"tx_thc_use", "migraine_headaches", "ibs_abdominal_pain"})


def _item_dtypes() -> dict[str, pl.DataType]:
    """Item column -> Polars dtype: Int16 for coded and integer items, Float64 for numbers."""
    dtypes: dict[str, pl.DataType] = {}
    for instrument_id in INSTRUMENT_ORDER:
        for item in load_instruments()[instrument_id].items:
            if item.kind == "number":
                dtypes[item.column] = pl.Float64()
            else:
                # Int16, not Int8: sums and prorations of small codes (e.g. 14 * 9 in PHQ-9)
                # overflow Int8 in any consumer that does arithmetic in the column's dtype.
                dtypes[item.column] = pl.Int16()
    return dtypes


def generate(
    scenario: str,
    n: int,
    seed: int,
    *,
    score: bool = True,
    progress: Progress | None = None,
    country: str = DEFAULT_COUNTRY,
) -> SynthResult:
    """Generate the synthetic national survey of ``country`` (its regions are the strata).

    Returns :class:`SynthResult` with ``.data`` (analysis-dataset format) and ``.truth`` (the
    planted effects and the population values an analysis should recover).
    """
    sim = simulate(scenario, n, seed, progress, country)
    step = progress or (lambda _message: None)
    step("item non-response")
    rng = np.random.default_rng([seed, 1])  # a separate stream: the complete data stay fixed
    dtypes = _item_dtypes()
    instruments = load_instruments()
    baseline_items = [
        c
        for i in INSTRUMENT_ORDER
        if i != "pgic"
        for c in instruments[i].item_columns()
        if c not in NOT_SIMULATED
    ]
    followup_items = [
        c
        for i in FOLLOWUP_INSTRUMENTS
        for c in instruments[i].item_columns()
        if c not in NOT_SIMULATED
    ]
    severity, age = sim.latent["severity"], sim.latent["demo_age"]
    masks = missing_masks(rng, baseline_items, severity, age)
    fu_masks = missing_masks(rng, followup_items, sim.latent["severity_3m"], age)

    step("building the table")
    data = _build_table(sim, masks, fu_masks, baseline_items, followup_items, dtypes)
    # The survey never asks (nor stores) what skip logic hides: no CBD dose without CBD, no
    # menopause question for men.
    from fibrosurvey.instruments.logic import SkipLogic

    data = SkipLogic(load_instruments().values()).without_hidden_answers(data)
    truth = truth_for(sim, data.height)
    del sim, masks, fu_masks  # free the drawn arrays before scoring
    if score:
        step("scoring")
        from fibrosurvey.scoring import score_frame

        data = score_frame(data)
    return SynthResult(data=data, truth=truth)


def _build_table(
    sim: Simulation,
    masks: dict[str, np.ndarray],
    fu_masks: dict[str, np.ndarray],
    baseline_items: list[str],
    followup_items: list[str],
    dtypes: dict[str, pl.DataType],
) -> pl.DataFrame:
    """One frame, rows ordered by participant (baseline, then follow-up), built column-wise.

    Each column is assembled in NumPy at its final row positions, so the table is never copied
    whole (no concat, no sort): this keeps n = 1,000,000 well under 3 GB.
    """
    n = sim.n
    keep = np.flatnonzero(sim.answered_followup)
    total = n + keep.size
    # Row r of the table: participant who[r]; is_followup[r] tells the event.
    key = np.concatenate([np.arange(n, dtype=np.int64) * 2, keep.astype(np.int64) * 2 + 1])
    order = np.argsort(key, kind="stable")
    position = np.empty(total, dtype=np.int64)
    position[order] = np.arange(total)
    base_pos, fu_pos = position[:n], position[n:]
    who = np.empty(total, dtype=np.int64)
    who[base_pos] = np.arange(n)
    who[fu_pos] = keep
    is_followup = np.zeros(total, dtype=np.int64)
    is_followup[fu_pos] = 1

    def spread(
        base: np.ndarray | None,
        base_missing: np.ndarray | None,
        followup: np.ndarray | None = None,
        followup_missing: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        sample = base if base is not None else followup
        assert sample is not None
        values = np.zeros(total, dtype=sample.dtype)
        missing = np.ones(total, dtype=bool)
        if base is not None:
            values[base_pos] = base
            missing[base_pos] = base_missing if base_missing is not None else False
        if followup is not None:
            values[fu_pos] = followup[keep]
            missing[fu_pos] = followup_missing[keep] if followup_missing is not None else False
        return values, missing

    design = sim.design
    psu = design.psu[who]
    columns: dict[str, pl.Series] = {
        "participant_id": ("P" + pl.Series(who + 1).cast(pl.String).str.zfill(7)).alias(
            "participant_id"
        ),
        "event": pl.Series("event", [BASELINE, FOLLOWUP]).gather(is_followup),
        "site": ("site-" + pl.Series(psu).cast(pl.String).str.zfill(5)).alias("site"),
        "design_stratum": pl.Series(design.stratum[who]).cast(pl.Int16),
        "design_psu": pl.Series(psu).cast(pl.Int32),
        "design_weight": pl.Series(design.weight[who]).cast(pl.Float64),
        "design_fpc": pl.Series(design.fpc[who]).cast(pl.Int32),
    }
    answered_again = set(followup_items)
    for column in [*baseline_items, *(c for c in followup_items if c not in baseline_items)]:
        base_values = sim.baseline.pop(column, None)
        if column in answered_again:
            values, missing = spread(
                base_values, masks.get(column), sim.followup.pop(column), fu_masks[column]
            )
        else:
            values, missing = spread(base_values, masks[column])
        columns[column] = _column(values, missing, dtypes[column])
    no_lab = ~sim.has_lab
    for column in [*biomarker_columns(), *PREANALYTICAL_COLUMNS]:
        values, missing = spread(sim.labs.pop(column), no_lab)
        if column in LAB_LABELS:
            labels = pl.Series(column, LAB_LABELS[column], dtype=pl.String)
            codes = labels.gather(values.astype(np.int64))
            columns[column] = codes.set(pl.Series(missing), None)
            continue
        dtype: pl.DataType = pl.Float64() if values.dtype.kind == "f" else pl.Int16()
        columns[column] = _column(values, missing, dtype)
    return pl.DataFrame(columns).with_columns(_format_lab_columns())


def _format_lab_columns() -> list[pl.Expr]:
    minutes = pl.col("lab_draw_time").cast(pl.Int32)
    return [
        pl.format(
            "{}:{}",
            (minutes // 60).cast(pl.String).str.zfill(2),
            (minutes % 60).cast(pl.String).str.zfill(2),
        ).alias("lab_draw_time"),
        pl.format("B{}", pl.col("lab_batch").cast(pl.String).str.zfill(5)).alias("lab_batch"),
        *[
            pl.col(column).cast(column_dtype(column))
            for column in (*biomarker_columns(), *PREANALYTICAL_COLUMNS)
            if column_dtype(column) != pl.String
        ],
    ]
