"""Commands for HL7 FHIR R4: export an instrument's Questionnaire, import a response."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from fibrosurvey.cli import main
from fibrosurvey.fhir import (
    FhirMappingError,
    ResponseReading,
    questionnaire,
    read_bundle,
    read_response_detail,
)
from fibrosurvey.instruments import load_instruments

__all__ = ["fhir"]


def _fail(error: FhirMappingError) -> None:
    click.echo(f"Error: {error}", err=True)
    click.echo(
        "Nothing was imported. Fix the items listed above and run the command again.", err=True
    )
    sys.exit(1)


@main.group("fhir")
def fhir() -> None:
    """HL7 FHIR R4: Questionnaire export and QuestionnaireResponse import."""


@fhir.command("export")
@click.argument("instrument_id", metavar="ID")
@click.option("--language", default="en", show_default=True, help="Language of the main text.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON to this file instead of standard output.",
)
def export(instrument_id: str, language: str, output: Path | None) -> None:
    """Print an instrument as a FHIR R4 Questionnaire (SDC style, JSON).

    The other languages of the definition are included as translation extensions.
    Run `fibrosurvey instruments` to list the ids.
    """
    instruments = load_instruments()
    if instrument_id not in instruments:
        raise click.BadParameter(
            f"unknown instrument {instrument_id!r}; known: {', '.join(instruments)}",
            param_hint="ID",
        )
    languages = list(instruments[instrument_id].languages)
    if language not in languages:
        raise click.BadParameter(
            f"{instrument_id} has no language {language!r}; its languages: {', '.join(languages)}",
            param_hint="--language",
        )
    text = json.dumps(questionnaire(instrument_id, language), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@fhir.command("import-response")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--json",
    "output_format",
    flag_value="json",
    default=True,
    help="Print the row as a JSON object (the default).",
)
@click.option("--csv", "output_format", flag_value="csv", help="Print the row as CSV.")
@click.option(
    "--instrument",
    "instrument_id",
    metavar="ID",
    help="The instrument answered, when the response names neither our Questionnaire nor LOINC.",
)
def import_response(file: Path, output_format: str, instrument_id: str | None) -> None:
    """Read a FHIR R4 QuestionnaireResponse (JSON) into a row of fibrosurvey columns.

    Accepts responses to fibrosurvey's own Questionnaires and LOINC-coded PHQ-9/GAD-7 responses
    from other SDC tools. Calculated totals in the file are skipped (scores are recomputed).
    A Bundle of responses gives one record per response, with its instrument, subject
    reference and authored date before the item columns.
    Exit code 1, with every problem listed, when a response does not match its instrument.
    """
    if instrument_id is not None and instrument_id not in load_instruments():
        known = ", ".join(load_instruments())
        raise click.BadParameter(
            f"unknown instrument {instrument_id!r}; known: {known}", param_hint="--instrument"
        )
    try:
        resource = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        click.echo(f"Error: {file} is not JSON: {error}", err=True)
        click.echo("Give a QuestionnaireResponse as a JSON file.", err=True)
        sys.exit(1)
    is_bundle = isinstance(resource, dict) and resource.get("resourceType") == "Bundle"
    try:
        if is_bundle:
            readings = read_bundle(resource, instrument_id)
        else:
            readings = [read_response_detail(resource, instrument_id)]
    except FhirMappingError as error:
        _fail(error)
        return
    for reading in readings:
        for note in reading.ignored:
            click.echo(f"skipped {note}", err=True)
    if is_bundle:
        _print_bundle(readings, output_format)
    elif output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(readings[0].row)
        writer.writerow(["" if value is None else value for value in readings[0].row.values()])
    else:
        click.echo(json.dumps(readings[0].row, indent=2))


def _print_bundle(readings: list[ResponseReading], output_format: str) -> None:
    """One record per response: which instrument, whose, when, and the row."""
    records = [
        {
            "instrument_id": reading.instrument_id,
            "subject_reference": reading.subject_reference,
            "authored": reading.authored,
            **reading.row,
        }
        for reading in readings
    ]
    if output_format != "csv":
        click.echo(json.dumps(records, indent=2))
        return
    header = ["instrument_id", "subject_reference", "authored"]
    for instrument in load_instruments().values():  # item columns in battery order
        if any(reading.instrument_id == instrument.id for reading in readings):
            header += instrument.item_columns()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow(["" if record.get(name) is None else record[name] for name in header])
