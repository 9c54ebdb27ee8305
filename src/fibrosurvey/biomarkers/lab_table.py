"""The lab results table: validation, conversion to pmol/mL and the wide analysis columns.

Values are stored in pmol/mL (= nM = nmol/L). A lab results table arrives in LONG format, one row
per participant x event x analyte, and is validated as a whole: every problem is reported with
its row, column, value and the allowed values, and the caller imports only when ``.ok``
(all-or-nothing).

Units and analyte spellings: :mod:`fibrosurvey.biomarkers.units`.

Lab table columns:

* required: ``participant_id``, ``event`` (baseline | followup_3m), ``analyte`` (AEA, 2-AG, PEA,
  OEA, SEA, by abbreviation or full name), ``value``, ``unit``, ``lloq`` (same unit as ``value``),
  and the pre-analytical ``lab_matrix`` (plasma | serum | whole_blood), ``lab_assay``,
  ``lab_batch``;
* optional: the other :data:`~fibrosurvey.dataset.PREANALYTICAL_COLUMNS`, ``below_lloq`` (0/1)
  and ``includes_1ag`` (0/1, 2-AG rows only: the assay did not separate 2-AG from 1-AG).

Below the LLOQ: a row whose value is below its LLOQ, whose ``below_lloq`` is 1, or whose value
is written ``<LLOQ`` / ``<0.05`` (anything starting with ``<``) is stored with
``below_lloq = 1`` and ``value = lloq``: a value below the LLOQ keeps a flag and the LLOQ. Such
a row may leave ``value`` empty, but it then needs an ``lloq``.

Draw date: ``lab_draw_time`` takes a clock time ``HH:MM`` or an ISO 8601 date and time
(``2026-03-02T08:30``, also with a space, seconds or a UTC offset). The clean table keeps the
clock time as written at the draw (``lab_draw_time``, ``HH:MM``: the circadian covariate) and
the date in its own column ``lab_draw_date`` (:data:`LAB_DATE_COLUMNS`; null for a plain time).
The date is identifying research data: it is not an analysis-dataset column
(:data:`~fibrosurvey.dataset.PREANALYTICAL_COLUMNS`), and a de-identified export must shift it.

Row numbers in problems are 1-based DATA rows: row 1 is the first row under the header (line 2
of a CSV file). A problem about a whole missing column has ``row = None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from fibrosurvey.biomarkers.units import (
    ALLOWED_ANALYTES_TEXT,
    ALLOWED_UNITS_TEXT,
    ANALYTE_ALIASES,
    MOLAR_UNITS,
    NG_PER_ML_TO_PMOL,
    UNITS,
)
from fibrosurvey.dataset import (
    ANALYTE_NAMES,
    ANALYTES,
    EVENTS,
    INTEGER_PREANALYTICAL_COLUMNS,
    PREANALYTICAL_COLUMNS,
    biomarker_columns,
    column_dtype,
)
from fibrosurvey.problems import Problem

__all__ = [
    "LAB_DATE_COLUMNS",
    "LAB_DRAW_TIME_ALLOWED",
    "LAB_NUMERIC_COLUMNS",
    "LAB_OPTIONAL_COLUMNS",
    "LAB_REQUIRED_COLUMNS",
    "MATRICES",
    "LabValidationResult",
    "to_wide",
    "validate_lab_frame",
]

MATRICES = ("plasma", "serum", "whole_blood")

# Yes/no answers a lab sheet may carry for fasting, in the languages the platform offers.
_YES_NO: dict[str, str] = {
    **dict.fromkeys(("yes", "y", "true", "sí", "si", "s"), "1"),
    **dict.fromkeys(("no", "n", "false"), "0"),
}
_YES_NO_COLUMNS = ("lab_fasting",)
_YES_NO_ALLOWED = "1 or yes (sí), 0 or no"

LAB_REQUIRED_COLUMNS = (
    "participant_id",
    "event",
    "analyte",
    "value",
    "unit",
    "lloq",
    "lab_matrix",
    "lab_assay",
    "lab_batch",
)
LAB_OPTIONAL_COLUMNS = (
    *(c for c in PREANALYTICAL_COLUMNS if c not in LAB_REQUIRED_COLUMNS),
    "below_lloq",
    "includes_1ag",
)
# Pre-analytical numeric columns -> (minimum, maximum) accepted; temperatures may be negative.
LAB_NUMERIC_COLUMNS: dict[str, tuple[float, float]] = {
    "lab_fasting": (0, 1),
    "lab_hours_since_meal": (0, 168),
    "lab_minutes_to_centrifuge": (0, 10080),
    "lab_processing_temp_c": (-5, 40),
    "lab_freeze_thaw": (0, 50),
    "lab_storage_days": (0, 36500),
    "lab_storage_temp_c": (-200, 30),
}
# Columns of the clean and wide tables that hold dates (identifying: shifted when de-identified).
LAB_DATE_COLUMNS = ("lab_draw_date",)
LAB_DRAW_TIME_ALLOWED = "HH:MM (00:00-23:59), or date and time YYYY-MM-DDTHH:MM (ISO 8601)"
_CLOCK_TIME = r"^(?:[01]?\d|2[0-3]):[0-5]\d$"
# Group 1 the date, group 2 the clock time HH:MM; seconds and a UTC offset may follow.
_DATE_TIME = (
    r"^(\d{4}-\d{2}-\d{2})[T ]((?:[01]\d|2[0-3]):[0-5]\d)(?::[0-5]\d(?:\.\d+)?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?$"
)
_EARLIEST_DRAW_DATE = date(1990, 1, 1)
_FLAG_COLUMNS = ("below_lloq", "includes_1ag")
_ROW = "__row"


@dataclass(frozen=True)
class LabValidationResult:
    """Every problem found, and the rows converted to pmol/mL.

    ``clean`` holds the rows WITHOUT problems (long format: participant_id, event, analyte,
    value, lloq, below_lloq, includes_1ag, unit_reported, pre-analytical columns). Import it only
    when :attr:`ok`: a lab file is imported whole or not at all.
    """

    problems: list[Problem]
    clean: pl.DataFrame
    n_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"{self.n_rows} lab rows valid; {self.clean.height} converted to pmol/mL."
        lines = [f"{len(self.problems)} problem(s) in {self.n_rows} lab rows; nothing imported."]
        lines += [f"  {problem}" for problem in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  ... and {len(self.problems) - 50} more")
        return "\n".join(lines)

    def to_wide(self) -> pl.DataFrame:
        """The clean rows as analysis-dataset columns (see :func:`to_wide`)."""
        return to_wide(self.clean)


def _text(column: str) -> pl.Expr:
    """A column as stripped text, empty strings as null."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _problems_from(
    frame: pl.DataFrame, mask: pl.Expr, column: str, allowed: str, message: pl.Expr | str
) -> list[Problem]:
    """Problems for every row where ``mask`` holds; ``message`` may be a per-row expression."""
    message_expr = pl.lit(message) if isinstance(message, str) else message
    hits = frame.filter(mask).select(
        pl.col(_ROW), pl.col(column).cast(pl.String).alias("__value"), message_expr.alias("__msg")
    )
    return [
        Problem(row=row, column=column, value=value or "", allowed=allowed, message=msg)
        for row, value, msg in hits.iter_rows()
    ]


def validate_lab_frame(df: pl.DataFrame) -> LabValidationResult:
    """Validate a long lab table and convert it to pmol/mL.

    All checks are column-wise Polars expressions (no per-row Python). Problems are sorted by
    row, then column.
    """
    problems: list[Problem] = []
    missing = [c for c in LAB_REQUIRED_COLUMNS if c not in df.columns]
    for column in missing:
        problems.append(
            Problem(None, column, "", "a column of this name", "required column is missing")
        )
    if missing:
        return LabValidationResult(problems, _empty_clean(), n_rows=df.height)

    frame = df.with_row_index(_ROW, offset=1).with_columns(
        pl.col(_ROW).cast(pl.Int64),
        *[
            _text(c).str.to_lowercase().replace(_YES_NO).fill_null(_text(c)).alias(c)
            for c in _YES_NO_COLUMNS
            if c in df.columns
        ],
    )
    raw_value = _text("value")
    frame = frame.with_columns(
        _text("participant_id").alias("participant_id"),
        _text("event").alias("event"),
        _text("analyte")
        .str.to_lowercase()
        .replace_strict(ANALYTE_ALIASES, default=None)
        .alias("__analyte"),
        _text("unit").str.to_lowercase().replace_strict(UNITS, default=None).alias("__unit"),
        raw_value.str.starts_with("<").fill_null(False).alias("__lt"),
        raw_value.cast(pl.Float64, strict=False).alias("__value"),
        _text("lloq").cast(pl.Float64, strict=False).alias("__lloq"),
        *[
            _text(c).cast(pl.Float64, strict=False).alias(f"__{c}")
            for c in _FLAG_COLUMNS
            if c in df.columns
        ],
    )
    flag_exprs = {
        c: (pl.col(f"__{c}") if c in df.columns else pl.lit(None, pl.Float64))
        for c in _FLAG_COLUMNS
    }
    below_flag = (flag_exprs["below_lloq"] == 1).fill_null(False) | pl.col("__lt")

    for column in LAB_REQUIRED_COLUMNS:
        absent = _text(column).is_null()
        if column == "value":
            absent = absent & ~below_flag  # "<LLOQ" rows may leave the value empty
        problems += _problems_from(frame, absent, column, "a non-empty value", "required")

    def add(mask: pl.Expr, column: str, allowed: str, message: str | pl.Expr) -> None:
        problems.extend(_problems_from(frame, mask, column, allowed, message))

    add(
        pl.col("event").is_not_null() & ~pl.col("event").is_in(list(EVENTS)),
        "event",
        " | ".join(EVENTS),
        "unknown event",
    )
    add(
        _text("analyte").is_not_null() & pl.col("__analyte").is_null(),
        "analyte",
        ALLOWED_ANALYTES_TEXT,
        "unknown analyte",
    )
    add(
        _text("unit").is_not_null() & pl.col("__unit").is_null(),
        "unit",
        ALLOWED_UNITS_TEXT,
        "unit cannot be converted to pmol/mL",
    )
    for column, parsed in (("value", "__value"), ("lloq", "__lloq")):
        text = _text(column)
        numeric_text = text.is_not_null() & ~(
            pl.col("__lt") if column == "value" else pl.lit(False)
        )
        add(numeric_text & pl.col(parsed).is_null(), column, "a number >= 0", "not a number")
        add(pl.col(parsed) < 0, column, "a number >= 0", "negative concentration")
        add(
            pl.col(parsed).is_nan() | pl.col(parsed).is_infinite(),
            column,
            "a finite number",
            "not a finite number",
        )
    add(
        below_flag
        & pl.col("__value").is_null()
        & pl.col("__lloq").is_null()
        & _text("lloq").is_null(),
        "lloq",
        "a number >= 0",
        "a value below the LLOQ needs the LLOQ",
    )
    add(
        _text("lab_matrix").is_not_null() & ~_text("lab_matrix").is_in(list(MATRICES)),
        "lab_matrix",
        " | ".join(MATRICES),
        "unknown matrix",
    )
    for column in _FLAG_COLUMNS:
        if column in df.columns:
            add(
                _text(column).is_not_null()
                & ~pl.col(f"__{column}").is_in([0.0, 1.0]).fill_null(False),
                column,
                "0 | 1",
                "not a 0/1 flag",
            )
    if "includes_1ag" in df.columns:
        add(
            (flag_exprs["includes_1ag"] == 1).fill_null(False)
            & pl.col("__analyte").is_not_null()
            & (pl.col("__analyte") != "twoag"),
            "includes_1ag",
            "1 only on 2-AG rows",
            "only 2-AG can include 1-AG",
        )
    if "below_lloq" in df.columns:
        add(
            (flag_exprs["below_lloq"] == 1).fill_null(False)
            & (pl.col("__value") > pl.col("__lloq")),
            "below_lloq",
            "1 only when value <= lloq",
            "flagged below the LLOQ but the value is above the LLOQ",
        )
    problems += _preanalytical_problems(frame, df.columns)
    problems += _duplicate_problems(frame)
    problems += _sample_conflicts(frame, df.columns, problems)

    problem_rows = {p.row for p in problems if p.row is not None}
    clean = _convert(frame.filter(~pl.col(_ROW).is_in(list(problem_rows))), df.columns, below_flag)
    problems.sort(key=lambda p: (p.row or 0, p.column))
    return LabValidationResult(problems, clean, n_rows=df.height)


def _preanalytical_problems(frame: pl.DataFrame, columns: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    for column, (low, high) in LAB_NUMERIC_COLUMNS.items():
        if column not in columns:
            continue
        text = _text(column)
        number = text.cast(pl.Float64, strict=False)
        integer = column in INTEGER_PREANALYTICAL_COLUMNS
        allowed = (
            _YES_NO_ALLOWED
            if column in _YES_NO_COLUMNS
            else f"{'an integer' if integer else 'a number'} from {low:g} to {high:g}"
        )
        bad = text.is_not_null() & (
            number.is_null() | (number < low) | (number > high) | number.is_nan()
        )
        if integer:
            bad = bad | (text.is_not_null() & (number.round(0) != number).fill_null(False))
        problems += _problems_from(frame, bad, column, allowed, "out of range or not a number")
    if "lab_draw_time" in columns:
        problems += _draw_time_problems(frame)
    return problems


def _draw_date(text: pl.Expr) -> pl.Expr:
    """The date part of an ISO date and time (null for a plain clock time or an impossible
    date such as 2026-02-30)."""
    return text.str.extract(_DATE_TIME, 1).str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def _draw_time_problems(frame: pl.DataFrame) -> list[Problem]:
    text = _text("lab_draw_time")
    clock = text.str.contains(_CLOCK_TIME).fill_null(False)
    date_time = text.str.contains(_DATE_TIME).fill_null(False)
    drawn = _draw_date(text)
    # A day's margin: the lab's time zone may be ahead of this server's.
    latest = date.today() + timedelta(days=1)
    problems = _problems_from(
        frame,
        text.is_not_null() & ~clock & ~date_time,
        "lab_draw_time",
        LAB_DRAW_TIME_ALLOWED,
        "not a clock time or an ISO 8601 date and time",
    )
    problems += _problems_from(
        frame,
        date_time & drawn.is_null(),
        "lab_draw_time",
        "a calendar date, YYYY-MM-DD",
        "no such date",
    )
    problems += _problems_from(
        frame,
        (drawn < pl.lit(_EARLIEST_DRAW_DATE)) | (drawn > pl.lit(latest)),
        "lab_draw_time",
        f"a draw date YYYY-MM-DD from {_EARLIEST_DRAW_DATE.isoformat()} to today",
        "draw date out of range (in the future or long past)",
    )
    return problems


def _duplicate_problems(frame: pl.DataFrame) -> list[Problem]:
    key = ["participant_id", "event", "__analyte"]
    dup = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in key)).with_columns(
        pl.col(_ROW).min().over(key).alias("__first"),
    )
    hits = dup.filter(pl.col(_ROW) != pl.col("__first")).select(_ROW, "__analyte", "__first")
    return [
        Problem(
            row,
            "analyte",
            ANALYTE_NAMES[analyte],
            "one row per participant_id x event x analyte",
            f"duplicate of row {first}",
        )
        for row, analyte, first in hits.iter_rows()
    ]


def _sample_conflicts(
    frame: pl.DataFrame, columns: list[str], found: list[Problem]
) -> list[Problem]:
    """One set of pre-analytical data per sample (participant x event): conflicts are errors.

    Empty cells and cells already reported (e.g. an unknown matrix) take no part, so one typo
    gives one problem.
    """
    problems: list[Problem] = []
    key = ["participant_id", "event"]
    keyed = frame.filter(pl.col("participant_id").is_not_null() & pl.col("event").is_not_null())
    for column in (c for c in PREANALYTICAL_COLUMNS if c in columns):
        reported = [p.row for p in found if p.column == column and p.row is not None]
        hits = (
            keyed.filter(~pl.col(_ROW).is_in(reported))
            .with_columns(_text(column).alias("__t"))
            .filter(pl.col("__t").is_not_null())
            .filter(pl.col("__t").n_unique().over(key) > 1)
        )
        problems += _problems_from(
            hits,
            pl.lit(True),
            column,
            "the same value on every row of one sample",
            "conflicting pre-analytical values within one participant x event",
        )
    return problems


def _factor_expr() -> pl.Expr:
    """Per-row factor to pmol/mL from the parsed unit and analyte."""
    mw = pl.col("__analyte").replace_strict(ANALYTES, default=None, return_dtype=pl.Float64)
    unit = pl.col("__unit")
    return (
        pl.when(unit.is_in(list(MOLAR_UNITS)))
        .then(pl.lit(1.0))
        .when(unit == "ng/mL")
        .then(NG_PER_ML_TO_PMOL / mw)
        .when(unit == "ng/L")
        .then(1.0 / mw)
        .otherwise(None)
    )


def _convert(frame: pl.DataFrame, columns: list[str], below_flag: pl.Expr) -> pl.DataFrame:
    factor = _factor_expr()
    value = pl.col("__value") * factor
    lloq = pl.col("__lloq") * factor
    below = below_flag | (value < lloq).fill_null(False)
    includes = pl.col("__includes_1ag") if "includes_1ag" in columns else pl.lit(None)
    pre = [_preanalytical_expr(c, c in columns) for c in PREANALYTICAL_COLUMNS]
    draw_date = (
        _draw_date(_text("lab_draw_time")) if "lab_draw_time" in columns else pl.lit(None, pl.Date)
    )
    return frame.select(
        "participant_id",
        "event",
        pl.col("__analyte").alias("analyte"),
        pl.when(below).then(lloq).otherwise(value).alias("value"),
        lloq.alias("lloq"),
        below.cast(pl.Int8).alias("below_lloq"),
        pl.when(pl.col("__analyte") == "twoag")
        .then(includes.fill_null(0))
        .otherwise(None)
        .cast(pl.Int8)
        .alias("includes_1ag"),
        pl.col("__unit").alias("unit_reported"),
        *pre,
        draw_date.alias("lab_draw_date"),
    )


def _preanalytical_expr(column: str, present: bool) -> pl.Expr:
    dtype = column_dtype(column)
    if not present:
        return pl.lit(None, dtype).alias(column)
    if column == "lab_draw_time":
        text = _text(column)
        return text.str.extract(_DATE_TIME, 2).fill_null(text).alias(column)
    if dtype == pl.String:
        return _text(column).alias(column)
    return _text(column).cast(pl.Float64).cast(dtype).alias(column)


def _empty_clean() -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        "participant_id": pl.String(),
        "event": pl.String(),
        "analyte": pl.String(),
        "value": pl.Float64(),
        "lloq": pl.Float64(),
        "below_lloq": pl.Int8(),
        "includes_1ag": pl.Int8(),
        "unit_reported": pl.String(),
    }
    for column in PREANALYTICAL_COLUMNS:
        schema[column] = column_dtype(column)
    schema["lab_draw_date"] = pl.Date()
    return pl.DataFrame(schema=schema)


def to_wide(clean: pl.DataFrame) -> pl.DataFrame:
    """One row per participant x event with the analysis-dataset biomarker columns.

    Columns: participant_id, event, then for each analyte ``<a>``, ``<a>_lloq``,
    ``<a>_below_lloq`` (null when that analyte was not measured), ``twoag_includes_1ag``, and
    every pre-analytical column (the sample's value; validation guarantees one per sample),
    then :data:`LAB_DATE_COLUMNS` (the draw date: shift it before the table leaves the study).
    """
    key = ["participant_id", "event"]
    samples = clean.group_by(key, maintain_order=True).agg(
        *[
            pl.col(c).drop_nulls().first().alias(c)
            for c in (*PREANALYTICAL_COLUMNS, *LAB_DATE_COLUMNS)
        ]
    )
    per_analyte = [
        clean.filter(pl.col("analyte") == analyte).select(
            *key,
            pl.col("value").alias(analyte),
            pl.col("lloq").alias(f"{analyte}_lloq"),
            pl.col("below_lloq").alias(f"{analyte}_below_lloq"),
            *([pl.col("includes_1ag").alias("twoag_includes_1ag")] if analyte == "twoag" else []),
        )
        for analyte in ANALYTES
    ]
    wide = samples.select(key)
    for part in per_analyte:
        wide = wide.join(part, on=key, how="left", maintain_order="left")
    wide = wide.join(samples, on=key, how="left", maintain_order="left")
    biomarkers = [pl.col(column).cast(column_dtype(column)) for column in biomarker_columns()]
    return wide.select(*key, *biomarkers, *PREANALYTICAL_COLUMNS, *LAB_DATE_COLUMNS)
