"""``fibrosurvey instruments import``: a REDCap data dictionary or FHIR Questionnaire as YAML."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fibrosurvey.cli.instrument_commands import console, errors, list_instruments
from fibrosurvey.instruments.writer import write_definition
from fibrosurvey.redcap.sources import UnreadableSource, convert_instrument_file

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
    try:
        data = file.read_bytes()
    except OSError as error:
        _unreadable(file, error.strerror or str(error))
    try:
        result = convert_instrument_file(file.name, data, language)
    except UnreadableSource as error:
        _unreadable(file, str(error))
    for instrument in result.instruments:
        path = write_definition(instrument, out_dir)
        gated = sum(item.gated for item in instrument.items)
        console.print(
            f"wrote {path}: {len(instrument.items)} items, {gated} with skip logic, "
            f"{len(instrument.scores)} scores",
            markup=False,
        )
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    if result.refusals:
        errors.print(f"{len(result.refusals)} thing(s) could not be converted:", markup=False)
        for refusal in result.refusals:
            errors.print(f"  {refusal}", markup=False)
        errors.print(
            "Everything else was written. Change these in the source (or edit the YAML) and "
            "run again.",
            markup=False,
        )
        sys.exit(REFUSED)
    console.print("everything converted", markup=False)
