"""``fibrosurvey redcap import|export``: REDCap projects into the analysis dataset and back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from fibrosurvey.cli import main
from fibrosurvey.cli.instrument_commands import console, errors
from fibrosurvey.instruments import DefinitionError, Instrument, get_instrument, load_definition
from fibrosurvey.instruments.writer import write_definition
from fibrosurvey.problems import Problem
from fibrosurvey.redcap import DictionaryError, read_data_dictionary
from fibrosurvey.redcap.export import dataset_to_records, instrument_to_data_dictionary
from fibrosurvey.redcap.mapping import MappingError, RecordMapping, read_mapping
from fibrosurvey.redcap.records import (
    MISSING_DATA_CODES,
    RecordsError,
    import_records,
    repeating_table_path,
)
from fibrosurvey.tables import TableError, read_table, write_table

__all__ = ["redcap"]

SHOWN = 50


def _fail(problems: list[Problem], what: str) -> None:
    for problem in problems[:SHOWN]:
        errors.print(f"  {problem}", markup=False)
    if len(problems) > SHOWN:
        errors.print(f"  ... and {len(problems) - SHOWN} more", markup=False)
    errors.print(
        f"Error: {what}. Nothing was written (imports are all or nothing); fix the cells listed "
        "(rows count from 1 after the header) and run again.",
        markup=False,
    )
    sys.exit(1)


@main.group("redcap")
def redcap() -> None:
    """REDCap projects: import a data dictionary and records, export a study."""


@redcap.command("import")
@click.option(
    "--dictionary",
    "dictionary_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The project's data dictionary CSV (Project Setup > Data Dictionary).",
)
@click.option(
    "--records",
    "records_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The flat record export, CSV with raw codes (Data Exports > All data > CSV raw).",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="YAML tying REDCap fields to our items and events (see fibrosurvey.redcap.mapping).",
)
@click.option(
    "-o",
    "--out",
    "output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The dataset, .parquet or .csv; repeating instruments go beside it as OUT_<id>.",
)
@click.option("--url", help="REDCap API URL (with --token): fetch the CSVs through PyCap.")
@click.option("--token", envvar="REDCAP_API_TOKEN", help="REDCap API token (or REDCAP_API_TOKEN).")
@click.option(
    "--missing-codes",
    default=",".join(MISSING_DATA_CODES),
    show_default=True,
    help="The project's missing-data codes, comma-separated.",
)
@click.option(
    "--keep-identifiers",
    is_flag=True,
    help="Keep fields marked Identifier? = y (left out by default).",
)
def import_command(
    dictionary_path: Path | None,
    records_path: Path | None,
    mapping_path: Path | None,
    output: Path,
    url: str | None,
    token: str | None,
    missing_codes: str,
    keep_identifiers: bool,
) -> None:
    """Read a REDCap project (dictionary + flat records) into our analysis dataset.

    One row per record x event; repeating instruments in long tables of their own; checkbox
    boxes as 0/1 items; <form>_complete as redcap_complete_<instrument>; missing-data codes
    in redcap_missing_<column>. The instrument definitions are written to OUT_instruments/.
    Exit codes: 0 imported, 1 bad data (nothing written), 2 unreadable input.
    """
    if output.suffix.lower() not in (".parquet", ".csv"):
        raise click.UsageError("--out must end in .parquet or .csv")
    dictionary_source: str | bytes
    records_source: str | bytes
    if url is not None:
        if token is None:
            raise click.UsageError("--url needs --token (or REDCAP_API_TOKEN)")
        from fibrosurvey.redcap.api import ApiError, fetch_project

        try:
            dictionary_source, records_source = fetch_project(url, token)
        except ApiError as error:
            errors.print(f"Error: {error}. Check the URL and token, then run again.", markup=False)
            sys.exit(2)
    else:
        if dictionary_path is None or records_path is None:
            raise click.UsageError("give --dictionary and --records, or --url and --token")
        for path in (dictionary_path, records_path):
            if not path.is_file():
                errors.print(f"Error: {path}: no such file", markup=False)
                sys.exit(2)
        dictionary_source = dictionary_path.read_bytes()
        records_source = records_path.read_bytes()
    try:
        dictionary = read_data_dictionary(dictionary_source)
    except DictionaryError as error:
        for problem in error.problems:
            errors.print(f"  {problem}", markup=False)
        errors.print("Error: not a readable REDCap data dictionary.", markup=False)
        sys.exit(2)
    mapping = RecordMapping()
    if mapping_path is not None:
        try:
            mapping = read_mapping(mapping_path)
        except MappingError as error:
            _fail(error.problems, f"the mapping {mapping_path} cannot be used")
    codes = tuple(code.strip() for code in missing_codes.split(",") if code.strip())
    try:
        # A spinner on a terminal: a large project takes tens of seconds to check.
        with errors.status("converting the dictionary, checking and reading every record..."):
            dataset = import_records(
                dictionary,
                records_source,
                mapping,
                missing_codes=codes,
                keep_identifiers=keep_identifiers,
            )
    except RecordsError as error:
        _fail(
            error.problems,
            "the records do not fit the dictionary (export them as CSV, raw data, with "
            "variable names as headers, from the same project)",
        )
    metadata = {
        "fibrosurvey_source": "REDCap flat record export",
        "fibrosurvey_redcap_forms": json.dumps(dataset.conversion.forms),
    }
    write_table(dataset.wide, output, metadata)
    console.print(
        f"wrote {output}: {dataset.wide.height} record x event rows, {dataset.wide.width} columns",
        markup=False,
    )
    for instrument_id, table in dataset.repeating.items():
        path = repeating_table_path(output, instrument_id)
        write_table(table, path, metadata)
        console.print(f"wrote {path}: {table.height} repeating {instrument_id} rows", markup=False)
    definitions = output.with_name(f"{output.stem}_instruments")
    for instrument in dataset.conversion.instruments:
        write_definition(instrument, definitions)
    console.print(f"wrote the instrument definitions to {definitions}/", markup=False)
    for refusal in dataset.conversion.refusals:
        console.print(f"not converted: {refusal}", markup=False)
    for note in dataset.notes:
        console.print(f"note: {note}", markup=False)


def _export_instruments(ids: str | None, definitions: Path | None) -> list[Instrument]:
    chosen: list[Instrument] = []
    if ids:
        for instrument_id in (part.strip() for part in ids.split(",") if part.strip()):
            try:
                chosen.append(get_instrument(instrument_id))
            except KeyError as error:
                raise click.BadParameter(str(error.args[0]), param_hint="--instruments") from None
    if definitions is not None:
        for path in sorted(definitions.glob("*.yaml")):
            try:
                chosen.append(load_definition(path))
            except DefinitionError as error:
                raise click.BadParameter(str(error), param_hint="--definitions") from None
    if not chosen:
        raise click.UsageError("give --instruments and/or --definitions")
    return chosen


@redcap.command("export")
@click.option(
    "--instruments", "ids", metavar="IDS", help="Built-in instrument ids, comma-separated."
)
@click.option(
    "--definitions",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A directory of our YAML definitions (a study's own instruments).",
)
@click.option(
    "--dataset",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Our dataset (.parquet or .csv) to write as flat records.",
)
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for data_dictionary.csv and records.csv.",
)
def export_command(
    ids: str | None, definitions: Path | None, dataset: Path | None, language: str, out_dir: Path
) -> None:
    """Write our instruments as a REDCap data dictionary, and a dataset as flat records.

    Upload data_dictionary.csv in Project Setup > Data Dictionary, then records.csv in Data
    Import Tool (the record id is participant_id; events are <event>_arm_1). Long tables of
    repeating instruments beside the dataset (DATASET_<id>.parquet, as `redcap import` writes
    them) become repeating-instrument rows; mark those forms repeating in REDCap first. Reading the
    dictionary back with `fibrosurvey instruments import` gives the same definitions.
    """
    instruments = _export_instruments(ids, definitions)
    out_dir.mkdir(parents=True, exist_ok=True)
    dictionary = out_dir / "data_dictionary.csv"
    dictionary.write_text(instrument_to_data_dictionary(instruments, language), encoding="utf-8")
    console.print(f"wrote {dictionary}: {len(instruments)} forms", markup=False)
    if dataset is not None:
        try:
            frame = read_table(dataset)
        except TableError as error:
            raise click.ClickException(str(error)) from error
        repeating = {}
        for instrument in instruments:
            path = repeating_table_path(dataset, instrument.id)
            if path.is_file():
                repeating[instrument.id] = read_table(path)
                console.print(f"read the repeating {instrument.id} rows from {path}", markup=False)
        records = out_dir / "records.csv"
        records.write_text(dataset_to_records(frame, instruments, repeating), encoding="utf-8")
        console.print(f"wrote {records}", markup=False)
