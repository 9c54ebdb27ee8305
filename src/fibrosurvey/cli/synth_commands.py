"""``fibrosurvey synth``: write a synthetic national survey and its planted truth."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fibrosurvey.cli import main
from fibrosurvey.countries import COUNTRIES, DEFAULT_COUNTRY
from fibrosurvey.synth import SCENARIOS, generate
from fibrosurvey.tables import write_table

__all__ = ["synth", "truth_path"]

console = Console(stderr=True)
# The steps generate() reports, in order (for the progress bar's total).
_STEPS = 9


def truth_path(output: Path) -> Path:
    """The truth sidecar of ``output``: the full file name plus ``.truth.json``."""
    return output.with_name(output.name + ".truth.json")


@main.command("synth")
@click.option(
    "--scenario",
    type=click.Choice(list(SCENARIOS)),
    required=True,
    help="seed-claims: the article's claims are true; literature: as the 2022 meta-analysis "
    "found; null: no association and no treatment effect.",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Number of participants (baseline rows).",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed: the same seed gives identical data.",
)
@click.option(
    "--country",
    type=click.Choice(list(COUNTRIES)),
    default=DEFAULT_COUNTRY,
    show_default=True,
    help="Country of the study: its regions are the sampling strata and demo_region codes.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output table, .csv or .parquet. The truth goes to OUTPUT.truth.json next to it.",
)
@click.option(
    "--partitioned",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write partitioned Parquet to this new folder instead (chunk=<k>/part.parquet, one "
    "independent replicate sample per chunk, bounded memory; see manifest.json).",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="With --partitioned: participants per chunk (about 1.6 rows each with follow-ups).",
)
def synth(
    scenario: str, n: int, seed: int, country: str, output: Path | None,
    partitioned: Path | None, chunk_rows: int,
) -> None:  # fmt: skip
    """Generate a synthetic national survey with a planted, known truth.

    Writes one row per participant x event (baseline for everyone, followup_3m for about 60%)
    in the analysis-dataset format, with scores, and OUTPUT.truth.json with the planted effects
    and the population values the analysis should recover.
    """
    if (output is None) == (partitioned is None):
        raise click.UsageError("give either -o/--output FILE or --partitioned DIR")
    if partitioned is not None:
        if country != DEFAULT_COUNTRY:
            raise click.UsageError("--partitioned draws US cohorts only; leave out --country")
        _synth_partitioned(scenario, n, seed, partitioned, chunk_rows)
        return
    assert output is not None
    if output.suffix.lower() not in (".csv", ".parquet"):
        raise click.UsageError(
            f"cannot write {output.name!r}: give the output a .csv or .parquet extension, "
            "e.g. -o survey.parquet"
        )
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]synth[/bold] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=_STEPS + 1)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)

        result = generate(scenario, n, seed, progress=step, country=country)
        progress.update(task, description="writing", advance=1)
        write_table(result.data, output)
        sidecar = truth_path(output)
        sidecar.write_text(json.dumps(result.truth, indent=1) + "\n", encoding="utf-8")
    elapsed = time.perf_counter() - started
    console.print(
        f"{result.summary()}\nwrote {output} ({result.data.height} rows, "
        f"{result.data.width} columns) and {sidecar} in {elapsed:.1f} s"
    )


def _synth_partitioned(scenario: str, n: int, seed: int, folder: Path, chunk_rows: int) -> None:
    from fibrosurvey.synth.partitioned import write_partitioned

    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]synth[/bold] chunk {task.completed}/{task.total}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("chunks", total=-(-n // chunk_rows))
        try:
            manifest = write_partitioned(
                scenario, n, seed, folder, chunk_rows,
                progress=lambda done, _total, _rows: progress.update(task, completed=done),
            )  # fmt: skip
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    elapsed = time.perf_counter() - started
    console.print(
        f"wrote {folder}: {manifest['rows']} rows of {n} participants in "
        f"{manifest['chunks']} chunks ({folder}/manifest.json) in {elapsed:.1f} s"
    )
