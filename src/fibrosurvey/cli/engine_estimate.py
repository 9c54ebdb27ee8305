"""``fibrosurvey estimate --engine duckdb|spark``: the estimate by SQL aggregation over Parquet.

The memory engine (the default) keeps every option of ``estimate``; DuckDB and Spark compute the
design-based mean, total or proportion of one variable (R ``svymean``/``svytotal``/``svyciprop``)
over a Parquet file or a folder of partitioned Parquet, with the same numbers to 1e-9.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fibrosurvey.engines import DesignColumns, Estimand, estimate
from fibrosurvey.stats.survey_results import SurveyEstimate

__all__ = ["engine_rows"]


def _mean_or_proportion(
    source: Path, design: DesignColumns, variable: str, engine: str, ci: str, alpha: float,
    options: dict[str, Any],
) -> tuple[str, SurveyEstimate]:  # fmt: skip
    """A proportion when every observed value is 0 or 1 (as the memory path decides), else a mean.

    The 0/1 check is the engine's first scan, so a non-binary variable costs one scan more.
    """
    try:
        wanted = Estimand("proportion", variable, ci)
        return "proportion", estimate(source, design, [wanted], engine, alpha, **options)[0]
    except ValueError as error:
        if "not 0 or 1" not in str(error):
            raise
    return "mean", estimate(source, design, [Estimand("mean", variable)], engine, alpha, **options)[
        0
    ]


def engine_rows(
    source: Path,
    engine: str,
    variable: str,
    weights: str | None,
    strata: list[str],
    psu: list[str],
    fpc: list[str],
    lonely_psu: str,
    ci: str,
    event: str | None,
    alpha: float,
    master: str | None,
) -> list[dict[str, Any]]:
    """The rows ``estimate`` prints, computed by ``engine`` (``duckdb`` or ``spark``)."""
    if weights is None:
        raise click.UsageError(f"--engine {engine} needs --weights (the design weight column)")
    if not source.suffix.lower() == ".parquet" and not source.is_dir():
        raise click.UsageError(
            f"--engine {engine} reads Parquet: give a .parquet file or a folder of them"
        )
    options: dict[str, Any] = {"master": master} if engine == "spark" and master else {}
    try:
        design = DesignColumns(
            weights, tuple(strata), tuple(psu), tuple(fpc), lonely_psu,
            where=(("event", event),) if event is not None else (),
        )  # fmt: skip
        kind, result = _mean_or_proportion(source, design, variable, engine, ci, alpha, options)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    row: dict[str, Any] = {
        "variable": variable, "group": "all", "kind": kind, "estimate": result.estimate,
        "se": result.se, "ci_low": result.ci_low, "ci_high": result.ci_high, "n": result.n,
        "method": result.method, "engine": engine,
    }  # fmt: skip
    if kind == "proportion":
        row["interval"] = ci
    return [row]
