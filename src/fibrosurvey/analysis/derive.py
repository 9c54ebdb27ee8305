"""Derived variables from the plan, as vectorised Polars expressions.

Each derivation adds one column; later derivations may use earlier ones. Binary results are
Int8 1/0 with null where the inputs cannot decide (Kleene logic for ``any``/``all``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from fibrosurvey.analysis.plan import (
    CategoryDerive,
    ConditionDerive,
    GroupsDerive,
    LogDerive,
    Plan,
    PlanError,
    QuantileDerive,
    Rule,
)

__all__ = ["apply_derivations", "check_columns", "rule_expr"]


def rule_expr(rule: Rule) -> pl.Expr:
    """A Boolean expression (null = undecided) for a plan rule."""
    if rule.column is not None:
        column = pl.col(rule.column).cast(pl.Float64)
        value = rule.value
        if rule.op == "in":
            assert isinstance(value, list)
            return column.is_in([float(v) for v in value])
        assert isinstance(value, float | int)
        return {
            "==": column == value,
            "!=": column != value,
            "<": column < value,
            "<=": column <= value,
            ">": column > value,
            ">=": column >= value,
        }[str(rule.op)]
    if rule.any is not None:
        return pl.any_horizontal([rule_expr(part) for part in rule.any])
    return pl.all_horizontal([rule_expr(part) for part in rule.all or []])


def check_columns(data: pl.DataFrame, plan: Plan) -> None:
    """Raise :class:`PlanError` listing every column the plan needs that the data lack."""
    available = set(data.columns)
    problems = []
    for path, column in plan.column_references():
        if column not in available:
            problems.append(f"{plan.where(path)}: column {column!r} is not in the data")
    if problems:
        raise PlanError(
            "the plan reads columns the data do not have (check the column names against "
            "`fibrosurvey template`, or edit the plan):\n  " + "\n  ".join(problems)
        )


def apply_derivations(
    data: pl.DataFrame, plan: Plan, cuts: Mapping[str, float] | None = None
) -> pl.DataFrame:
    """Add every derived column of the plan to ``data`` (in plan order).

    ``cuts`` gives a quantile derivation's cut by name instead of computing it from ``data``
    (a sample analysed out of core keeps the cut of the whole dataset).
    """
    check_columns(data, plan)
    frame = data
    for index, derivation in enumerate(plan.derive):
        if isinstance(derivation, LogDerive):
            _check_positive(frame, derivation.column, plan.where(("derive", index)))
            expr = pl.col(derivation.column).cast(pl.Float64).log()
        elif isinstance(derivation, QuantileDerive):
            cut = cuts[derivation.name] if cuts and derivation.name in cuts else None
            cut = _quantile(frame, derivation) if cut is None else cut
            column = pl.col(derivation.column).cast(pl.Float64)
            below = derivation.kind == "below_quantile"
            expr = (column < cut) if below else (column > cut)
            expr = expr.cast(pl.Int8)
        elif isinstance(derivation, CategoryDerive):
            codes = {level: code for code, level in enumerate(derivation.levels)}
            expr = (
                pl.col(derivation.column)
                .cast(pl.String)
                .str.strip_chars()
                .replace_strict(codes, default=None, return_dtype=pl.Int8)
            )
        elif isinstance(derivation, ConditionDerive):
            expr = rule_expr(derivation.rule).cast(pl.Int8)
        else:
            assert isinstance(derivation, GroupsDerive)
            expr = (
                pl.when(rule_expr(derivation.exposed))
                .then(pl.lit(1, pl.Int8))
                .when(rule_expr(derivation.comparator))
                .then(pl.lit(0, pl.Int8))
                .otherwise(pl.lit(None, pl.Int8))
            )
        frame = frame.with_columns(expr.alias(derivation.name))
    return frame


def _quantile(frame: pl.DataFrame, derivation: QuantileDerive) -> float:
    reference = frame
    if "event" in frame.columns:
        reference = frame.filter(pl.col("event") == derivation.reference_event)
    values = reference.get_column(derivation.column).cast(pl.Float64).drop_nulls().to_numpy()
    if values.size == 0:
        raise PlanError(
            f"derived {derivation.name!r}: column {derivation.column!r} has no values at event "
            f"{derivation.reference_event!r}, so its quantile is undefined"
        )
    # numpy's default (R type 7, linear interpolation), as R's quantile().
    return float(np.quantile(values, derivation.quantile))


def _check_positive(frame: pl.DataFrame, column: str, where: str) -> None:
    values = frame.get_column(column).cast(pl.Float64)
    bad = (values <= 0).fill_null(False)
    if bad.any():
        row = int(bad.arg_true()[0])
        who = ""
        if "participant_id" in frame.columns:
            who = f" (participant {frame.get_column('participant_id')[row]})"
        raise PlanError(
            f"{where}: row {row}{who} has {column} = {values[row]}, which has no logarithm; "
            "allowed: values > 0 (a value below the LLOQ is stored as the LLOQ with its flag)"
        )
