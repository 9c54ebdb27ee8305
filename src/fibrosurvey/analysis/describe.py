"""Descriptions for the report: Table 1, score distributions and data quality (vectorised)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from fibrosurvey.analysis.frames import at_event
from fibrosurvey.analysis.numbers import format_estimate
from fibrosurvey.dataset import ANALYTES, BASELINE

__all__ = ["cohort_table", "data_quality", "score_distributions"]

# (column, label, kind): kind "mean" = mean (SD), "median" = median [IQR], "share" = n (%) of 1s.
TABLE_ONE: list[tuple[str, str, str]] = [
    ("demo_age", "Age, years, mean (SD)", "mean"),
    ("demo_female", "Female, n (%)", "share"),
    ("demo_bmi", "Body mass index, kg/m², mean (SD)", "mean"),
    ("demo_years_since_onset", "Years since symptoms began, median [IQR]", "median"),
    ("fsq_acr2016", "Meets ACR 2016 fibromyalgia criteria, n (%)", "share"),
    ("fiqr_total", "FIQR total (0-100), median [IQR]", "median"),
    ("fsq_wpi", "Widespread pain index (0-19), median [IQR]", "median"),
    ("fsq_sss", "Symptom severity (0-12), median [IQR]", "median"),
    ("phq9_total", "PHQ-9 (0-27), median [IQR]", "median"),
    ("gad7_total", "GAD-7 (0-21), median [IQR]", "median"),
    ("jss_total", "Jenkins Sleep Scale (0-20), median [IQR]", "median"),
    ("tx_opioid", "Opioid in past 3 months, n (%)", "share"),
    ("tx_gabapentinoid", "Gabapentinoid in past 3 months, n (%)", "share"),
    ("tx_cannabis_recreational", "Recreational cannabis, n (%)", "share"),
]
# Biomarker rows, one block per sample matrix: serum and plasma levels differ systematically,
# so pooled medians would describe neither.
BIOMARKER_ROWS: list[tuple[str, str]] = [
    ("aea", "AEA"),
    ("twoag", "2-AG"),
    ("pea", "PEA"),
    ("oea", "OEA"),
    ("sea", "SEA"),
]

DISTRIBUTIONS: list[tuple[str, str, float, float]] = [
    ("fiqr_total", "FIQR total", 0, 100),
    ("fsq_wpi", "Widespread pain index", 0, 19),
    ("fsq_sss", "Symptom severity scale", 0, 12),
    ("phq9_total", "PHQ-9 total", 0, 27),
    ("gad7_total", "GAD-7 total", 0, 21),
    ("jss_total", "Jenkins Sleep Scale", 0, 20),
    ("peg_score", "PEG score", 0, 10),
    ("nrs_pain", "Pain rating (NRS)", 0, 10),
]


def _table_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, list[tuple[str, str, str]]]:
    """The frame with one column per biomarker and matrix, and Table 1's rows for it."""
    rows = list(TABLE_ONE)
    analytes = [(a, name) for a, name in BIOMARKER_ROWS if a in frame.columns]
    if not analytes:
        return frame, rows
    if "lab_matrix" not in frame.columns:
        return frame, rows + [
            (a, f"{name}, pmol/mL, median [IQR]", "median") for a, name in analytes
        ]
    matrix = pl.col("lab_matrix").cast(pl.String)
    with_values = frame.filter(pl.any_horizontal([pl.col(a).is_not_null() for a, _ in analytes]))
    matrices = sorted(with_values.get_column("lab_matrix").cast(pl.String).drop_nulls().unique())
    if with_values.get_column("lab_matrix").null_count():
        matrices.append("unknown")
    columns = []
    for level in matrices:
        chosen = matrix.is_null() if level == "unknown" else (matrix == level)
        shown = level.replace("_", " ")
        rows.append((f"matrix|{level}", f"{shown.capitalize()} samples, n", "count"))
        columns.append(
            (chosen & pl.any_horizontal([pl.col(a).is_not_null() for a, _ in analytes]))
            .fill_null(False)
            .cast(pl.Int64)
            .alias(f"matrix|{level}")
        )
        for analyte, name in analytes:
            column = f"{analyte}|{level}"
            rows.append((column, f"{name} in {shown}, pmol/mL, median [IQR]", "median"))
            columns.append(pl.when(chosen).then(pl.col(analyte)).alias(column))
    return frame.with_columns(columns), rows


def _summaries(frame: pl.DataFrame, table: list[tuple[str, str, str]]) -> dict[str, str]:
    exprs: list[pl.Expr] = []
    present = []
    for column, _, kind in table:
        if column not in frame.columns:
            continue
        present.append((column, kind))
        c = pl.col(column).cast(pl.Float64)
        exprs += [
            c.mean().alias(f"{column}|mean"),
            c.std().alias(f"{column}|sd"),
            c.median().alias(f"{column}|median"),
            c.quantile(0.25, "linear").alias(f"{column}|q1"),
            c.quantile(0.75, "linear").alias(f"{column}|q3"),
            c.sum().alias(f"{column}|sum"),
            c.count().alias(f"{column}|count"),
        ]
    if not exprs:
        return {}
    row = frame.select(exprs).row(0, named=True)
    out: dict[str, str] = {}
    for column, kind in present:
        count = row[f"{column}|count"]
        missing = frame.height - count
        if kind == "count":
            out[column] = f"{int(row[f'{column}|sum']):,}"
            continue
        if column.count("|") == 1 and kind == "median":
            # A biomarker in one matrix: "missing" would count the other matrix's samples.
            missing = 0
        if count == 0:
            out[column] = "no data"
            continue
        if kind == "mean":
            text = f"{row[f'{column}|mean']:.1f} ({row[f'{column}|sd'] or 0:.1f})"
        elif kind == "median":
            text = format_estimate(
                row[f"{column}|median"], row[f"{column}|q1"], row[f"{column}|q3"], brackets=True
            )
        else:
            total = int(row[f"{column}|sum"])
            text = f"{total:,} ({100 * total / count:.1f}%)"
        if missing:
            text += f"; missing {missing:,}"
        out[column] = text
    return out


def cohort_table(frame: pl.DataFrame, group: str = "fsq_acr2016") -> dict[str, Any]:
    """Table 1 at baseline: overall and by fibromyalgia status (ACR 2016)."""
    base = at_event(frame, BASELINE)
    if "demo_sex" in base.columns:
        base = base.with_columns((pl.col("demo_sex").cast(pl.Float64) == 1).alias("demo_female"))
    columns = {"All participants": base}
    if group in base.columns:
        columns["Meets ACR 2016"] = base.filter(pl.col(group) == 1)
        columns["Does not meet ACR 2016"] = base.filter(pl.col(group) == 0)
    split, table = _table_rows(base)
    stats = {name: _summaries(_table_rows(part)[0], table) for name, part in columns.items()}
    rows = []
    for column, label, _ in table:
        if column in split.columns or (column == "demo_female" and "demo_sex" in base.columns):
            rows.append({"label": label, "values": [stats[n].get(column, "") for n in columns]})
    return {
        "columns": list(columns),
        "n": [part.height for part in columns.values()],
        "rows": rows,
        "participants": int(frame.get_column("participant_id").n_unique())
        if "participant_id" in frame.columns
        else frame.height,
        "events": (
            frame.group_by("event").len().sort("event").rows()
            if "event" in frame.columns
            else [("all", frame.height)]
        ),
    }


def score_distributions(frame: pl.DataFrame) -> dict[str, Any]:
    """Histogram counts of the main scores at baseline (by ACR 2016 status when known)."""
    base = at_event(frame, BASELINE)
    out: dict[str, Any] = {}
    has_group = "fsq_acr2016" in base.columns
    for column, label, low, high in DISTRIBUTIONS:
        if column not in base.columns:
            continue
        edges = np.linspace(low, high, min(int(high - low), 20) + 1)
        values = base.get_column(column).cast(pl.Float64)
        entry: dict[str, Any] = {"label": label, "edges": edges.tolist()}
        if has_group:
            group = base.get_column("fsq_acr2016").cast(pl.Float64)
            for name, mask in (("fm", group == 1), ("other", group == 0)):
                sub = values.filter(mask.fill_null(False)).drop_nulls().to_numpy()
                entry[name] = np.histogram(sub, bins=edges)[0].tolist()
        else:
            entry["all"] = np.histogram(values.drop_nulls().to_numpy(), bins=edges)[0].tolist()
        entry["missing"] = int(values.null_count())
        out[column] = entry
    return out


def data_quality(frame: pl.DataFrame, max_minutes: float) -> dict[str, Any]:
    """Missingness per instrument and event, and pre-analytical flags per sample."""
    instruments: dict[str, list[str]] = {}
    try:
        from fibrosurvey.instruments import load_instruments

        for instrument in load_instruments().values():
            columns = [c for c in instrument.item_columns() if c in frame.columns]
            if columns:
                instruments[instrument.id] = columns
    except Exception:  # instruments unavailable: fall back to column prefixes
        for column in frame.columns:
            prefix = column.split("_", 1)[0]
            instruments.setdefault(prefix, []).append(column)
    events = (
        frame.get_column("event").unique().sort().to_list() if "event" in frame.columns else [None]
    )
    missing_rows = []
    for instrument_id, columns in instruments.items():
        for event in events:
            part = frame if event is None else frame.filter(pl.col("event") == event)
            if part.height == 0:
                continue
            nulls = part.select(
                pl.sum_horizontal([pl.col(c).is_null() for c in columns]).alias("k")
            ).get_column("k")
            answered_any = (nulls < len(columns)).sum()
            missing_rows.append(
                {
                    "instrument": instrument_id,
                    "event": event or "all",
                    "rows": part.height,
                    "items": len(columns),
                    "item_missing_pct": 100 * float(nulls.sum()) / (part.height * len(columns)),
                    "incomplete_pct": 100 * float((nulls > 0).sum()) / part.height,
                    "not_started_pct": 100 * float(part.height - answered_any) / part.height,
                }
            )
    samples = (
        frame.filter(
            pl.any_horizontal([pl.col(a).is_not_null() for a in ANALYTES if a in frame.columns])
        )
        if any(a in frame.columns for a in ANALYTES)
        else frame.clear()
    )
    flags = []

    def flag(label: str, expr: pl.Expr, column: str) -> None:
        if column not in samples.columns or samples.height == 0:
            return
        count = int(samples.select(expr.fill_null(False).sum()).item())
        known = int(samples.get_column(column).is_not_null().sum())
        flags.append(
            {
                "flag": label,
                "samples": count,
                "pct": 100 * count / samples.height,
                "unknown": samples.height - known,
            }
        )

    flag(
        f"More than {max_minutes:g} min from draw to centrifugation",
        pl.col("lab_minutes_to_centrifuge").cast(pl.Float64) > max_minutes,
        "lab_minutes_to_centrifuge",
    )
    flag("Not fasting at the draw", pl.col("lab_fasting").cast(pl.Float64) == 0, "lab_fasting")
    flag(
        "More than one freeze-thaw cycle",
        pl.col("lab_freeze_thaw").cast(pl.Float64) > 1,
        "lab_freeze_thaw",
    )
    for analyte in ANALYTES:
        column = f"{analyte}_below_lloq"
        flag(
            f"{analyte.upper() if analyte != 'twoag' else '2-AG'} below the LLOQ",
            pl.col(column).cast(pl.Float64) == 1,
            column,
        )
    flag(
        "2-AG measured together with 1-AG (isomers not separated)",
        pl.col("twoag_includes_1ag").cast(pl.Float64) == 1,
        "twoag_includes_1ag",
    )
    matrices: list[tuple[str, int]] = []
    if "lab_matrix" in samples.columns:
        matrices = [
            (str(k), int(v))
            for k, v in samples.group_by("lab_matrix").len().sort("lab_matrix").rows()
        ]
    return {
        "missingness": missing_rows,
        "samples": samples.height,
        "flags": flags,
        "matrices": matrices,
        "max_minutes_to_centrifuge": max_minutes,
    }
