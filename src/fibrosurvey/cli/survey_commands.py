"""Design-based commands: ``estimate`` (R survey estimators) and ``weights calibrate``.

``weights calibrate`` writes the data with a calibrated weight column and, next to it, a sidecar
``<OUT>.calibration.json`` holding what the variance needs: the method, the margins (inline),
the base weight column and the raking controls. ``estimate`` given that sidecar (``--calibration``,
or automatically when ``--weights`` names the calibrated column of a file with a sidecar) re-runs
the calibration from the base weights on the whole file, checks it reproduces the stored column,
and computes calibrated variances (R ``postStratify``/``rake``/``calibrate`` + ``svyrecvar``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import numpy as np
import polars as pl
import yaml
from rich.console import Console

from fibrosurvey.analysis.frames import to_numeric, vector
from fibrosurvey.cli import main
from fibrosurvey.tables import TableError, read_table, write_table

console = Console()

__all__ = ["estimate", "weights"]

SIDECAR_FORMAT = "fibrosurvey-calibration/1"
_LONELY = ("adjust", "certainty", "remove", "average", "fail")
_PROPORTION_CI = ("logit", "xlogit", "wald", "mean", "asin", "beta")


def _read(path: Path) -> pl.DataFrame:
    if path.is_dir():  # partitioned Parquet, as `synth --partitioned` writes it
        from fibrosurvey.engines import read_parquet_source

        try:
            return to_numeric(read_parquet_source(path))
        except ValueError as error:
            raise click.ClickException(str(error)) from error
    try:
        return to_numeric(read_table(path))
    except TableError as error:
        raise click.ClickException(str(error)) from error


def _names(value: str | None) -> list[str]:
    return [] if value is None else [v.strip() for v in value.split(",") if v.strip()]


def sidecar_path(data: Path) -> Path:
    return data.with_name(data.name + ".calibration.json")


def _design(
    frame: pl.DataFrame,
    weights: str | None,
    strata: list[str],
    psu: list[str],
    fpc: list[str],
    lonely_psu: str,
    weights_from_fpc: bool = True,
) -> Any:
    from fibrosurvey.analysis.design import survey_design_for
    from fibrosurvey.stats.survey_design import SurveyDesign

    if weights is None and fpc and weights_from_fpc:
        # As R svydesign without weights: each row's weight is prod(N / n) over the stages.
        return SurveyDesign(
            None,
            strata=[frame.get_column(c) for c in strata] or None,
            psu=[frame.get_column(c) for c in psu] or None,
            fpc=[vector(frame, c) for c in fpc],
            lonely_psu=lonely_psu,
        )
    return survey_design_for(frame, weights, strata or None, psu or None, fpc or None, lonely_psu)


def _calibrated_design(
    frame: pl.DataFrame, sidecar: dict[str, Any], strata: list[str], psu: list[str],
    fpc: list[str], lonely_psu: str,
) -> Any:  # fmt: skip
    """The design re-calibrated from the sidecar; checks it reproduces the stored weights."""
    from fibrosurvey.stats.calibration import calibrate_with_spec

    if sidecar.get("format") != SIDECAR_FORMAT:
        raise click.ClickException(f"not a calibration sidecar (format {SIDECAR_FORMAT})")
    # `weights calibrate` without --weights started from equal weights, whatever the fpc.
    base = _design(frame, sidecar["base_weights"], strata, psu, fpc, lonely_psu, False)
    design = calibrate_with_spec(
        base, frame, sidecar["margins"], sidecar["method"],
        epsilon=float(sidecar["epsilon"]), max_iter=int(sidecar["max_iter"]),
    )  # fmt: skip
    column = sidecar["weight_column"]
    if column in frame.columns:
        stored = vector(frame, column)
        if not np.allclose(design.weights, stored, rtol=1e-9, atol=0, equal_nan=False):
            row = int(np.flatnonzero(~np.isclose(design.weights, stored, rtol=1e-9, atol=0))[0])
            raise click.ClickException(
                f"column {column!r} (row {row}: {float(stored[row])!r}) differs from a re-run of "
                f"the calibration ({float(design.weights[row])!r}); the data changed since "
                "`weights calibrate`: calibrate again"
            )
    return design


def _row(variable: str, group: str, kind: str, result: Any, **extra: Any) -> dict[str, Any]:
    return {
        "variable": variable, "group": group, "kind": kind, "estimate": result.estimate,
        "se": result.se, "ci_low": result.ci_low, "ci_high": result.ci_high, "n": result.n,
        "method": result.method, **extra,
    }  # fmt: skip


@main.command("estimate")
@click.argument("file", type=click.Path(path_type=Path, exists=True))
@click.option("--var", "variable", required=True, help="Column to estimate (0/1 -> proportion).")
@click.option("--by", "by", help="Group column: one estimate per group (domain estimation).")
@click.option("--weights", help="Sampling weight column (default: from the fpc, else equal).")
@click.option("--strata", help="Stratum column(s), comma-separated, one per stage.")
@click.option("--psu", help="Cluster column(s) by stage, comma-separated (e.g. dnum,snum).")
@click.option("--fpc", help="Finite population correction column(s) by stage, comma-separated.")
@click.option(
    "--lonely-psu", type=click.Choice(_LONELY), default="adjust", show_default=True,
    help="Strata with a single sampled unit (R survey.lonely.psu; R's default is fail).",
)  # fmt: skip
@click.option(
    "--ci", "ci", type=click.Choice(_PROPORTION_CI), default="logit", show_default=True,
    help="Interval for proportions (R svyciprop method; wald = normal, as confint(svymean)).",
)  # fmt: skip
@click.option("--quantiles", help="Quantiles instead of the mean, e.g. 0.25,0.5,0.75.")
@click.option("--ratio-to", "ratio_to", help="Ratio of totals var / this column (svyratio).")
@click.option(
    "--calibration", type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Calibration sidecar from `weights calibrate` (default: FILE.calibration.json when "
    "--weights is its calibrated column).",
)  # fmt: skip
@click.option("--event", help="Use only rows of this event (e.g. baseline).")
@click.option("--confidence", type=click.FloatRange(0.5, 0.999), default=0.95, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--engine", type=click.Choice(["memory", "duckdb", "spark"]), default="memory",
    show_default=True,
    help="memory: in RAM, every option. duckdb/spark: mean or proportion by SQL aggregation "
    "over Parquet (a file or a partitioned folder), out of core; same numbers.",
)  # fmt: skip
@click.option(
    "--spark-master", help="With --engine spark: a cluster URL (default local[2] or $SPARK_MASTER)."
)
def estimate(
    file: Path, variable: str, by: str | None, weights: str | None, strata: str | None,
    psu: str | None, fpc: str | None, lonely_psu: str, ci: str, quantiles: str | None,
    ratio_to: str | None, calibration: Path | None, event: str | None, confidence: float,
    as_json: bool, engine: str, spark_master: str | None,
) -> None:  # fmt: skip
    """Design-based mean, proportion, quantiles or ratio of --var in FILE (as R survey).

    Multi-stage designs take one column per stage: --psu dnum,snum --fpc fpc1,fpc2 (R
    svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2)). Example: fibrosurvey estimate
    data.parquet --var fsq_acr2016 --weights design_weight --strata design_stratum --psu
    design_psu --fpc design_fpc --event baseline
    """
    from fibrosurvey.analysis.plan import PlanError

    if engine != "memory":
        from fibrosurvey.cli.engine_estimate import engine_rows

        unsupported = [
            name
            for name, given in (("--by", by), ("--quantiles", quantiles),
                                ("--ratio-to", ratio_to), ("--calibration", calibration))
            if given
        ]  # fmt: skip
        if unsupported:
            raise click.UsageError(
                f"--engine {engine} computes means and proportions; {', '.join(unsupported)} "
                "need --engine memory"
            )
        rows = engine_rows(
            file, engine, variable, weights, _names(strata), _names(psu), _names(fpc),
            lonely_psu, ci, event, 1 - confidence, spark_master,
        )  # fmt: skip
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        else:
            _print_table(rows, variable, confidence)
        return
    frame = _read(file)
    strata_names, psu_names, fpc_names = _names(strata), _names(psu), _names(fpc)
    if quantiles and ratio_to:
        raise click.UsageError("choose --quantiles or --ratio-to, not both")
    probs: list[float] = []
    if quantiles:
        try:
            probs = [float(p) for p in _names(quantiles)]
        except ValueError as error:
            raise click.UsageError(
                f"--quantiles: {quantiles!r} is not a list of numbers"
            ) from error
        if not probs or any(not 0 <= p <= 1 for p in probs):
            raise click.UsageError("--quantiles: give numbers between 0 and 1, e.g. 0.25,0.5")
    auto = sidecar_path(file)
    sidecar: dict[str, Any] | None = None
    if calibration is None and weights and auto.exists():
        candidate = json.loads(auto.read_text())
        if candidate.get("weight_column") == weights:
            calibration = auto
    if calibration is not None:
        sidecar = json.loads(calibration.read_text())
        if weights not in (None, sidecar.get("weight_column")):
            raise click.UsageError(
                f"--weights {weights} is not the calibrated column {sidecar.get('weight_column')!r}"
                " of the sidecar; omit --weights or use that column"
            )
    needed = [variable, by, weights, ratio_to, *strata_names, *psu_names, *fpc_names]
    if sidecar is not None:
        needed.append(sidecar.get("base_weights"))
    absent = [c for c in needed if c and c not in frame.columns]
    if absent:
        raise click.UsageError(
            f"column(s) not in {file}: {', '.join(absent)}; "
            f"available columns include: {', '.join(frame.columns[:12])} ..."
        )
    for column in (variable, ratio_to):
        if column and frame.schema[column] == pl.String:
            raise click.UsageError(f"{column} is not numeric; choose a numeric column")
    try:
        if sidecar is not None:
            # Calibrated on the whole file: an event is a domain of that design (R subset()).
            design = _calibrated_design(
                frame, sidecar, strata_names, psu_names, fpc_names, lonely_psu
            )
            inside = np.ones(frame.height, dtype=bool)
            if event is not None:
                inside = _event_rows(frame, event)
        else:
            if event is not None:
                frame = frame.filter(pl.Series(_event_rows(frame, event)))
            design = _design(frame, weights, strata_names, psu_names, fpc_names, lonely_psu)
            inside = np.ones(frame.height, dtype=bool)
        rows = _estimates(design, frame, variable, by, inside, 1 - confidence, ci, probs, ratio_to)
    except (PlanError, ValueError) as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _print_table(rows, variable, confidence)
    design_text = ", ".join(
        f"{k}={v}"
        for k, v in (("weights", weights), ("strata", strata), ("psu", psu), ("fpc", fpc))
        if v
    )
    if sidecar is not None:
        design_text += f"; calibrated ({sidecar['method']}) from {calibration}"
    console.print(f"design: {design_text or 'simple random sample, equal weights'}")


def _event_rows(frame: pl.DataFrame, event: str) -> Any:
    if "event" not in frame.columns:
        raise click.UsageError("--event given but the file has no 'event' column")
    return (frame.get_column("event").cast(pl.String) == event).fill_null(False).to_numpy()


def _estimates(
    design: Any, frame: pl.DataFrame, variable: str, by: str | None, inside: Any, alpha: float,
    ci: str, probs: list[float], ratio_to: str | None,
) -> list[dict[str, Any]]:  # fmt: skip
    from fibrosurvey.stats.survey_intervals import proportion_interval

    y = vector(frame, variable)
    observed = y[inside & ~np.isnan(y)]
    binary = observed.size > 0 and bool(np.isin(observed, (0.0, 1.0)).all())
    groups: list[tuple[str, Any]] = [("all", inside)]
    if by is not None:
        labels = frame.get_column(by).cast(pl.String)
        levels = sorted(labels.drop_nulls().unique().to_list())
        groups = [(lv, inside & (labels == lv).fill_null(False).to_numpy()) for lv in levels]
    rows: list[dict[str, Any]] = []
    for group, member in groups:
        masked = np.where(member, y, np.nan)
        if not (member & ~np.isnan(y)).any():
            continue
        if probs:
            result = design.quantile(masked, probs, alpha)
            for p in probs:
                rows.append(_row(variable, group, f"quantile {p:g}", result.at(p), prob=p))
        elif ratio_to:
            ratio = design.ratio(masked, np.where(member, vector(frame, ratio_to), np.nan), alpha)
            rows.append(_row(variable, group, f"ratio to {ratio_to}", ratio))
        elif binary:
            result = design.proportion(masked, alpha, ci=ci)
            if by is not None or not member.all():
                # R svyby(..., svyciprop): the interval uses the df of the domain's design.
                low, high = proportion_interval(
                    result.estimate, result.se, alpha,
                    design.subset_df(member & ~np.isnan(y)), ci,
                    design.n if design.calibrated else int(member.sum()),
                )  # fmt: skip
                result = type(result)(**{**result.summary(), "ci_low": low, "ci_high": high})
            rows.append(_row(variable, group, "proportion", result, interval=ci))
        else:
            rows.append(_row(variable, group, "mean", design.mean(masked, alpha)))
    return rows


def _print_table(rows: list[dict[str, Any]], variable: str, confidence: float) -> None:
    from rich.table import Table

    def fmt(value: float) -> str:
        return "NA" if value is None or math.isnan(value) else f"{value:.4f}"

    level = f"{100 * confidence:g}% CI"
    kinds = sorted({str(r["kind"]).split(" ")[0] for r in rows}) or ["estimate"]
    table = Table("group", "kind", "estimate", "SE", level, "n",
                  title=f"Design-based {', '.join(kinds)} of {variable}")  # fmt: skip
    for row in rows:
        table.add_row(
            str(row["group"]), str(row["kind"]), fmt(row["estimate"]), fmt(row["se"]),
            f"{fmt(row['ci_low'])} to {fmt(row['ci_high'])}", f"{row['n']:,}",
        )  # fmt: skip
    console.print(table)


@main.group("weights")
def weights() -> None:
    """Survey weights: calibration to population margins."""


@weights.command("calibrate")
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--margins", "margins_path", required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="YAML file of population margins (and numeric totals for --method linear).",
)  # fmt: skip
@click.option(
    "--method", type=click.Choice(["poststratify", "rake", "linear"]), required=True,
    help="R postStratify, rake (iterative proportional fitting) or calibrate (linear, GREG).",
)  # fmt: skip
@click.option("--weights", "base", help="Design weight column to calibrate (default: equal).")
@click.option("--name", default="calibrated_weight", show_default=True, help="New column name.")
@click.option(
    "--epsilon",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="rake: stop when cells move less than this (R control).",
)
@click.option(
    "--max-iter",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="rake: at most this many passes (R control maxit).",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Output CSV or Parquet (the data plus the calibrated weight column).",
)
def calibrate(
    data: Path, margins_path: Path, method: str, base: str | None, name: str, epsilon: float,
    max_iter: int, out: Path,
) -> None:  # fmt: skip
    """Calibrate weights of DATA to population MARGINS; writes OUT and OUT.calibration.json.

    Example: fibrosurvey weights calibrate sample.csv --margins margins.yaml --method rake
    --weights design_weight -o calibrated.csv
    """
    from fibrosurvey.stats.calibration import calibrate_with_spec

    frame = _read(data)
    try:
        spec = yaml.safe_load(margins_path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise click.ClickException(f"{margins_path}: not valid YAML ({error})") from error
    if not isinstance(spec, dict):
        raise click.ClickException(f"{margins_path}: expected a mapping with 'margins'")
    if name in frame.columns:
        raise click.UsageError(f"{data} already has a column {name!r}; choose another --name")
    if base is not None and base not in frame.columns:
        raise click.UsageError(f"--weights {base} is not a column of {data}")
    try:
        design = _design(frame, base, [], [], [], "adjust")
        calibrated = calibrate_with_spec(design, frame, spec, method, epsilon, max_iter)
    except ValueError as error:
        raise click.ClickException(f"{margins_path}: {error}") from error
    ratio = calibrated.weights / design.weights
    try:
        write_table(frame.with_columns(pl.Series(name, calibrated.weights)), out)
    except TableError as error:
        raise click.ClickException(str(error)) from error
    sidecar = {
        "format": SIDECAR_FORMAT, "method": method, "base_weights": base, "weight_column": name,
        "epsilon": epsilon, "max_iter": max_iter, "rows": frame.height, "margins": spec,
        "margins_file": str(margins_path),
    }  # fmt: skip
    sidecar_path(out).write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"{frame.height:,} rows; weights sum to {calibrated.weights.sum():,.2f} "
        f"(adjustment factor {ratio.min():.3f} to {ratio.max():.3f}); wrote {out} and "
        f"{sidecar_path(out).name}"
    )
