"""Export formats: streamed CSV, Parquet in row groups, the data dictionary, a FHIR Bundle.

Every CSV the platform hands out is written by :func:`csv_bytes`, which neutralises cells a
spreadsheet would run as formulas.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from fibrosurvey.countries import REGION_COLUMN, region_label
from fibrosurvey.dataset import ANALYTES, DESIGN_COLUMNS, PREANALYTICAL_COLUMNS
from fibrosurvey.fhir import response_bundle
from fibrosurvey.instruments import Instrument, Item
from fibrosurvey.recruitment import QUALITY_REASONS
from fibrosurvey.scoring import SCORING_VERSIONS_COLUMN
from fibrosurvey.scoring.status import ITEM_STATUSES, STATUS_SUFFIX
from fibrosurvey.web.builder.active import export_instruments
from fibrosurvey.web.exports.dataset import MAX_SHIFT_DAYS, DatasetBuilder
from fibrosurvey.web.exports.deidentify import AGE_CEILING, CODED_LAB_COLUMNS, TUBE_CODES

__all__ = [
    "DICTIONARY_COLUMNS",
    "WITHDRAWAL_EXTENSION",
    "csv_bytes",
    "csv_chunks",
    "data_dictionary",
    "dictionary_csv",
    "fhir_chunks",
    "neutralise_formulas",
    "partitioned_zip",
    "write_parquet",
    "write_partitioned",
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


def csv_bytes(frame: pl.DataFrame, *, include_header: bool = True) -> bytes:
    """The one CSV writer of the platform: UTF-8, formula cells neutralised."""
    return neutralise_formulas(frame).write_csv(include_header=include_header).encode("utf-8")


def csv_chunks(builder: DatasetBuilder) -> Iterator[bytes]:
    """The header, then one CSV block per chunk of participants (UTF-8)."""
    yield csv_bytes(pl.DataFrame(schema=builder.schema))
    for chunk in builder.chunks():
        yield csv_bytes(chunk, include_header=False)


PARTITIONED_FORMAT = "fibrosurvey-partitioned/1"
PARTITIONED_LAYOUT = "chunk=<k>/part.parquet"


def write_partitioned(
    builder: DatasetBuilder, folder: Path, participants_per_file: int = 100_000
) -> dict[str, object]:
    """The dataset as partitioned Parquet, the layout ``fibrosurvey synth --partitioned`` writes
    and ``fibrosurvey analyze --engine duckdb|spark`` reads: ``chunk=<k>/part.parquet`` files of
    ``participants_per_file`` participants (one row group per builder chunk, the columns and
    types of :func:`write_parquet`) and ``manifest.json``. Returns the manifest.

    Written to ``<folder>.partial`` and renamed at the end, so a reader never sees half a
    dataset; an existing non-empty ``folder`` is refused.
    """
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} exists and is not empty; choose a new folder")
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    schema = pl.DataFrame(schema=builder.schema).to_arrow().schema
    per_file = max(1, -(-participants_per_file // builder.chunk_size))  # builder chunks a file
    rows = files = 0
    writer: pq.ParquetWriter | None = None
    try:
        for index, chunk in enumerate(builder.chunks()):
            if index % per_file == 0:
                if writer is not None:
                    writer.close()
                target = staging / f"chunk={files}"
                target.mkdir()
                writer = pq.ParquetWriter(target / "part.parquet", schema, compression="zstd")
                files += 1
            assert writer is not None
            writer.write_table(chunk.to_arrow().cast(schema))
            rows += chunk.height
    finally:
        if writer is not None:
            writer.close()
    manifest: dict[str, object] = {
        "format": PARTITIONED_FORMAT,
        "source": "web export (de-identified)",
        "study": builder.study.pk,
        "site": builder.site_id,
        "rows": rows,
        "chunks": files,
        "participants_per_chunk": participants_per_file,
        "layout": PARTITIONED_LAYOUT,
        "columns": builder.columns,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    if folder.exists():
        folder.rmdir()
    staging.rename(folder)
    return manifest


def partitioned_zip(builder: DatasetBuilder) -> tuple[Any, int]:
    """:func:`write_partitioned` as one ZIP (stored, not recompressed: Parquet is compressed)
    in a temporary file, rewound; (file, rows). Unzipped, it is the folder the engines read."""
    handle = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 - the response closes it
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "dataset"
        manifest = write_partitioned(builder, folder)
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path("dataset") / path.relative_to(folder))
    handle.seek(0)
    rows = manifest["rows"]
    assert isinstance(rows, int)
    return handle, rows


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
    if item.column == REGION_COLUMN:
        # The region's country and ISO 3166-2 code too: "113 = Comunidad de Madrid (ES, ES-MD)".
        return "; ".join(f"{o.code} = {region_label(o.code)}" for o in item.options)
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


def _status_text(instrument: Instrument, item: Item) -> str:
    """How to read an item's status column (and so its empty numeric cells)."""
    reasons = ["answered: the answer is in " + item.column, "skipped: asked and left blank"]
    if item.gated:
        rule = (
            f" {item.enable_behavior} of: "
            + "; ".join(f"{c.question} {c.operator} {c.answer:g}" for c in item.enable_when)
            if item.enable_when
            else f": {item.enable_when_expression}"
        )
        reasons.append(f"not_applicable: not asked, by skip logic (asked when{rule})")
    if item.prefer_not_to_answer_codes:
        codes = ", ".join(str(code) for code in item.prefer_not_to_answer_codes)
        reasons.append(
            f"prefer_not_to_answer: the participant chose answer {codes}, "
            f"left empty in {item.column}"
        )
    return (
        f"Why {item.column} holds a value or is empty. "
        + "; ".join(reasons)
        + ". Empty status: the instrument was not given at this event. Items without a status "
        "column cannot be not applicable: an empty cell there is skipped."
    )


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
    _recruitment_entries(add, builder)
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
    add(
        "withdrawn",
        "",
        "status",
        "0 | 1",
        "",
        "1: the participant withdrew (only data given up to the withdrawal are included; "
        "a participant whose data were deleted on withdrawal has no rows)",
    )
    add("withdrawn_date", "", "date", "", "", "Date of the withdrawal (empty if none)", shift)
    add(
        "consent_version",
        "",
        "status",
        "",
        "",
        "The consent version the participant last accepted (empty: not consented)",
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
                f"ages over {AGE_CEILING - 1} shown as {AGE_CEILING} (90 or older)"
                if item.column == "demo_age"
                else (shift if item.kind == "date" else "none"),
            )
        for item in instrument.items:
            add(
                f"{item.column}{STATUS_SUFFIX}",
                instrument.id,
                "item_status",
                " | ".join(ITEM_STATUSES),
                "",
                _status_text(instrument, item),
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
    lab_rules = {
        "lab_tube": (" | ".join(TUBE_CODES), "controlled code; any other text exported as other"),
        "lab_matrix": ("plasma | serum | whole_blood", "controlled code"),
        "lab_draw_time": ("HH:MM", "clock time only; anything else left empty"),
        **{
            column: (
                f"{prefix}- and 8 hex digits",
                "pseudonymous code per distinct value in the study (the lab's text is "
                "never exported; equal values share a code)",
            )
            for column, prefix in CODED_LAB_COLUMNS.items()
        },
    }
    for column in PREANALYTICAL_COLUMNS:
        allowed, lab_rule = lab_rules.get(column, ("", "none"))
        label = column.removeprefix("lab_").replace("_", " ")
        add(column, "labs", "preanalytical", allowed, "", label, lab_rule)
    add(
        "lab_draw_date",
        "labs",
        "date",
        "",
        "",
        "Date of the blood draw (the time of day is lab_draw_time)",
        shift,
    )
    add(SCORING_VERSIONS_COLUMN, "", "provenance", "", "", "Instrument versions used to score")
    return [entries[c] for c in builder.columns if c in entries] + _left_out_entries(builder)


def _left_out_entries(builder: DatasetBuilder) -> list[dict[str, str]]:
    """Items the study asks whose answers are never exported, listed so the reader knows
    why their columns are missing."""
    return [
        {
            "column": item.column,
            "instrument": instrument.id,
            "kind": "item",
            "type": "not exported",
            "allowed": "",
            "unit": "",
            "text": item.text.get("en", ""),
            "deidentification": "not exported: a direct identifier (stored apart, encrypted)"
            if item.identifier
            else "not exported: free text can hold names and other identifiers",
        }
        for instrument in builder.instruments
        for item in instrument.items
        if item.column in builder.left_out
    ]


def _recruitment_entries(add: Any, builder: DatasetBuilder) -> None:
    """Dictionary entries of the open-recruitment columns (present for open-link studies)."""
    add(
        "recruitment_source",
        "recruitment",
        "recruitment",
        "a source of the study's open link | direct | other",
        "",
        "Where the participant came from (the link's ?src=); empty: enrolled by staff",
    )
    screener = [c for c in builder.recruitment_schema if c.startswith("screener_")]
    for column in screener:
        question = column.removeprefix("screener_")
        add(
            column,
            "recruitment",
            "screener",
            "",
            "",
            f"Eligibility screener answer: {question.replace('_', ' ')}",
            "ages over 89 exported as 90" if question == "age" else "none",
        )
    add(
        "quality_flag",
        "recruitment",
        "quality",
        "true | false",
        "",
        "Flagged for response quality (kept, not deleted; the analysis plan decides)",
    )
    add(
        "quality_reasons",
        "recruitment",
        "quality",
        "; ".join(QUALITY_REASONS),
        "",
        "Reasons of the quality flag, codes joined by ';'",
    )


def dictionary_csv(builder: DatasetBuilder) -> bytes:
    entries = data_dictionary(builder)
    frame = pl.DataFrame(
        [[entry[c] for c in DICTIONARY_COLUMNS] for entry in entries],
        schema=dict.fromkeys(DICTIONARY_COLUMNS, pl.String),
        orient="row",
    )
    return csv_bytes(frame)


# FHIR R4 has no element for a study withdrawal; an extension on each response carries it.
WITHDRAWAL_EXTENSION = "https://fibrosurvey.org/fhir/StructureDefinition/participant-withdrawn"


def _mark_withdrawn(entry: dict[str, Any], withdrawn: dict[str, str]) -> dict[str, Any]:
    resource = entry.get("resource", {})
    subject = str(resource.get("subject", {}).get("reference", "")).removeprefix("Patient/")
    if subject in withdrawn:
        resource.setdefault("extension", []).append(
            {"url": WITHDRAWAL_EXTENSION, "valueDate": withdrawn[subject]}
        )
    return entry


def fhir_chunks(builder: DatasetBuilder) -> Iterator[bytes]:
    """Every answered instrument of every row as a QuestionnaireResponse in one collection
    Bundle, streamed: the core builds and validates a Bundle per chunk and instrument
    (``response_bundle``) and its entries are written into one enclosing Bundle, so memory
    holds one chunk at a time. ``authored`` is the shifted event date; a withdrawn
    participant's responses carry :data:`WITHDRAWAL_EXTENSION` with the shifted date."""
    yield b'{"resourceType": "Bundle", "type": "collection", "entry": ['
    first = True
    for chunk in builder.chunks():
        rows = chunk.with_columns(pl.col("event_date").cast(pl.String)).to_dicts()
        withdrawn = {
            code: str(day)
            for code, day in chunk.filter(pl.col("withdrawn") == 1)
            .select("participant_id", "withdrawn_date")
            .iter_rows()
        }
        for instrument in builder.instruments:
            # A study's own instruments are known to the core only inside this context.
            with export_instruments(builder.study.pk):
                part = response_bundle(rows, instrument.id, authored_column="event_date")
            entries = [_mark_withdrawn(e, withdrawn) for e in part.get("entry", [])]
            if not entries:
                continue
            text = ", ".join(json.dumps(entry) for entry in entries)
            yield (text if first else ", " + text).encode("utf-8")
            first = False
    yield b"]}"
