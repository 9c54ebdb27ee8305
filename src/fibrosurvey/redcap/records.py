"""A REDCap "flat" record export (raw codes) as our analysis dataset.

The tables written (``DATASET`` is the output path without ``.parquet``):

- ``DATASET.parquet``: one row per record x event (``participant_id`` is the record id,
  ``event`` is ``redcap_event_name``, or the mapping's name for it, or ``baseline`` in a project
  without events; ``site`` is the data access group when the export has one). A repeating event
  adds ``event_instance`` (empty for events that do not repeat).
- ``DATASET_<instrument>.parquet``: one per repeating instrument, in long form:
  ``participant_id``, ``event``, ``instance`` and that instrument's columns, one row per
  instance. Repeating instruments never appear in the wide table.

Columns: items are ``<instrument>_<field>`` (checkbox boxes ``<instrument>_<field>___<code>``,
0/1), or our item column where the mapping ties the field to one of ours (values recoded).
Beside them, with a ``redcap_`` prefix that no instrument uses:

- ``redcap_complete_<instrument>``: the form's status (``<form>_complete``: 0 incomplete,
  1 unverified, 2 complete; empty when the form was never opened);
- ``redcap_missing_<column>``: the REDCap missing-data code (``UNK``, ``NASK``...) of a cell
  whose value column is empty because of it; present only for columns with at least one. An
  empty value with an empty code is a cell nobody filled;
- ``redcap_calc_<field>``: what REDCap calculated (our scores are recomputed from the items).

Direct identifiers (``Identifier? = y``) are left out unless asked for. Every cell is checked
against its item; one bad cell refuses the whole import (:class:`RecordsError` names the row of
the records file, the REDCap column and the allowed values).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from fibrosurvey.dataset import BASELINE
from fibrosurvey.instruments import Instrument, Item, get_instrument
from fibrosurvey.problems import Problem
from fibrosurvey.redcap.convert import ConversionResult, dictionary_to_instruments
from fibrosurvey.redcap.dictionary import DataDictionary, decode_bytes
from fibrosurvey.redcap.mapping import FieldMapping, RecordMapping
from fibrosurvey.validation import validate_frame_with

__all__ = [
    "MISSING_DATA_CODES",
    "RecordsError",
    "RedcapDataset",
    "import_records",
    "repeating_table_path",
]

# REDCap's suggested missing data codes (Project Setup > Additional customizations).
MISSING_DATA_CODES = (
    "NI",
    "INV",
    "UNK",
    "NASK",
    "ASKU",
    "NAV",
    "MSK",
    "NA",
    "NAVU",
    "NP",
    "QS",
    "QI",
    "TRC",
    "UNC",
    "DER",
    "PINF",
    "NINF",
    "OTH",
)
SPECIAL_COLUMNS = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
)
ROW = "__row"


class RecordsError(ValueError):
    """The records cannot be imported; ``problems`` name row, column and allowed values."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "; ".join(str(problem) for problem in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(shown + more)


@dataclass(frozen=True)
class RedcapDataset:
    """The wide table, the long table of each repeating instrument, and the definitions."""

    wide: pl.DataFrame
    repeating: dict[str, pl.DataFrame]
    instruments: tuple[Instrument, ...]
    conversion: ConversionResult
    notes: tuple[str, ...] = field(default_factory=tuple)


def repeating_table_path(output: Path, instrument_id: str) -> Path:
    """Where the long table of a repeating instrument goes, beside ``output``."""
    return output.with_name(f"{output.stem}_{instrument_id}{output.suffix}")


@dataclass
class _Target:
    """Where one REDCap column goes."""

    redcap: str
    column: str
    item: Item
    form: str
    recode: dict[str, int] | None = None
    mapped_item: Item | None = None


def _read_records(source: str | bytes | Path) -> pl.DataFrame:
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as error:
            raise RecordsError([Problem(None, str(source), "", "", str(error))]) from error
        text = decode_bytes(data)[0]
    elif isinstance(source, bytes):
        text = decode_bytes(source)[0]
    else:
        text = source.removeprefix("\ufeff")
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise RecordsError(
            [Problem(None, "file", "", "", f"not a CSV records export: {error}")]
        ) from error
    return frame.with_row_index(ROW, offset=1)


def _checkbox_field(column: str) -> str | None:
    match = re.fullmatch(r"([a-z][a-z0-9_]*?)___(.+)", column)
    return None if match is None else match.group(1)


class _Importer:
    def __init__(
        self,
        dictionary: DataDictionary,
        mapping: RecordMapping | None,
        missing_codes: tuple[str, ...],
        keep_identifiers: bool,
    ) -> None:
        self.dictionary = dictionary
        self.conversion = dictionary_to_instruments(dictionary)
        self.mapping = mapping or RecordMapping()
        self.missing = tuple(code.upper() for code in missing_codes)
        self.keep_identifiers = keep_identifiers
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.form_of_instrument = {v: k for k, v in self.conversion.forms.items()}
        self.fields = {f.name: f for f in dictionary.fields}
        self.items = {item.column: item for i in self.conversion.instruments for item in i.items}

    def targets(self, columns: list[str]) -> list[_Target]:
        record_id = self.conversion.record_id_field
        if record_id not in columns:
            self.problems.append(
                Problem(
                    None,
                    record_id,
                    "",
                    record_id,
                    "the records lack the record id column "
                    "(the first field of the data dictionary)",
                )
            )
        forms = set(self.dictionary.forms())
        mapped = {
            name: (form, target, form_mapping.instrument)
            for form, form_mapping in self.mapping.forms.items()
            for name, target in form_mapping.field_mappings().items()
        }
        targets: list[_Target] = []
        for column in columns:
            if column in (ROW, record_id, *SPECIAL_COLUMNS):
                continue
            if column.endswith(("_complete", "_timestamp")) and column.rsplit("_", 1)[0] in forms:
                continue
            row = self.fields.get(column) or self.fields.get(_checkbox_field(column) or "")
            if row is None:
                self.problems.append(
                    Problem(
                        None,
                        column,
                        column,
                        "the fields of the data dictionary",
                        "a records column that is not a field of the dictionary "
                        "(is the dictionary from the same project?)",
                    )
                )
                continue
            if row.field_type == "calc" or row.field_type in ("file", "sql", "descriptive"):
                continue  # calc values are kept as redcap_calc_*; files are not answers
            ours = self.conversion.columns.get(column)
            if ours is None:
                code = column.split("___", 1)[1] if "___" in column else ""
                if code.upper() in self.missing:
                    continue  # a checkbox's missing-code box (handled with the field)
                self.notes.append(f"column {column}: field {row.name} was not converted; left out")
                continue
            item = self.items[ours]
            if item.identifier and not self.keep_identifiers:
                continue
            target = _Target(column, ours, item, row.form)
            if column in mapped:
                _form, field_mapping, instrument_id = mapped[column]
                self._map(target, field_mapping, instrument_id)
            targets.append(target)
        unknown_fields = [
            name
            for form_mapping in self.mapping.forms.values()
            for name in form_mapping.fields
            if name not in self.conversion.columns
        ]
        for name in unknown_fields:
            self.problems.append(
                Problem(
                    None,
                    f"mapping: {name}",
                    name,
                    "fields of the data dictionary",
                    "the mapping names a field the dictionary does not convert",
                )
            )
        return targets

    def _map(self, target: _Target, field_mapping: FieldMapping, instrument_id: str) -> None:
        instrument = get_instrument(instrument_id)
        item = next(i for i in instrument.items if i.column == field_mapping.column)
        target.column = field_mapping.column
        target.recode = field_mapping.recode
        target.mapped_item = item

    # -- cells ---------------------------------------------------------------------------

    def cleaned(self, frame: pl.DataFrame, targets: list[_Target]) -> pl.DataFrame:
        """Values with missing codes taken out, in REDCap's codes, named by REDCap column.

        A checkbox's missing-code box (``sym___unk`` = 1) gives that code to every box.
        """
        spellings = [*self.missing, *(code.lower() for code in self.missing)]
        # One cheap pass finds the columns holding a code; only those get the code column.
        with_codes = (
            frame.select(
                pl.col(t.redcap).str.strip_chars().is_in(spellings).any() for t in targets
            ).row(0)
            if targets
            else ()
        )
        expressions: list[pl.Expr] = [pl.col(ROW)]
        for target, has_code in zip(targets, with_codes, strict=True):
            text = pl.col(target.redcap).str.strip_chars()
            is_code: pl.Expr = text.is_in(spellings) if has_code else pl.lit(False)
            code: pl.Expr = (
                pl.when(is_code).then(text.str.to_uppercase())
                if has_code
                else pl.lit(None, dtype=pl.String)
            )
            if target.item.checkbox is not None:
                for missing in self.missing:
                    box = f"{target.item.checkbox.field}___{missing.lower()}"
                    if box in frame.columns:
                        ticked = (pl.col(box).str.strip_chars() == "1").fill_null(False)
                        code = pl.when(ticked).then(pl.lit(missing)).otherwise(code)
                        is_code = is_code | ticked
            if target.item.kind == "number":
                # Validation types *_comma_decimal are exported with a decimal comma.
                text = text.str.replace(",", ".", literal=True)
            value = pl.when(text != "").then(text)
            if has_code or target.item.checkbox is not None:
                value = pl.when(~is_code & (text != "")).then(text)
            expressions.append(value.alias(target.redcap))
            expressions.append(code.alias(f"__missing_{target.redcap}"))
        return frame.select(expressions)

    def check(self, cleaned: pl.DataFrame, targets: list[_Target]) -> None:
        """REDCap values against the converted items, recodes, then mapped values against ours."""
        items = [t.item for t in targets]
        renamed = cleaned.select([pl.col(t.redcap).alias(t.item.column) for t in targets])
        # The converted items of every form at once, as one instrument for the validator
        # (constructed, not validated: it only carries the items already validated).
        check = Instrument.model_construct(id="redcap", items=tuple(items), scores=())
        by_column = {t.item.column: t for t in targets}
        self._report(
            validate_frame_with(renamed, [check], hidden_answers=False).problems, cleaned, by_column
        )
        for target in targets:
            if target.recode is None:
                continue
            unknown = cleaned.filter(
                pl.col(target.redcap).is_not_null()
                & ~pl.col(target.redcap).is_in(list(target.recode))
            )
            for row, value in zip(unknown[ROW], unknown[target.redcap], strict=True):
                self.problems.append(
                    Problem(
                        row,
                        target.redcap,
                        str(value),
                        ", ".join(target.recode),
                        "a code the mapping does not recode",
                    )
                )

    def _report(
        self, problems: list[Problem], cleaned: pl.DataFrame, by_column: dict[str, _Target]
    ) -> None:
        rows = cleaned[ROW].to_list()
        for problem in problems:
            target = by_column.get(problem.column)
            name = target.redcap if target else problem.column
            row = rows[problem.row - 1] if problem.row is not None else None
            self.problems.append(
                Problem(row, name, problem.value, problem.allowed, problem.message)
            )

    def values(self, cleaned: pl.DataFrame, targets: list[_Target]) -> list[pl.Expr]:
        """Typed value columns (ours, recoded) and their missing-code columns."""
        expressions: list[pl.Expr] = []
        for target in targets:
            item = target.mapped_item or target.item
            value = pl.col(target.redcap)
            if target.recode is not None:
                value = value.replace_strict(
                    {k: str(v) for k, v in target.recode.items()}, default=None
                )
            if item.kind in ("choice", "integer"):
                value = value.cast(pl.Float64).cast(pl.Int64)
            elif item.kind == "number":
                value = value.cast(pl.Float64)
            elif item.kind == "date":
                value = value.str.to_date("%Y-%m-%d")
            expressions.append(value.alias(target.column))
            expressions.append(
                pl.col(f"__missing_{target.redcap}").alias(f"redcap_missing_{target.column}")
            )
        return expressions


def _status_name(form: str, importer: _Importer) -> str:
    mapped = importer.mapping.forms.get(form)
    instrument_id = mapped.instrument if mapped else importer.conversion.forms.get(form, form)
    return f"redcap_complete_{instrument_id}"


def import_records(
    dictionary: DataDictionary,
    records: str | bytes | Path,
    mapping: RecordMapping | None = None,
    *,
    missing_codes: tuple[str, ...] = MISSING_DATA_CODES,
    keep_identifiers: bool = False,
) -> RedcapDataset:
    """Read a flat record export (raw codes) of the project ``dictionary`` describes.

    All or nothing: raises :class:`RecordsError` listing every bad cell (row of the records
    file counted from 1 after the header, REDCap column, value, allowed values).
    """
    importer = _Importer(dictionary, mapping, missing_codes, keep_identifiers)
    frame = _read_records(records)
    targets = importer.targets(frame.columns)
    if importer.problems:
        raise RecordsError(importer.problems)
    cleaned = importer.cleaned(frame, targets)
    importer.check(cleaned, targets)
    if importer.problems:
        raise RecordsError(importer.problems)
    keys = _key_columns(frame, importer)
    statuses = {
        form: pl.col(f"{form}_complete").cast(pl.Int8).alias(_status_name(form, importer))
        for form in dictionary.forms()
        if f"{form}_complete" in frame.columns
    }
    calcs = [
        row for row in dictionary.fields if row.field_type == "calc" and row.name in frame.columns
    ]
    base = pl.concat(
        [
            frame.select(keys),
            cleaned.select(importer.values(cleaned, targets)),
            frame.select(
                [
                    *statuses.values(),
                    *(
                        pl.col(row.name)
                        .cast(pl.Float64, strict=False)
                        .alias(f"redcap_calc_{row.name}")
                        for row in calcs
                    ),
                ]
            ),
        ],
        how="horizontal",
    )

    def form_columns(form: str) -> list[str]:
        columns = [
            name
            for target in targets
            if target.form == form
            for name in (target.column, f"redcap_missing_{target.column}")
        ]
        if form in statuses:
            columns.append(_status_name(form, importer))
        return columns + [f"redcap_calc_{row.name}" for row in calcs if row.form == form]

    ids: list[str] = [c for c in ("participant_id", "event", "site") if c in base.columns]
    repeating_forms = sorted(set(base["__form"].to_list()) - {""})
    wide = base.filter(pl.col("__form") == "")
    wide_ids: list[str] = list(ids)
    if wide["__instance"].drop_nulls().len():  # repeating events
        wide = wide.rename({"__instance": "event_instance"})
        wide_ids.append("event_instance")
    wide_forms = [form for form in dictionary.forms() if form not in repeating_forms]
    wide = wide.select(wide_ids + [c for form in wide_forms for c in form_columns(form)])
    repeating: dict[str, pl.DataFrame] = {}
    for form in repeating_forms:
        table = base.filter(pl.col("__form") == form).rename({"__instance": "instance"})
        table = table.select([*ids, "instance", *form_columns(form)])
        repeating[importer.conversion.forms.get(form, form)] = _drop_empty_missing_columns(table)
    mapped_ids = sorted({form.instrument for form in importer.mapping.forms.values()})
    instruments = (*importer.conversion.instruments, *(get_instrument(i) for i in mapped_ids))
    return RedcapDataset(
        _drop_empty_missing_columns(wide),
        repeating,
        instruments,
        importer.conversion,
        tuple(importer.notes),
    )


def _key_columns(frame: pl.DataFrame, importer: _Importer) -> list[pl.Expr]:
    """participant_id, event, site, and which repeating form and instance a row holds."""
    record_id = importer.conversion.record_id_field
    keys = [pl.col(record_id).str.strip_chars().alias("participant_id")]
    if "redcap_event_name" in frame.columns:
        keys.append(pl.col("redcap_event_name").replace(importer.mapping.events).alias("event"))
    else:
        keys.append(pl.lit(BASELINE).alias("event"))
    if "redcap_data_access_group" in frame.columns:
        keys.append(pl.col("redcap_data_access_group").alias("site"))
    columns = set(frame.columns)
    form = pl.col("redcap_repeat_instrument") if "redcap_repeat_instrument" in columns else None
    instance = pl.col("redcap_repeat_instance") if "redcap_repeat_instance" in columns else None
    keys.append((pl.lit("") if form is None else form.fill_null("")).alias("__form"))
    keys.append(
        (pl.lit(None, dtype=pl.Int64) if instance is None else instance.cast(pl.Int64)).alias(
            "__instance"
        )
    )
    return keys


def _drop_empty_missing_columns(frame: pl.DataFrame) -> pl.DataFrame:
    empty = [
        column
        for column in frame.columns
        if column.startswith("redcap_missing_") and frame[column].null_count() == frame.height
    ]
    return frame.drop(empty)
