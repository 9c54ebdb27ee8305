"""``fibrosurvey instruments import``: a REDCap data dictionary or FHIR Questionnaire as YAML."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from fibrosurvey.cli.instrument_commands import console, errors, list_instruments
from fibrosurvey.fhir import read_questionnaire
from fibrosurvey.instruments import Instrument
from fibrosurvey.instruments.writer import write_definition
from fibrosurvey.redcap import (
    DictionaryError,
    Refusal,
    dictionary_to_instruments,
    read_data_dictionary,
)

__all__ = ["import_instruments"]

# Exit codes: everything converted, something refused (the rest written), file unreadable.
CONVERTED, REFUSED, UNREADABLE = 0, 1, 2


def _unreadable(path: Path, reason: str) -> None:
    errors.print(f"Error: {path}: {reason}", markup=False)
    errors.print(
        "Nothing was written. Give a REDCap data dictionary (.csv, Project Setup > Data "
        "Dictionary > Download) or a FHIR Questionnaire (.json).",
        markup=False,
    )
    sys.exit(UNREADABLE)


def _from_fhir(path: Path, language: str) -> tuple[list[Instrument], list[Refusal]]:
    try:
        resource: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        _unreadable(path, f"not JSON: {error}")
    if not isinstance(resource, dict) or resource.get("resourceType") != "Questionnaire":
        _unreadable(path, "not a FHIR Questionnaire (resourceType must be 'Questionnaire')")
    instrument, problems = read_questionnaire(resource, language)
    refusals = [Refusal(None, text.split(":", 1)[0], text) for text in problems]
    return ([] if instrument is None else [instrument]), refusals


def _from_redcap(path: Path, language: str) -> tuple[list[Instrument], list[Refusal], list[str]]:
    try:
        dictionary = read_data_dictionary(path)
    except DictionaryError as error:
        for problem in error.problems:
            errors.print(f"  {problem}", markup=False)
        _unreadable(path, "not a readable REDCap data dictionary (problems above)")
    result = dictionary_to_instruments(dictionary, language)
    return list(result.instruments), list(result.refusals), list(result.notes)


@list_instruments.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory to write <instrument id>.yaml files into.",
)
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
def import_instruments(file: Path, out_dir: Path, language: str) -> None:
    """Convert FILE (REDCap data dictionary .csv, or FHIR Questionnaire .json) to our YAML.

    One definition file per REDCap form (or one for the Questionnaire) is written to OUT.
    What could not be converted is listed with its line, field and reason.

    Exit codes: 0 everything converted; 1 something was refused (the rest is still
    written); 2 the file cannot be read (nothing written).
    """
    if not file.is_file():
        _unreadable(file, "no such file")
    notes: list[str] = []
    if file.suffix.lower() == ".json":
        instruments, refusals = _from_fhir(file, language)
    else:
        instruments, refusals, notes = _from_redcap(file, language)
    for instrument in instruments:
        path = write_definition(instrument, out_dir)
        gated = sum(item.gated for item in instrument.items)
        console.print(
            f"wrote {path}: {len(instrument.items)} items, {gated} with skip logic, "
            f"{len(instrument.scores)} scores",
            markup=False,
        )
    for note in notes:
        console.print(f"note: {note}", markup=False)
    if refusals:
        errors.print(f"{len(refusals)} thing(s) could not be converted:", markup=False)
        for refusal in sorted(refusals, key=lambda r: (r.line or 0, r.field)):
            errors.print(f"  {refusal}", markup=False)
        errors.print(
            "Everything else was written. Change these in the source (or edit the YAML) and "
            "run again.",
            markup=False,
        )
        sys.exit(REFUSED)
    console.print("everything converted", markup=False)
