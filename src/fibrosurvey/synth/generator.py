"""Assemble the synthetic national survey as an analysis dataset (one row per participant x event).

:func:`simulate` draws every latent and observed array for ``n`` participants without any
missingness (NumPy, vectorised, one ``np.random.default_rng(seed)`` stream, so the same seed
gives the same numbers); :func:`generate` applies item non-response, keeps lab values only for
the ~40% with a draw, builds the Polars frame with the baseline rows and the ~60% follow-up
rows, and adds the score columns with :func:`fibrosurvey.scoring.score_frame`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from fibrosurvey.dataset import (
    BASELINE,
    FOLLOWUP,
    PREANALYTICAL_COLUMNS,
    biomarker_columns,
)
from fibrosurvey.instruments import INSTRUMENT_ORDER, load_instruments
from fibrosurvey.synth.clinical import draw_items
from fibrosurvey.synth.design import draw_design
from fibrosurvey.synth.followup import draw_followup
from fibrosurvey.synth.labs import LAB_LABELS, draw_labs
from fibrosurvey.synth.nonresponse import missing_masks
from fibrosurvey.synth.people import draw_people
from fibrosurvey.synth.scenarios import Scenario, get_scenario
from fibrosurvey.synth.treatments import draw_treatments, lifestyle_domains, perturb_treatments

__all__ = ["LAB_SHARE", "Simulation", "SynthResult", "generate", "simulate"]

LAB_SHARE = 0.4
FOLLOWUP_INSTRUMENTS = ("fiqr", "nrs", "peg", "tx", "pgic")
Arrays = dict[str, np.ndarray]
Progress = Callable[[str], None]


@dataclass
class Simulation:
    """Everything drawn for one cohort, complete (no item non-response)."""

    scenario: Scenario
    n: int
    seed: int
    design: Any
    latent: Arrays
    baseline: Arrays  # item answers incl. demo and tx
    labs: Arrays  # biomarker + pre-analytical columns, for everyone
    has_lab: np.ndarray
    followup: Arrays  # fiqr, nrs, peg, tx, pgic answers at 3 months, for everyone
    answered_followup: np.ndarray
    domains: dict[str, np.ndarray]


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


def _fiqr_total(items: Arrays) -> np.ndarray:
    function = sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(1, 10))
    overall = sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(10, 12))
    symptoms = sum(items[f"fiqr_{i:02d}"].astype(np.float64) for i in range(12, 22))
    return np.asarray(function / 3 + overall + symptoms / 2)


def simulate(
    scenario: str | Scenario, n: int, seed: int, progress: Progress | None = None
) -> Simulation:
    """Draw a complete cohort (see the package docstring for the model)."""
    if n < 1:
        raise ValueError(f"n must be a positive number of participants, got {n}")
    spec = get_scenario(scenario) if isinstance(scenario, str) else scenario
    rng = np.random.default_rng(seed)
    step = progress or (lambda _message: None)
    step("sampling design")
    design = draw_design(rng, n)
    step("participants and latent severity")
    latent = draw_people(rng, n, spec)
    latent["demo_region"] = design.stratum.astype(np.int8)
    step("questionnaire answers")
    baseline = draw_items(rng, latent)
    for column in (
        "demo_age",
        "demo_sex",
        "demo_height_cm",
        "demo_weight_kg",
        "demo_region",
        "demo_education",
        "demo_years_since_onset",
        "demo_menopause",
        "demo_hormonal_contraception",
    ):
        baseline[column] = latent[column]
    fiqr = _fiqr_total(baseline)
    fiqr_z = (fiqr - fiqr.mean()) / max(float(fiqr.std()), 1e-9)
    bmi_z = (latent["bmi_true"] - 28.0) / 6.0
    step("treatments and lifestyle")
    tx = draw_treatments(rng, latent, fiqr_z, bmi_z)
    baseline.update(tx)
    step("biomarkers")
    n_sites = int(design.site_index.max()) + 1
    site_lab_share = np.clip(rng.normal(LAB_SHARE, 0.1, n_sites), 0.05, 0.95)
    has_lab = rng.random(n) < site_lab_share[design.site_index]
    labs, log_values = draw_labs(
        rng,
        spec,
        latent,
        tx["tx_cannabis_days_since"],
        tx["tx_cannabis_recreational"],
        design.site_index,
    )
    latent.update({f"log_{k}": v for k, v in log_values.items()})
    step("follow-up at 3 months")
    domains = lifestyle_domains(tx)
    answered, followup = draw_followup(rng, spec, latent, domains, tx["tx_gabapentinoid"])
    latent["severity_3m"] = followup.pop("severity_3m")
    followup.update(perturb_treatments(rng, tx))
    return Simulation(
        spec, n, seed, design, latent, baseline, labs, has_lab, followup, answered, domains
    )


def _column(values: np.ndarray, missing: np.ndarray | None, dtype: pl.DataType) -> pl.Series:
    """A Polars series with nulls where ``missing`` (or NaN) holds; no Python loop."""
    array = np.asarray(values)
    mask = np.zeros(array.shape, dtype=bool) if missing is None else missing.copy()
    if array.dtype.kind == "f":
        mask |= np.isnan(array)
    if array.dtype.kind in "US":
        series = pl.Series(array.astype(str))
        return series.set(pl.Series(mask), None) if mask.any() else series  # type: ignore[arg-type]
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
) -> SynthResult:
    """Generate the synthetic national survey.

    Returns :class:`SynthResult` with ``.data`` (analysis-dataset format) and ``.truth`` (the
    planted effects and the population values an analysis should recover).
    """
    from fibrosurvey.synth.truth import truth_for

    sim = simulate(scenario, n, seed, progress)
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
            columns[column] = codes.set(pl.Series(missing), None)  # type: ignore[arg-type]
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
        pl.col("lab_fasting").cast(pl.Int16),
        pl.col("lab_freeze_thaw").cast(pl.Int16),
        *[pl.col(f"{a}_below_lloq").cast(pl.Int16) for a in ("aea", "twoag", "pea", "oea", "sea")],
        pl.col("twoag_includes_1ag").cast(pl.Int16),
    ]


def without_effects(scenario: Scenario) -> Scenario:
    """The same scenario with every C3 effect set to zero (the counterfactual course)."""
    return replace(
        scenario,
        effect_any_lifestyle=0.0,
        effect_exercise=0.0,
        effect_mindbody=0.0,
        effect_gabapentinoid=0.0,
    )
