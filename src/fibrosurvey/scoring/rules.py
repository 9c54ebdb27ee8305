"""Score rules as Polars expressions: every rule scores a whole column at once.

Each function turns one rule from an instrument definition into an expression over the item
columns (and the expressions of earlier scores), so a battery scores in one pass over the table.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from typing import Any, cast

import polars as pl

from fibrosurvey.instruments.schema import (
    BandsRule,
    BmiRule,
    Condition,
    CountRegionsRule,
    CriteriaRule,
    FlagRule,
    MeanRule,
    ScoreRule,
    SumOfScoresRule,
    SumRule,
    ThresholdRule,
)

__all__ = ["rule_expression"]

# Name of an item or an earlier score -> its expression.
Scope = Mapping[str, pl.Expr]


def _add(values: list[pl.Expr]) -> pl.Expr:
    # A chain of + is several times faster than pl.sum_horizontal, and propagates missing.
    return functools.reduce(operator.add, values)


def _answered(values: list[pl.Expr]) -> pl.Expr:
    return _add([value.is_not_null().cast(pl.Int32) for value in values])


def _total_of_answered(values: list[pl.Expr]) -> pl.Expr:
    return _add([value.fill_null(0) for value in values])


def _sum(rule: SumRule, scope: Scope) -> pl.Expr:
    values = [scope[name] for name in rule.items]
    k = len(values)
    needed = rule.min_answered if rule.min_answered is not None else k
    if needed == k and rule.divide_by == 1 and rule.rounding == "none":
        # Every item required: a plain chain of + is missing exactly when any item is.
        return _add(values)
    answered = _answered(values)
    # Rows with nothing answered are masked out below; keep their arithmetic finite.
    divisor = answered.clip(lower_bound=1)
    total = _total_of_answered(values)
    if rule.rounding == "half_up" and rule.divide_by == 1:
        # round-half-up(t k / a) = floor((2 t k + a) / (2 a)) for total t and a answered: exact in
        # integers, where round() would round half to even.
        value = ((2 * total * k + divisor) // (2 * divisor)).cast(pl.Int64)
    elif rule.rounding == "half_up":
        scaled = (2 * total * k + divisor * rule.divide_by) / (2 * divisor * rule.divide_by)
        value = scaled.floor().cast(pl.Int64)
    else:
        # One division by a column: dividing by a literal may become a multiplication by its
        # reciprocal in some kernels, which made a row's score depend on its neighbours.
        value = (total * k) / (divisor * rule.divide_by)
    return pl.when(answered >= needed).then(value)


def _mean(rule: MeanRule, scope: Scope) -> pl.Expr:
    values = [scope[name] for name in rule.items]
    needed = rule.min_answered if rule.min_answered is not None else len(values)
    answered = _answered(values)
    mean = _total_of_answered(values) / answered.clip(lower_bound=1)
    return pl.when(answered >= needed).then(mean)


def _sum_of_scores(rule: SumOfScoresRule, scope: Scope) -> pl.Expr:
    return _add([scope[name] for name in rule.scores])


def _bands(rule: BandsRule, scope: Scope) -> pl.Expr:
    score = scope[rule.score]
    labels = [band.label for band in rule.bands]
    # The first band that holds wins. Choosing a band number and then its label is several times
    # faster than a chain that writes a string per row; the result is an ordered Enum.
    chain: Any = pl
    for number, band in enumerate(rule.bands):
        chain = chain.when((score >= band.minimum) & (score <= band.maximum)).then(number)
    number_of_band = cast(pl.Expr, chain)
    return number_of_band.replace_strict(dict(enumerate(labels)), return_dtype=pl.Enum(labels))


def _at_least(value: pl.Expr, threshold: float) -> pl.Expr:
    return pl.when(value.is_not_null()).then((value >= threshold).cast(pl.Int64))


def _count_regions(rule: CountRegionsRule, scope: Scope) -> pl.Expr:
    sites = [scope[name] for region in rule.regions.values() for name in region]
    all_present = pl.all_horizontal([site.is_not_null() for site in sites])
    painful_regions = _add(
        [
            pl.any_horizontal([scope[name] == 1 for name in region]).cast(pl.Int64)
            for region in rule.regions.values()
        ]
    )
    return pl.when(all_present).then(painful_regions)


def _condition(condition: Condition, scope: Scope) -> tuple[pl.Expr, list[pl.Expr]]:
    """The condition as a boolean expression, and the variables it reads."""
    if condition.var is not None:
        value = scope[condition.var]
        holds = pl.lit(True)
        if condition.minimum is not None:
            holds = holds & (value >= condition.minimum)
        if condition.maximum is not None:
            holds = holds & (value <= condition.maximum)
        return holds, [value]
    parts = [_condition(child, scope) for child in (*condition.all_of, *condition.any_of)]
    combine = pl.all_horizontal if condition.all_of else pl.any_horizontal
    return combine([holds for holds, _ in parts]), [v for _, read in parts for v in read]


def _criteria(rule: CriteriaRule, scope: Scope) -> pl.Expr:
    holds, read = _condition(rule.condition, scope)
    all_present = pl.all_horizontal([value.is_not_null() for value in read])
    return pl.when(all_present).then(holds.cast(pl.Int64))


def _bmi(rule: BmiRule, scope: Scope) -> pl.Expr:
    height = scope[rule.height_cm]
    # kg / m^2 with one division by a column (see _sum on dividing by literals).
    return scope[rule.weight_kg] * 10_000 / (height * height)


def rule_expression(rule: ScoreRule, scope: Scope) -> pl.Expr:
    """The expression computing one score from items and earlier scores in ``scope``."""
    if isinstance(rule, SumRule):
        return _sum(rule, scope)
    if isinstance(rule, MeanRule):
        return _mean(rule, scope)
    if isinstance(rule, SumOfScoresRule):
        return _sum_of_scores(rule, scope)
    if isinstance(rule, BandsRule):
        return _bands(rule, scope)
    if isinstance(rule, FlagRule):
        return _at_least(scope[rule.item], rule.at_least)
    if isinstance(rule, ThresholdRule):
        return _at_least(scope[rule.score], rule.at_least)
    if isinstance(rule, CountRegionsRule):
        return _count_regions(rule, scope)
    if isinstance(rule, CriteriaRule):
        return _criteria(rule, scope)
    if isinstance(rule, BmiRule):
        return _bmi(rule, scope)
    raise TypeError(f"no scoring for rule {rule!r}")
