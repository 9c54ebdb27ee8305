"""Commands on instruments and survey tables: instruments, template, validate, score."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import polars as pl
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from fibrosurvey.cli import main
from fibrosurvey.instruments import load_instruments
from fibrosurvey.scoring import score_frame, scoring_provenance
from fibrosurvey.tables import TableError, coerce_items, read_table, write_table
from fibrosurvey.validation import ValidationReport, validate_frame

# Piped output (logs, CI) gets wide tables rather than cells wrapped at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

SHOWN_PROBLEMS = 50
# Files above this size get a progress display; small ones finish before it would render.
PROGRESS_BYTES = 5_000_000


def _instrument_ids(value: str | None) -> list[str] | None:
    if value is None:
        return None
    wanted = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [name for name in wanted if name not in load_instruments()]
    if unknown:
        raise click.BadParameter(
            f"unknown instrument(s) {', '.join(unknown)}; "
            f"run `fibrosurvey instruments` to list them"
        )
    return wanted


instruments_option = click.option(
    "--instruments",
    "instrument_list",
    metavar="IDS",
    help="Comma-separated instrument ids (default: all). See `fibrosurvey instruments`.",
)


@main.group("instruments", invoke_without_command=True)
@click.pass_context
def list_instruments(context: click.Context) -> None:
    """List the instruments: id, version, item count, languages and licence.

    `fibrosurvey instruments import FILE` converts a REDCap data dictionary or a FHIR
    Questionnaire into definition files.
    """
    if context.invoked_subcommand is not None:
        return
    table = Table("id", "version", "items", "languages", "title", "licence", show_lines=False)
    for instrument in load_instruments().values():
        languages = ", ".join(
            f"{code}{'' if info.validated_translation else '*'}"
            for code, info in instrument.languages.items()
        )
        licence = instrument.licence.split(".")[0]
        table.add_row(
            instrument.id,
            instrument.version,
            str(len(instrument.items)),
            languages,
            instrument.title.get("en", ""),
            licence,
        )
    console.print(table)
    console.print("* translation not (yet) validated")


@main.command("template")
@instruments_option
@click.option("--dictionary/--no-dictionary", default=True, help="Also print the dictionary.")
def template(instrument_list: str | None, dictionary: bool) -> None:
    """Print the CSV header for a battery, then a column dictionary."""
    selected = _instrument_ids(instrument_list) or list(load_instruments())
    instruments = [load_instruments()[name] for name in selected]
    header = ["participant_id", "event"] + [
        column for instrument in instruments for column in instrument.item_columns()
    ]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    if not dictionary:
        return
    writer.writerow([])
    writer.writerow(["column", "instrument", "kind", "allowed", "unit", "text"])
    for instrument in instruments:
        for item in instrument.items:
            writer.writerow(
                [
                    item.column,
                    instrument.id,
                    item.kind,
                    item.allowed(),
                    item.unit or "",
                    item.text.get("en", ""),
                ]
            )
        for column in instrument.score_columns():
            writer.writerow([column, instrument.id, "score", "", "", "computed by score"])


def print_problems(report: ValidationReport, source: Path) -> None:
    problems = sorted(report.problems, key=lambda p: (p.row or 0, p.column))
    table = Table("row", "column", "value", "allowed", "problem", title=f"Problems in {source}")
    for problem in problems[:SHOWN_PROBLEMS]:
        table.add_row(
            "" if problem.row is None else str(problem.row),
            problem.column,
            problem.value,
            problem.allowed,
            problem.message,
        )
    errors.print(table)
    errors.print(
        f"{len(problems)} problem(s) in {report.rows_checked} row(s); "
        f"showing the first {min(len(problems), SHOWN_PROBLEMS)}. "
        "Rows count data rows from 1 (the line after the header). Fix them and run again."
    )


@contextmanager
def _stages(path: Path) -> Iterator[Progress]:
    show = path.exists() and path.stat().st_size > PROGRESS_BYTES and sys.stderr.isatty()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        disable=not show,
        transient=True,
    )
    with progress:
        yield progress


def _load_valid(path: Path, instruments: list[str] | None, progress: Progress) -> pl.DataFrame:
    task = progress.add_task(f"reading {path.name}", total=None)
    try:
        frame = read_table(path)
    except TableError as error:
        raise click.ClickException(str(error)) from error
    progress.update(task, description=f"validating {frame.height:,} rows")
    report = validate_frame(frame, instruments)
    progress.remove_task(task)
    if not report.ok:
        progress.stop()
        print_problems(report, path)
        sys.exit(1)
    return frame


@main.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@instruments_option
def validate(file: Path, instrument_list: str | None) -> None:
    """Validate FILE (CSV or Parquet) against the instrument definitions.

    Exit code 0 when valid, 1 when problems were found (a table of the first 50 is printed).
    """
    started = time.perf_counter()
    with _stages(file) as progress:
        frame = _load_valid(file, _instrument_ids(instrument_list), progress)
    seconds = time.perf_counter() - started
    console.print(f"{file}: {frame.height:,} rows valid ({seconds:.2f} s)")


@main.command("score")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Output file, .csv or .parquet.",
)
@instruments_option
def score(file: Path, out: Path, instrument_list: str | None) -> None:
    """Validate and score FILE; write OUT with the input columns plus the scores.

    The instrument versions used are recorded in the `scoring_versions` column and in the
    file's metadata (Parquet) or a `.meta.json` sidecar (CSV).
    """
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise click.UsageError("--out must end in .csv or .parquet")
    instruments = _instrument_ids(instrument_list)
    started = time.perf_counter()
    with _stages(file) as progress:
        frame = _load_valid(file, instruments, progress)
        task = progress.add_task(f"scoring {frame.height:,} rows", total=None)
        scored = score_frame(coerce_items(frame), instruments)
        progress.update(task, description=f"writing {out.name}")
        used = [
            instrument
            for instrument in load_instruments().values()
            if (instruments is None or instrument.id in instruments)
            and any(column in frame.columns for column in instrument.item_columns())
        ]
        write_table(scored, out, {"fibrosurvey_scoring_versions": scoring_provenance(used)})
    seconds = time.perf_counter() - started
    console.print(
        f"scored {scored.height:,} rows with {scoring_provenance(used) or 'no instrument'} "
        f"in {seconds:.2f} s -> {out}"
    )
