"""Export formats: streamed CSV, Parquet in row groups, the data dictionary, a FHIR Bundle."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from fibrosurvey.dataset import ANALYTES, DESIGN_COLUMNS, PREANALYTICAL_COLUMNS
from fibrosurvey.fhir import response_bundle
from fibrosurvey.instruments import Instrument
from fibrosurvey.scoring import SCORING_VERSIONS_COLUMN
from fibrosurvey.web.exports.dataset import MAX_SHIFT_DAYS, DatasetBuilder

__all__ = [
    "DICTIONARY_COLUMNS",
    "csv_chunks",
    "data_dictionary",
    "dictionary_csv",
    "fhir_chunks",
    "neutralise_formulas",
    "write_parquet",
]

# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): =, +, -, @, tab, CR.
_FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix a single quote to text cells starting like a formula, except plain numbers
    (``-1.5`` stays a number). Only text columns can hold such cells."""
    exprs = []
    for column, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        text = pl.col(column)
        number = text.str.strip_chars().cast(pl.Float64, strict=False)
        risky = text.str.contains(_FORMULA_START) & number.is_null()
        exprs.append(pl.when(risky).then(pl.lit("'") + text).otherwise(text).alias(column))
    return frame.with_columns(exprs) if exprs else frame


def csv_chunks(builder: DatasetBuilder) -> Iterator[bytes]:
    """The header, then one CSV block per chunk of participants (UTF-8)."""
    yield (",".join(builder.columns) + "\n").encode("utf-8")
    for chunk in builder.chunks():
        yield neutralise_formulas(chunk).write_csv(include_header=False).encode("utf-8")


def write_parquet(builder: DatasetBuilder) -> tuple[Any, int]:
    """Write the dataset to a temporary file, one row group per chunk; (file, rows).

    The file is opened "w+b" and rewound; it is deleted when closed (FileResponse closes it).
    """
    # Returned open on purpose: the response streams it and closes (deletes) it.
    handle = tempfile.TemporaryFile(suffix=".parquet")  # noqa: SIM115
    schema = pl.DataFrame(schema=builder.schema).to_arrow().schema
    rows = 0
    with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
        for chunk in builder.chunks():
            writer.write_table(chunk.to_arrow().cast(schema))
            rows += chunk.height
    handle.seek(0)
    return handle, rows


DICTIONARY_COLUMNS = (
    "column",
    "instrument",
    "kind",
    "type",
    "allowed",
    "unit",
    "text",
    "deidentification",
)


def _options(instrument: Instrument, item: Any) -> str:
    if item.kind == "choice":
        return "; ".join(f"{o.code} = {o.label.get('en', '')}".strip() for o in item.options)
    return str(item.allowed())


def _score_allowed(rule: Any) -> str:
    if getattr(rule, "bands", None):
        return " | ".join(band.label for band in rule.bands)
    if rule.rule in ("flag", "threshold", "criteria"):
        return "0 | 1"
    low, high = getattr(rule, "minimum", None), getattr(rule, "maximum", None)
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if rule.rule == "count_regions":
        return f"0 to {len(rule.regions)}"
    return ""


def data_dictionary(builder: DatasetBuilder) -> list[dict[str, str]]:
    """One entry per export column: instrument, kind, type, allowed values, unit, text, and
    the de-identification applied."""
    types = {c: str(t) for c, t in builder.schema.items()}
    entries: dict[str, dict[str, str]] = {}

    def add(
        column: str,
        instrument: str,
        kind: str,
        allowed: str,
        unit: str,
        text: str,
        deid: str = "none",
    ) -> None:
        if column in types:
            entries[column] = {
                "column": column,
                "instrument": instrument,
                "kind": kind,
                "type": types[column],
                "allowed": allowed,
                "unit": unit,
                "text": text,
                "deidentification": deid,
            }

    add(
        "participant_id",
        "",
        "id",
        "",
        "",
        "Pseudonymous study code of the participant",
        "pseudonym; no name, e-mail or phone is exported",
    )
    add(
        "event",
        "",
        "id",
        " | ".join(e.code for e in builder.study.events.all()),
        "",
        "Time point of the survey",
    )
    add(
        "site",
        "",
        "id",
        " | ".join(s.code for s in builder.study.sites.all()),
        "",
        "Recruitment site",
    )
    for column in DESIGN_COLUMNS:
        add(column, "", "design", "", "", f"Survey design: {column.removeprefix('design_')}")
    shift = (
        f"shifted by a stable per-participant offset of 1 to {MAX_SHIFT_DAYS} days, earlier "
        "or later (intervals within a participant kept)"
    )
    add("enrolled_date", "", "date", "", "", "Date of enrolment", shift)
    add(
        "event_date",
        "",
        "date",
        "",
        "",
        "Date the last instrument of the event was completed",
        shift,
    )
    for instrument in builder.instruments:
        title = instrument.title.get("en", instrument.id)
        for item in instrument.items:
            add(
                item.column,
                instrument.id,
                "item",
                _options(instrument, item),
                item.unit or "",
                item.text.get("en", ""),
            )
        for rule in instrument.scores:
            column = f"{instrument.id}_{rule.id}"
            add(
                column,
                instrument.id,
                "score",
                _score_allowed(rule),
                "",
                f"{title}: {rule.id} (computed by fibrosurvey.scoring {instrument.version})",
            )
    for analyte in ANALYTES:
        add(analyte, "labs", "biomarker", ">= 0", "pmol/mL", f"{analyte} concentration")
        add(
            f"{analyte}_lloq",
            "labs",
            "biomarker",
            ">= 0",
            "pmol/mL",
            f"{analyte} lower limit of quantification",
        )
        add(
            f"{analyte}_below_lloq",
            "labs",
            "biomarker",
            "0 | 1",
            "",
            f"{analyte} below the LLOQ (value then holds the LLOQ)",
        )
    add("twoag_includes_1ag", "labs", "biomarker", "0 | 1", "", "2-AG measured together with 1-AG")
    for column in PREANALYTICAL_COLUMNS:
        add(column, "labs", "preanalytical", "", "", column.removeprefix("lab_").replace("_", " "))
    add(SCORING_VERSIONS_COLUMN, "", "provenance", "", "", "Instrument versions used to score")
    return [entries[c] for c in builder.columns if c in entries]


def dictionary_csv(builder: DatasetBuilder) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DICTIONARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(data_dictionary(builder))
    return buffer.getvalue()


def fhir_chunks(builder: DatasetBuilder) -> Iterator[bytes]:
    """Every answered instrument of every row as a QuestionnaireResponse in one collection
    Bundle, streamed: the core builds and validates a Bundle per chunk and instrument
    (``response_bundle``) and its entries are written into one enclosing Bundle, so memory
    holds one chunk at a time. ``authored`` is the shifted event date."""
    yield b'{"resourceType": "Bundle", "type": "collection", "entry": ['
    first = True
    for chunk in builder.chunks():
        rows = chunk.with_columns(pl.col("event_date").cast(pl.String)).to_dicts()
        for instrument in builder.instruments:
            part = response_bundle(rows, instrument.id, authored_column="event_date")
            entries = part.get("entry", [])
            if not entries:
                continue
            text = ", ".join(json.dumps(entry) for entry in entries)
            yield (text if first else ", " + text).encode("utf-8")
            first = False
    yield b"]}"
