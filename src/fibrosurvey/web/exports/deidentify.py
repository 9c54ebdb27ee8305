"""The one de-identification step every output of research data goes through.

CSV, Parquet and FHIR exports, the datasets of analysis runs (all through
:class:`~fibrosurvey.web.exports.dataset.DatasetBuilder`) and the REST API's participant and
response listings call :func:`deidentify` on a frame of raw values; nothing else turns raw
research data into an output. The rules (HIPAA Safe Harbor, plus the lab-field codes):

- dates: every date column (:data:`DATE_COLUMNS`) arrives as the real timestamp and leaves
  as a date shifted by the participant's stable offset (:func:`date_offset_days`, 1 to
  :data:`MAX_SHIFT_DAYS` days earlier or later). The lab's draw date
  (:data:`LAB_DATE_COLUMNS`, a calendar date as the lab wrote it) moves by the same offset, so
  the days between enrolment, answers and draw are kept; the clock time of the draw
  (``lab_draw_time``, the circadian covariate) is not identifying and stays. Any other date or
  time column is refused, and so is a date column that is already a date (it would be
  shifted twice). A date item of a study's own instrument (``item_dates``, a calendar date
  the participant gave) moves by the same offset;
- ages over 89 become 90 ("90 or older");
- free-text lab fields become controlled codes: ``lab_tube`` one of :data:`TUBE_CODES`
  (anything else "other"), ``lab_matrix`` one of the core's matrices, ``lab_draw_time``
  HH:MM, and ``lab_assay`` / ``lab_batch`` a pseudonymous code per distinct value
  (``assay-`` / ``batch-`` and 8 hex digits of an HMAC with the study's secret: equal
  values share a code, so batch effects stay analysable, but the text never leaves);
- a column named like a contact detail or a secret token is refused outright.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Collection

import polars as pl

from fibrosurvey.biomarkers import LAB_DATE_COLUMNS, MATRICES

__all__ = [
    "AGE_CEILING",
    "AGE_COLUMNS",
    "CODED_LAB_COLUMNS",
    "DATE_COLUMNS",
    "LAB_DATE_COLUMNS",
    "MAX_SHIFT_DAYS",
    "TUBE_CODES",
    "DeidentificationError",
    "date_offset_days",
    "deidentify",
]

MAX_SHIFT_DAYS = 182
# The real timestamp in, the shifted date out.
DATE_COLUMNS = ("enrolled_date", "event_date", "withdrawn_date")
# The open-recruitment screener's age question is an age too.
AGE_COLUMNS = ("demo_age", "screener_age")
AGE_CEILING = 90
TUBE_CODES = (
    "K2EDTA",
    "K3EDTA",
    "lithium_heparin",
    "sodium_heparin",
    "citrate",
    "serum_clot",
    "serum_gel",
    "other",
)
CODED_LAB_COLUMNS = {"lab_assay": "assay", "lab_batch": "batch"}
_FORBIDDEN_WORDS = ("email", "e_mail", "phone", "name", "address", "token", "contact")
_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class DeidentificationError(ValueError):
    """A frame that cannot be de-identified safely (a programming error, never user input)."""


def date_offset_days(secret: str, participant_id: str) -> int:
    """A stable per-participant shift in days: 1 to 182 days earlier or later (never 0).

    HMAC-SHA256(study secret, participant id): the same participant always moves by the same
    number of days (intervals between their dates are kept), and without the secret the offset
    cannot be recomputed from the pseudonymous id.
    """
    digest = hmac.new(secret.encode(), participant_id.encode(), hashlib.sha256).digest()
    magnitude = int.from_bytes(digest[:8], "big") % MAX_SHIFT_DAYS + 1
    return magnitude if digest[8] & 1 else -magnitude


def _pseudonym(secret: str, column: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{column}\x00{value}".encode(), hashlib.sha256)
    return f"{CODED_LAB_COLUMNS[column]}-{digest.hexdigest()[:8]}"


def _check_columns(frame: pl.DataFrame, item_dates: Collection[str]) -> None:
    for column, dtype in frame.schema.items():
        lowered = column.lower()
        if column in item_dates:
            if dtype != pl.Date:
                raise DeidentificationError(
                    f"{column} must arrive as the date given (pl.Date), not {dtype}"
                )
            continue
        if column in LAB_DATE_COLUMNS and dtype != pl.Date:
            raise DeidentificationError(
                f"{column} must arrive as the real date (pl.Date), not {dtype}"
            )
        if dtype.is_temporal() and column.startswith("lab_") and column not in LAB_DATE_COLUMNS:
            raise DeidentificationError(
                f"{column} is a lab date or time that no rule shifts; "
                f"allowed lab date columns: {', '.join(LAB_DATE_COLUMNS)}"
            )
        if lowered == "participant_id" or lowered.startswith("lab_"):
            continue
        if any(word in lowered for word in _FORBIDDEN_WORDS):
            raise DeidentificationError(f"{column!r} looks like an identifier; never output")
        temporal = dtype.is_temporal()
        if column in DATE_COLUMNS and not isinstance(dtype, pl.Datetime):
            raise DeidentificationError(
                f"{column} must arrive as the real timestamp (pl.Datetime), not {dtype}"
            )
        if temporal and column not in DATE_COLUMNS:
            raise DeidentificationError(
                f"{column} is a date or time that no rule shifts; "
                f"allowed date columns: {', '.join(DATE_COLUMNS)}"
            )


def _offsets(frame: pl.DataFrame, secret: str) -> pl.Expr:
    codes = frame["participant_id"].unique(maintain_order=True).drop_nulls().to_list()
    table = {code: date_offset_days(secret, code) for code in codes}
    return pl.duration(
        days=pl.col("participant_id").replace_strict(table, default=None, return_dtype=pl.Int64)
    )


def _recode(frame: pl.DataFrame, column: str, code: Callable[[str], str | None]) -> pl.Series:
    """``column`` recoded value by value (a few distinct values per study), built in row
    order: the output's bytes, and so the analysis data hash, are the same on every run (a
    vectorised replace lays long strings out in hash-table order)."""
    table: dict[str, str | None] = {}
    values: list[str | None] = []
    for value in frame[column].to_list():
        if value is None or not value.strip():
            values.append(None)
            continue
        if value not in table:
            table[value] = code(value)
        values.append(table[value])
    return pl.Series(column, values, dtype=pl.String)


def _lab_codes(frame: pl.DataFrame, secret: str) -> list[pl.Series]:
    tubes = {code.lower(): code for code in TUBE_CODES}
    rules: dict[str, Callable[[str], str | None]] = {
        "lab_tube": lambda v: tubes.get(v.strip().lower(), "other"),
        "lab_matrix": lambda v: v if v in MATRICES else None,
        "lab_draw_time": lambda v: v if _CLOCK_TIME.fullmatch(v) else None,
        **{column: functools.partial(_pseudonym, secret, column) for column in CODED_LAB_COLUMNS},
    }
    return [_recode(frame, column, rule) for column, rule in rules.items() if column in frame]


def deidentify(
    frame: pl.DataFrame, secret: str, *, item_dates: Collection[str] = ()
) -> pl.DataFrame:
    """``frame`` (raw values, one ``participant_id`` per row) de-identified by the rules above.

    Columns starting with ``__`` are working columns and are dropped. ``secret`` is the
    study's export secret (``StudyExportKey``): the same one for every output of a study, so
    every output shifts a participant's dates by the same offset. ``item_dates``: the date
    items' columns (calendar dates, shifted like the lab's draw date).
    """
    frame = frame.drop([c for c in frame.columns if c.startswith("__")])
    _check_columns(frame, item_dates)
    if "participant_id" not in frame.columns:
        raise DeidentificationError("a frame to de-identify needs its participant_id column")
    exprs: list[pl.Expr | pl.Series] = []
    dates = [c for c in DATE_COLUMNS if c in frame.columns]
    lab_dates = [c for c in (*LAB_DATE_COLUMNS, *item_dates) if c in frame.columns]
    if dates or lab_dates:
        shift = _offsets(frame, secret)
        exprs += [(pl.col(c) + shift).dt.date().alias(c) for c in dates]
        exprs += [(pl.col(c) + shift).alias(c) for c in lab_dates]
    exprs += [
        pl.when(pl.col(c) > AGE_CEILING - 1).then(AGE_CEILING).otherwise(pl.col(c)).alias(c)
        for c in AGE_COLUMNS
        if c in frame.columns
    ]
    exprs += _lab_codes(frame, secret)
    return frame.with_columns(exprs) if exprs else frame
