"""Commands for HL7 FHIR R4: export an instrument's Questionnaire, import a response."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from fibrosurvey.cli import main
from fibrosurvey.fhir import FhirMappingError, questionnaire, read_response_detail
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
    Exit code 1, with every problem listed, when the response does not match the instrument.
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
    try:
        reading = read_response_detail(resource, instrument_id)
    except FhirMappingError as error:
        _fail(error)
        return
    for note in reading.ignored:
        click.echo(f"skipped {note}", err=True)
    if output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(reading.row)
        writer.writerow(["" if value is None else value for value in reading.row.values()])
    else:
        click.echo(json.dumps(reading.row, indent=2))
