"""Design-based means, totals and proportions on any engine, equal to the memory engine.

``memory`` is :class:`fibrosurvey.stats.survey_design.SurveyDesign` itself (Polars/NumPy: the
reference). ``duckdb`` and ``spark`` run the SQL of :mod:`.sql` and finish the variance on the
per-stratum tables (:mod:`.variance`); tests hold them to 1e-9 relative of the memory engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy import stats as sps

from fibrosurvey.engines.backends import DuckDBEngine, SparkEngine, SqlEngine, parquet_files
from fibrosurvey.engines.spec import DesignColumns, Estimand
from fibrosurvey.engines.sql import SqlPlan
from fibrosurvey.engines.variance import stage_variances
from fibrosurvey.stats.survey_intervals import proportion_interval
from fibrosurvey.stats.survey_results import SurveyEstimate

__all__ = ["ENGINES", "estimate", "read_parquet_source"]

ENGINES = ("memory", "duckdb", "spark")


def estimate(
    source: Path | str,
    design: DesignColumns,
    estimands: Sequence[Estimand],
    engine: str = "memory",
    alpha: float = 0.05,
    **options: Any,
) -> list[SurveyEstimate]:
    """One :class:`SurveyEstimate` per estimand, computed by ``engine`` over Parquet ``source``.

    ``options`` go to the engine: ``memory_limit``, ``threads``, ``temp_dir`` (DuckDB) or
    ``master`` (Spark, e.g. ``spark://host:7077``; default ``local[2]``).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not estimands:
        raise ValueError("no estimand given")
    source = Path(source)
    if engine == "memory":
        return _memory(source, design, estimands, alpha)
    backend: SqlEngine
    if engine == "duckdb":
        backend = DuckDBEngine(source, **options)
    else:
        backend = SparkEngine(source, **options)
    try:
        return sql_estimates(backend, design, estimands, alpha)
    finally:
        backend.close()


def read_parquet_source(source: Path, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """A Parquet file or partitioned folder as one frame (Hive folders become columns)."""
    files = parquet_files(source)
    scan = pl.scan_parquet(files, hive_partitioning=source.is_dir())
    if columns is not None:
        scan = scan.select(list(dict.fromkeys(columns)))
    return scan.collect()


def _memory(
    source: Path, design: DesignColumns, estimands: Sequence[Estimand], alpha: float
) -> list[SurveyEstimate]:
    from fibrosurvey.stats.survey_design import SurveyDesign

    frame = read_parquet_source(
        source,
        _needed(
            source,
            [
                *design.columns,
                *(e.column for e in estimands),
                *(e.domain[0] for e in estimands if e.domain is not None),
            ],
        ),
    )
    _check_columns(frame.columns, design, estimands)
    for column, value in design.where:
        frame = frame.filter(pl.col(column).cast(pl.String) == value)
    if frame.height == 0:
        raise ValueError("no row to analyse (check the data and the --event filter)")
    survey = SurveyDesign.from_frame(
        frame, design.weights, list(design.strata) or None, list(design.psu) or None,
        list(design.fpc) or None, design.lonely_psu,
    )  # fmt: skip
    results = []
    for item in estimands:
        y = frame.get_column(item.column).cast(pl.Float64).to_numpy()
        if item.domain is not None:
            groups = frame.get_column(item.domain[0]).cast(pl.Float64).to_numpy()
            by = survey.mean_by(y, groups, alpha)
            label = domain_label(item.domain[1])
            if label not in by:
                raise ValueError(f"{item.column}: every value where {item.domain[0]} = "
                                 f"{item.domain[1]:g} is missing")  # fmt: skip
            results.append(by[label])
        elif item.kind == "mean":
            results.append(survey.mean(y, alpha))
        elif item.kind == "total":
            results.append(survey.total(y, alpha))
        else:
            results.append(survey.proportion(y, alpha, ci=item.ci))
    return results


def _needed(source: Path, columns: Sequence[str]) -> list[str] | None:
    """Only the columns an estimate reads (all when some are absent: the error names them)."""
    schema = pl.scan_parquet(parquet_files(source), hive_partitioning=source.is_dir())
    present = schema.collect_schema().names()
    return list(dict.fromkeys(columns)) if all(c in present for c in columns) else None


def domain_label(level: float) -> str:
    """A domain level as ``SurveyDesign.mean_by`` names it (the float as Polars prints it)."""
    return str(pl.Series([float(level)]).cast(pl.String)[0])


def _check_columns(
    available: Sequence[str], design: DesignColumns, estimands: Sequence[Estimand]
) -> None:
    needed = [*design.columns, *(e.column for e in estimands),
              *(e.domain[0] for e in estimands if e.domain is not None)]  # fmt: skip
    absent = [c for c in dict.fromkeys(needed) if c not in available]
    if absent:
        raise ValueError(
            f"column(s) not in the data: {', '.join(absent)}; "
            f"available: {', '.join(list(available)[:15])}"
        )


def _check_summary(plan: SqlPlan, summary: dict[str, Any]) -> None:
    d = plan.design
    if not summary["n_rows"]:
        raise ValueError("no row to analyse (check the data and the --event filter)")
    if summary["bad_weights"]:
        raise ValueError(
            f"weights: {summary['bad_weights']} rows of {d.weights!r} are missing or not "
            "positive; allowed: positive numbers"
        )
    for prefix, names in (("missing_s", d.strata), ("missing_p", d.psu)):
        for i, column in enumerate(names):
            if summary[f"{prefix}{i}"]:
                raise ValueError(f"{column}: {summary[f'{prefix}{i}']} rows are missing")
    for i, column in enumerate(d.fpc):
        if summary[f"bad_f{i}"]:
            raise ValueError(
                f"{column}: {summary[f'bad_f{i}']} rows are missing or not positive; "
                "allowed: positive numbers"
            )
    for j, (column, domain) in enumerate(plan.outcome_keys):
        if summary[f"infinite_{j}"]:
            raise ValueError(f"{column}: {summary[f'infinite_{j}']} rows are infinite")
        binary = [
            e for e in plan.estimands
            if e.key == (column, domain) and e.kind == "proportion" and e.domain is None
        ]  # fmt: skip
        if binary and summary[f"nonbinary_{j}"]:
            raise ValueError(
                f"{column}: {summary[f'nonbinary_{j}']} values are not 0 or 1; a proportion "
                "needs a 0/1 variable"
            )


def sql_estimates(
    engine: SqlEngine, design: DesignColumns, estimands: Sequence[Estimand], alpha: float
) -> list[SurveyEstimate]:
    """The estimates by SQL aggregation on ``engine`` (whose data view is registered)."""
    _check_columns(engine.columns(), design, estimands)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    plan = SqlPlan(design, estimands, engine.quote)
    summary = engine.query(plan.summary_sql()).row(0, named=True)
    _check_summary(plan, summary)
    values, weight_totals, seen = [], [], []
    for item in estimands:
        j = plan.outcome_index(item)
        a, b, n_seen = float(summary[f"a_{j}"]), float(summary[f"b_{j}"]), int(summary[f"seen_{j}"])
        if item.kind != "total" and n_seen == 0:
            inside = "" if item.domain is None else f" where {item.domain[0]} = {item.domain[1]:g}"
            raise ValueError(f"{item.column}: every value{inside} is missing")
        values.append(a if item.kind == "total" else a / b)
        weight_totals.append(b if b else 1.0)
        seen.append(n_seen)
    tables = [
        engine.query(plan.stage_sql(stage, values, weight_totals))
        for stage in range(plan.used_stages)
    ]
    variances, df = stage_variances(plan, tables)
    return [
        _result(item, values[k], float(variances[k]), seen[k], alpha, df, int(summary["n_rows"]))
        for k, item in enumerate(estimands)
    ]


def _result(
    item: Estimand, value: float, variance: float, n: int, alpha: float, df: int, n_rows: int
) -> SurveyEstimate:
    """As ``SurveyDesign._estimate`` (normal interval), and ``proportion``'s interval."""
    se = float(np.sqrt(max(variance, 0.0)))
    z = float(sps.norm.ppf(1 - alpha / 2))
    method = {"mean": "svymean", "total": "svytotal"}.get(item.kind, "svymean")
    fields: dict[str, Any] = {
        "estimate": value, "ci_low": value - z * se, "ci_high": value + z * se,
        "p": float(2 * sps.norm.sf(abs(value) / se)) if se > 0 else float("nan"),
        "n": n, "method": method, "se": se, "df": df, "alpha": alpha, "group": "",
    }  # fmt: skip
    if item.domain is not None:
        fields["method"] = "svyby_mean"
        fields["group"] = domain_label(item.domain[1])
    elif item.kind == "proportion":
        fields["method"] = f"svymean_proportion_{item.ci}"
        fields["ci_low"], fields["ci_high"] = proportion_interval(
            value, se, alpha, df, item.ci, n_rows
        )
        if item.ci in ("logit", "xlogit", "asin") and not 0 < value < 1:
            fields["note"] = f"proportion is 0 or 1: no {item.ci} interval"
        if math.isnan(se):
            fields["p"] = float("nan")
    return SurveyEstimate(**fields)
