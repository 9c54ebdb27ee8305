"""A plan on DuckDB or Spark: the aggregatable part over all rows, the rest on a seeded sample.

``fibrosurvey analyze DATA --engine duckdb|spark`` never holds the dataset in memory:

* **in the engine, over every row:** the plan's derived variables (logs, quantile cuts,
  conditions and groups become SQL expressions of a view, evaluated as the Parquet is scanned;
  the quantile cut is one ``quantile_cont``/``percentile`` aggregation) and the design-based
  descriptive estimates (R ``svymean``/``svyciprop``/``svyby`` by grouped sums,
  :mod:`fibrosurvey.engines`, equal to the memory engine to 1e-9);
* **on a seeded random sample of participants** (all their events, so change analyses keep
  their pairs; ``n`` participants drawn without replacement with ``numpy.random.default_rng``
  seeded by the plan's seed): the hypothesis tests, multiple imputation, cross-validated AUC,
  the separation check, Table 1, distributions and data quality. They are rank, resampling and
  optimisation methods that do not reduce to sums; the sample uses the quantile cuts of the
  whole dataset, so a participant is classified the same way in both parts.

The report's methods and provenance say which part ran where, with which ``n``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fibrosurvey.analysis.design import design_in_words
from fibrosurvey.analysis.labels import label_of
from fibrosurvey.analysis.plan import (
    OUT_OF_CORE_SAMPLE,
    CategoryDerive,
    ConditionDerive,
    GroupsDerive,
    LogDerive,
    Plan,
    PlanError,
    QuantileDerive,
    Rule,
)
from fibrosurvey.analysis.results import Results
from fibrosurvey.engines.backends import DuckDBEngine, SparkEngine, SqlEngine, parquet_files
from fibrosurvey.engines.estimate import domain_label, sql_estimates
from fibrosurvey.engines.spec import DesignColumns, Estimand
from fibrosurvey.engines.sql import DATA_VIEW, sql_number

__all__ = ["derived_columns_sql", "engine_descriptive", "run_plan_on_engine", "source_sha256"]

UNIT_WEIGHT = "_fibrosurvey_unit_weight"  # equal weights when the plan names no design


@dataclass(frozen=True)
class Derived:
    """The derived columns as SQL (``expression AS name``) and the quantile cuts used."""

    items: list[str]
    cuts: dict[str, float]


def _open(source: Path, engine: str, options: dict[str, Any]) -> SqlEngine:
    if engine == "duckdb":
        return DuckDBEngine(source, **options)
    if engine == "spark":
        return SparkEngine(source, **options)
    raise ValueError(f"engine must be duckdb or spark here, got {engine!r}")


def _rule_sql(rule: Rule, column_sql: dict[str, str]) -> str:
    """A Boolean SQL expression (NULL = undecided, Kleene AND/OR as Polars' any/all)."""
    if rule.column is not None:
        column = column_sql[rule.column]
        if rule.op == "in":
            assert isinstance(rule.value, list)
            values = ", ".join(sql_number(float(v)) for v in rule.value)
            return f"({column} IN ({values}))"
        assert isinstance(rule.value, float | int)
        op = "=" if rule.op == "==" else "<>" if rule.op == "!=" else str(rule.op)
        return f"({column} {op} {sql_number(float(rule.value))})"
    parts = [_rule_sql(part, column_sql) for part in (rule.any or rule.all or [])]
    joiner = " OR " if rule.any is not None else " AND "
    return "(" + joiner.join(parts) + ")"


def _flag(condition: str) -> str:
    return f"CAST(CASE WHEN {condition} THEN 1 WHEN NOT {condition} THEN 0 END AS TINYINT)"


def derived_columns_sql(engine: SqlEngine, plan: Plan) -> Derived:
    """The plan's derivations as SQL over the engine's data view, checked as the memory path.

    Later derivations use earlier ones: their expressions are inlined, so one view computes all.
    """
    q = engine.quote
    available = set(engine.columns())
    problems = [
        f"{plan.where(path)}: column {column!r} is not in the data"
        for path, column in plan.column_references()
        if column not in available
    ]
    if problems:
        raise PlanError(
            "the plan reads columns the data do not have (check the column names against "
            "`fibrosurvey template`, or edit the plan):\n  " + "\n  ".join(problems)
        )
    column_sql = {c: f"CAST({q(c)} AS DOUBLE)" for c in available}
    items: list[str] = []
    cuts: dict[str, float] = {}
    for index, derivation in enumerate(plan.derive):
        source = column_sql.get(getattr(derivation, "column", ""), "")
        if isinstance(derivation, LogDerive):
            _check_positive(engine, derivation.column, source, plan.where(("derive", index)))
            expr = f"ln({source})"
        elif isinstance(derivation, QuantileDerive):
            at = ""
            if "event" in available:
                at = f" AND CAST({q('event')} AS STRING) = '{derivation.reference_event}'"
            row = engine.query(
                f"SELECT {engine.quantile_sql(source, derivation.quantile)} AS cut "
                f"FROM {DATA_VIEW} WHERE {source} IS NOT NULL{at}"
            ).row(0)
            if row[0] is None:
                raise PlanError(
                    f"derived {derivation.name!r}: column {derivation.column!r} has no values "
                    f"at event {derivation.reference_event!r}, so its quantile is undefined"
                )
            cuts[derivation.name] = float(row[0])
            op = "<" if derivation.kind == "below_quantile" else ">"
            expr = _flag(f"({source} {op} {sql_number(cuts[derivation.name])})")
        elif isinstance(derivation, CategoryDerive):
            text = f"TRIM(CAST({q(derivation.column)} AS STRING))"
            cases = " ".join(
                f"WHEN {text} = '{level.replace(chr(39), chr(39) * 2)}' THEN {code}"
                for code, level in enumerate(derivation.levels)
            )
            expr = f"CAST(CASE {cases} END AS TINYINT)"
        elif isinstance(derivation, ConditionDerive):
            expr = _flag(_rule_sql(derivation.rule, column_sql))
        else:
            assert isinstance(derivation, GroupsDerive)
            exposed = _rule_sql(derivation.exposed, column_sql)
            comparator = _rule_sql(derivation.comparator, column_sql)
            expr = f"CAST(CASE WHEN {exposed} THEN 1 WHEN {comparator} THEN 0 END AS TINYINT)"
        items.append(f"{expr} AS {q(derivation.name)}")
        column_sql[derivation.name] = f"CAST({expr} AS DOUBLE)"
    if plan.design is None or plan.design.weights is None:
        items.append(f"CAST(1.0 AS DOUBLE) AS {q(UNIT_WEIGHT)}")
    return Derived(items, cuts)


def _check_scored(columns: Sequence[str]) -> None:
    """Scores are read, not computed, out of core: item columns without scores are an error."""
    from fibrosurvey.instruments import load_instruments

    present = set(columns)
    unscored = [
        instrument.id
        for instrument in load_instruments().values()
        if any(c in present for c in instrument.item_columns())
        and not all(c in present for c in instrument.score_columns())
    ]
    if unscored:
        raise PlanError(
            f"the data have the items but not the scores of {', '.join(unscored)}; out-of-core "
            "engines read scores: score the data first (`fibrosurvey score`), or use "
            "--engine memory"
        )


def _check_positive(engine: SqlEngine, column: str, source: str, where: str) -> None:
    row = engine.query(
        f"SELECT count(*) AS bad, min({source}) AS lowest FROM {DATA_VIEW} WHERE {source} <= 0"
    ).row(0, named=True)
    if row["bad"]:
        raise PlanError(
            f"{where}: {row['bad']} rows have {column} <= 0 (lowest {row['lowest']}), which has "
            "no logarithm; allowed: values > 0 (a value below the LLOQ is stored as the LLOQ "
            "with its flag)"
        )


def _stages(value: str | list[str] | None) -> tuple[str, ...]:
    return () if value is None else (value,) if isinstance(value, str) else tuple(value)


def engine_descriptive(engine: SqlEngine, plan: Plan) -> list[dict[str, Any]]:
    """As :func:`fibrosurvey.analysis.design.design_estimates`, by SQL over every row."""
    q = engine.quote
    spec_design = plan.design
    has_event = "event" in engine.columns()
    alpha = 1 - plan.confidence
    out: list[dict[str, Any]] = []
    for spec in plan.descriptive:
        where = (("event", spec.event),) if has_event else ()
        if spec_design is None or spec_design.weights is None:
            design = DesignColumns(UNIT_WEIGHT, where=where)
        else:
            design = DesignColumns(
                spec_design.weights, _stages(spec_design.strata), _stages(spec_design.psu),
                _stages(spec_design.fpc), where=where,
            )  # fmt: skip
        at = f" AND CAST({q('event')} AS STRING) = '{spec.event}'" if has_event else ""
        wanted: list[tuple[str, str, Estimand]] = []  # (variable, group label, estimand)
        raw: dict[tuple[str, str], float] = {}
        # The unweighted means in one scan per table: avg and count of the observed values.
        ys = [f"CAST({q(v)} AS DOUBLE)" for v in spec.variables]
        sums = ", ".join(
            f"avg(CASE WHEN NOT isnan({y}) THEN {y} END) AS m{j}, "
            f"count(CASE WHEN NOT isnan({y}) THEN {y} END) AS c{j}"
            for j, y in enumerate(ys)
        )
        if spec.by is None:
            row = engine.query(f"SELECT {sums} FROM {DATA_VIEW} WHERE 1 = 1{at}").row(0, named=True)
            for j, variable in enumerate(spec.variables):
                kind = "proportion" if spec.kind == "design_proportion" else "mean"
                wanted.append((variable, "", Estimand(kind, variable, ci=spec.ci)))  # type: ignore[arg-type]
                raw[(variable, "")] = float("nan") if not row[f"c{j}"] else float(row[f"m{j}"])
        else:
            g = f"CAST({q(spec.by)} AS DOUBLE)"
            levels = engine.query(
                f"SELECT {g} AS level, {sums} FROM {DATA_VIEW} "
                f"WHERE {g} IS NOT NULL AND NOT isnan({g}){at} GROUP BY {g}"
            )
            for j, variable in enumerate(spec.variables):
                for row in levels.iter_rows(named=True):
                    if not row[f"c{j}"]:  # the memory path leaves out a group with no value
                        continue
                    level = float(row["level"])
                    key = domain_label(level)
                    estimand = Estimand("mean", variable, domain=(spec.by, level))
                    wanted.append((variable, key, estimand))
                    raw[(variable, key)] = float(row[f"m{j}"])
        try:
            estimates = sql_estimates(engine, design, [e for _, _, e in wanted], alpha)
        except ValueError as error:
            raise PlanError(f"descriptive {spec.label or spec.kind!r}: {error}") from error
        records = []
        for (variable, key, _), result in sorted(
            zip(wanted, estimates, strict=True), key=lambda pair: (
                spec.variables.index(pair[0][0]), pair[0][1])
        ):  # fmt: skip
            group = ""
            if spec.by is not None:
                value = float(key)
                shown = {0.0: "no", 1.0: "yes"}.get(value, f"{value:g}")
                group = f"{label_of(plan, spec.by).split(' (')[0]}: {shown}"
            records.append({
                "variable": variable, "label": label_of(plan, variable), "group": group,
                "estimate": float(result.estimate), "ci_low": float(result.ci_low),
                "ci_high": float(result.ci_high), "se": float(result.se), "n": int(result.n),
                "unweighted": raw[(variable, key)], "method": result.method,
            })  # fmt: skip
        out.append(
            {
                "label": spec.label or spec.kind,
                "kind": spec.kind,
                "by": spec.by,
                "event": spec.event,
                "design": None if spec_design is None else spec_design.model_dump(),
                "design_text": design_in_words(spec_design),
                "estimates": records,
            }
        )
    return out


def participant_sample(source: Path, n: int, seed: int) -> tuple[pl.DataFrame, int]:
    """Every row of ``n`` participants drawn at random (seeded), and the number of participants.

    Reads the Parquet with Polars' streaming engine: the identifiers, then the sampled rows, so
    memory stays at the sample's size whatever the engine.
    """
    files = parquet_files(source)
    hive = source.is_dir()
    scan = pl.scan_parquet(files, hive_partitioning=hive)
    if "participant_id" not in scan.collect_schema().names():
        raise PlanError(
            "the data have no participant_id column: the sample for the analyses that do not "
            "reduce to sums is drawn by participant"
        )
    ids = (
        scan.select(pl.col("participant_id").cast(pl.String).unique())
        .collect(engine="streaming")
        .get_column("participant_id")
        .sort()
    )
    total = ids.len()
    if n < total:
        rng = np.random.default_rng(seed)
        ids = ids.gather(np.sort(rng.choice(total, size=n, replace=False)))
    chosen = scan.filter(pl.col("participant_id").cast(pl.String).is_in(ids.implode()))
    return chosen.collect(engine="streaming"), total


def source_sha256(source: Path) -> str:
    """SHA-256 of a Parquet file, or of the (relative path, file SHA-256) list of a folder."""
    files = parquet_files(source)
    digest = hashlib.sha256()
    for path in files:
        inner = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                inner.update(block)
        if source.is_file():
            return inner.hexdigest()
        digest.update(f"{path.relative_to(source)}\t{inner.hexdigest()}\n".encode())
    return digest.hexdigest()


def run_plan_on_engine(
    source: Path,
    plan: Plan,
    engine: str,
    *,
    sample: int = OUT_OF_CORE_SAMPLE,
    imputations: int | None = None,
    progress: bool = False,
    options: dict[str, Any] | None = None,
    input_sha256: str | None = None,
) -> Results:
    """Run ``plan`` on Parquet ``source`` with ``engine`` (``duckdb`` or ``spark``)."""
    from fibrosurvey.analysis.runner import run_plan

    started = time.perf_counter()
    backend = _open(source, engine, options or {})
    try:
        _check_scored(backend.columns())
        total_rows = int(backend.query(f"SELECT count(*) AS n FROM {DATA_VIEW}").item())
        derived = derived_columns_sql(backend, plan)
        backend.add_columns(derived.items)
        tick = time.perf_counter()
        descriptive = engine_descriptive(backend, plan)
        engine_seconds = time.perf_counter() - tick
    finally:
        backend.close()
    tick = time.perf_counter()
    frame, participants = participant_sample(source, sample, plan.seed)
    sample_seconds = time.perf_counter() - tick
    results = run_plan(
        frame, plan, progress=progress, imputations=imputations,
        input_sha256=input_sha256, cuts=derived.cuts,
    )  # fmt: skip
    results.descriptive = descriptive
    drawn = min(sample, participants)
    note = _sample_note(engine, total_rows, participants, drawn, frame.height, plan.seed)
    results.methods.append(note)
    results.provenance["engine"] = {
        "engine": engine,
        "rows": total_rows,
        "participants": participants,
        "sample_participants": drawn,
        "sample_rows": frame.height,
        "sample_seed": plan.seed,
        "quantile_cuts": derived.cuts,
        "in_engine": ["derived variables", "design-based descriptive estimates"],
        "on_sample": ENGINE_SAMPLE_PARTS,
        "summary": note,
    }
    timings = results.provenance.setdefault("timings_seconds", {})
    timings["engine:descriptive"] = round(engine_seconds, 3)
    timings["engine:sample"] = round(sample_seconds, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    return results


ENGINE_SAMPLE_PARTS: Sequence[str] = (
    "hypothesis tests (partial Spearman correlations, adjusted odds ratios with the separation "
    "check, ANCOVA with IPW, cross-validated AUC)",
    "multiple imputation",
    "pre-analytical sensitivity",
    "Table 1, score distributions and data quality",
)


def _sample_note(
    engine: str, rows: int, participants: int, drawn: int, sample_rows: int, seed: int
) -> str:
    whole = drawn >= participants
    sample = (
        f"on all {participants:,} participants ({sample_rows:,} rows)"
        if whole
        else f"on a simple random sample of {drawn:,} of the {participants:,} participants "
        f"({sample_rows:,} rows, every event of each sampled participant; drawn without "
        f"replacement with numpy's default generator seeded {seed})"
    )
    return (
        f"Out-of-core run on {engine}: the derived variables (with quantile cuts from all "
        f"{rows:,} rows) and the design-based descriptive estimates were computed by the "
        f"engine over all {rows:,} rows. The hypothesis tests, the multiple imputation, the "
        "cross-validated AUC, the separation check, the pre-analytical sensitivity analysis, "
        f"Table 1, the distributions and the data-quality summary were computed {sample}; "
        "their n in the tables is the sample's."
    )
