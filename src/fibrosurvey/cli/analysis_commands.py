"""Commands for analysis: analyze (plan -> results + report) and demo (estimate: survey)."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import click
import polars as pl
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# The statistics stack (statsmodels, scikit-learn, matplotlib) is imported inside the commands,
# so `fibrosurvey --help` and the other commands stay fast.
from fibrosurvey.analysis.frames import to_numeric
from fibrosurvey.analysis.plan import OUT_OF_CORE_SAMPLE, Plan, PlanError, load_plan
from fibrosurvey.analysis.results import Results
from fibrosurvey.cli import main
from fibrosurvey.tables import TableError, read_table

console = Console()
errors = Console(stderr=True)

__all__ = ["analyze", "demo", "file_sha256", "prepare"]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read(path: Path) -> pl.DataFrame:
    try:
        return read_table(path)
    except TableError as error:
        raise click.ClickException(str(error)) from error


def prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """Numbers from text, and scores when the item columns are there but the scores are not."""
    from fibrosurvey.instruments import load_instruments

    frame = to_numeric(frame)
    unscored = [
        instrument.id
        for instrument in load_instruments().values()
        if any(c in frame.columns for c in instrument.item_columns())
        and not all(c in frame.columns for c in instrument.score_columns())
    ]
    if not unscored:
        return frame
    from fibrosurvey.scoring import score_frame
    from fibrosurvey.tables import coerce_items
    from fibrosurvey.validation import validate_frame

    report = validate_frame(frame, unscored)
    if not report.ok:
        from fibrosurvey.cli.instrument_commands import print_problems

        print_problems(report, Path("input"))
        errors.print("The data must be valid before they can be scored; fix the rows above.")
        sys.exit(1)
    return score_frame(coerce_items(frame), unscored)


@main.command("analyze")
@click.argument("data", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Analysis plan (YAML). Default: the shipped CED plan (claims C0-C4).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="HTML report to write.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write every hypothesis result as JSON.",
)
@click.option(
    "--imputations",
    type=click.IntRange(min=0),
    help="Number of imputations for the sensitivity analysis (0 = skip; default: the plan's).",
)
@click.option(
    "--engine",
    type=click.Choice(["memory", "duckdb", "spark"]),
    default="memory",
    show_default=True,
    help="memory: load DATA. duckdb/spark: derived variables and design-based estimates over "
    "every row out of core; the other analyses on a seeded sample (--sample).",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=OUT_OF_CORE_SAMPLE,
    show_default=True,
    help="With --engine duckdb/spark: participants drawn (seeded by the plan's seed) for the "
    "analyses that do not reduce to sums.",
)
@click.option(
    "--master",
    "--spark-master",
    "master",
    help="With --engine spark: the cluster (spark://host:7077); default $SPARK_MASTER or local[2].",
)
@click.option(
    "--memory-limit",
    default="3GB",
    show_default=True,
    help="With --engine duckdb: DuckDB's memory limit (it spills to disk beyond it).",
)
def analyze(
    data: Path, plan_path: Path | None, out: Path, json_path: Path | None,
    imputations: int | None, engine: str, sample: int, master: str | None, memory_limit: str,
) -> None:  # fmt: skip
    """Run an analysis plan on DATA (CSV or Parquet, one row per participant x event).

    DATA may be a folder of partitioned Parquet (as `synth --partitioned` and the web export
    write it). Scores are computed first when DATA has item columns but no score columns (memory
    engine). Writes the self-contained HTML report (--out) and optionally the results as JSON
    (--json).
    """
    from fibrosurvey.analysis.runner import run_plan
    from fibrosurvey.report import write_report

    started = time.perf_counter()
    try:
        plan = load_plan(plan_path)
    except PlanError as error:
        raise click.ClickException(str(error)) from error
    try:
        if engine == "memory":
            from fibrosurvey.analysis.out_of_core import source_sha256

            frame = prepare(_read_any(data))
            results = run_plan(
                frame, plan, progress=True, imputations=imputations,
                input_sha256=source_sha256(data) if data.is_dir() else file_sha256(data),
            )  # fmt: skip
        else:
            results = _out_of_core(data, plan, engine, sample, imputations, master, memory_limit)
    except (PlanError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    write_report(results, out)
    if json_path is not None:
        results.write_json(json_path)
    for claim in results.claims:
        console.print(f"[bold]{claim.id}[/bold] {claim.verdict}: {claim.plain}")
    console.print(f"report: {out}" + (f"; results: {json_path}" if json_path else ""))
    console.print(f"({time.perf_counter() - started:.1f} s)")


def _read_any(data: Path) -> pl.DataFrame:
    if data.is_dir():
        from fibrosurvey.engines import read_parquet_source

        return read_parquet_source(data)
    return _read(data)


def _out_of_core(
    data: Path, plan: Plan, engine: str, sample: int, imputations: int | None,
    master: str | None, memory_limit: str,
) -> Results:  # fmt: skip
    from fibrosurvey.analysis.out_of_core import run_plan_on_engine, source_sha256

    if data.is_file() and data.suffix.lower() != ".parquet":
        raise click.UsageError(
            f"--engine {engine} reads Parquet: give a .parquet file or a folder of them"
        )
    options: dict[str, object] = {}
    if engine == "duckdb":
        options["memory_limit"] = memory_limit
    elif master:
        options["master"] = master
    errors.print(f"{engine}: derived variables and design-based estimates over every row")
    return run_plan_on_engine(
        data, plan, engine, sample=sample, imputations=imputations, progress=True,
        options=options, input_sha256=source_sha256(data),
    )  # fmt: skip


@main.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/demo"),
    show_default=True,
    help="Directory for the data, results.json and report.html.",
)
@click.option("--n", "size", type=click.IntRange(min=200), default=5000, show_default=True)
@click.option("--seed", type=int, default=20261123, show_default=True)
@click.option(
    "--scenario",
    type=click.Choice(["seed-claims", "literature", "null"]),
    default="seed-claims",
    show_default=True,
)
@click.option(
    "--imputations",
    type=click.IntRange(min=0),
    help="Imputations for the sensitivity analysis (default: the plan's; 0 = skip).",
)
def demo(out: Path, size: int, seed: int, scenario: str, imputations: int | None) -> None:
    """Synthetic survey -> scores -> the default plan -> report; prints the report's path."""
    from fibrosurvey.analysis.runner import run_plan
    from fibrosurvey.report import write_report
    from fibrosurvey.synth import generate

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task(f"synthesising {size:,} participants ({scenario})", total=None)
        synth = generate(scenario, size, seed)
        data_path = out / "data.parquet"
        synth.data.write_parquet(data_path)
        (out / "truth.json").write_text(json.dumps(synth.truth, indent=2, default=str) + "\n")
        progress.update(task, description="scoring")
        frame = prepare(synth.data)
        progress.remove_task(task)
    results = run_plan(
        frame,
        load_plan(),
        progress=True,
        imputations=imputations,
        input_sha256=file_sha256(data_path),
    )
    results.write_json(out / "results.json")
    report = write_report(results, out / "report.html")
    for claim in results.claims:
        console.print(f"[bold]{claim.id}[/bold] {claim.verdict}")
    errors.print(f"demo finished in {time.perf_counter() - started:.1f} s")
    click.echo(str(report.resolve()))
