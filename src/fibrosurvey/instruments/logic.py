"""Skip logic (``enable_when``): which items are asked, for one response or a whole table.

The rules are FHIR ``enableWhen`` (R5 wording, which R4 tools follow):

- ``exists``: the gate is answered (``true``) or not (``false``);
- ``=``, ``>``, ``<``, ``>=``, ``<=``: the gate is answered and its answer compares so;
- ``!=``: the gate is not answered with that value (an unanswered gate passes);
- a gate that is itself disabled counts as not answered; ``enable_behavior`` says whether all
  conditions must hold or any one.

A condition whose gate column is absent from the data (not a key of the answers, not a column
of the table) is not applied: the data predates the rule (an earlier instrument version) or
holds another event, so the item stays enabled. In the survey every gate page is saved before
the pages it gates, so a blank gate is present as a missing answer.

Two evaluators, held equal by property tests: :meth:`SkipLogic.enabled` for one response
(the survey's submit path) and :meth:`SkipLogic.expressions` (polars, a whole table at once).
``enable_when_expression`` items are evaluated with fhirpathpy on a QuestionnaireResponse
built from the answers (:func:`response_resource`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

import polars as pl

from fibrosurvey.instruments.schema import EnableWhen, Instrument, Item

__all__ = [
    "ANSWER_CODE_SYSTEM",
    "SkipLogic",
    "condition_fhirpath",
    "gate_columns",
    "response_resource",
    "skip_logic",
]


# The numeric answer codes of choice items, as Codings in :func:`response_resource`.
ANSWER_CODE_SYSTEM = "https://fibrosurvey.org/fhir/CodeSystem/answer-code"


def _decimal_literal(number: float) -> str:
    """``number`` as a FHIRPath decimal literal (no exponent: FHIRPath has none)."""
    return format(Decimal(repr(float(number))), "f")


def gate_columns(item: Item) -> list[str]:
    """Columns the item's enable_when reads (expression items: the columns the text names)."""
    return [condition.question for condition in item.enable_when]


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    number = float(value)
    return None if math.isnan(number) else number


def _holds(condition: EnableWhen, value: float | None) -> bool:
    operator, answer = condition.operator, condition.answer
    if operator == "exists":
        return (value is not None) == bool(answer)
    if operator == "!=":
        return value is None or value != answer
    if value is None:
        return False
    if operator == "=":
        return value == answer
    if operator == ">":
        return value > answer
    if operator == "<":
        return value < answer
    if operator == ">=":
        return value >= answer
    return value <= answer


def _holds_expression(condition: EnableWhen, value: pl.Expr) -> pl.Expr:
    operator, answer = condition.operator, float(condition.answer)
    if operator == "exists":
        return value.is_not_null() if condition.answer else value.is_null()
    if operator == "!=":
        return (value != answer).fill_null(True)
    compared = {
        "=": value == answer,
        ">": value > answer,
        "<": value < answer,
        ">=": value >= answer,
        "<=": value <= answer,
    }[operator]
    return compared.fill_null(False)


def response_resource(items: Mapping[str, Item], answers: Mapping[str, Any]) -> dict[str, Any]:
    """A minimal QuestionnaireResponse of ``answers`` for FHIRPath (``%resource``).

    Every answered item is one item with linkId = its column; choice answers are
    ``valueCoding`` whose code is the numeric answer code, integers ``valueInteger`` and
    numbers ``valueDecimal``.
    """
    answered: list[dict[str, Any]] = []
    for column, value in answers.items():
        number = _number(value)
        item = items.get(column)
        if number is None or item is None:
            continue
        if item.kind == "choice":
            coding = {"system": ANSWER_CODE_SYSTEM, "code": str(int(number))}
            answer: dict[str, Any] = {"valueCoding": coding}
        elif item.kind == "integer":
            answer = {"valueInteger": int(number)}
        else:
            # Exact decimal of the number as written: FHIRPath compares decimals exactly.
            answer = {"valueDecimal": Decimal(repr(number))}
        answered.append({"linkId": column, "answer": [answer]})
    return {"resourceType": "QuestionnaireResponse", "status": "in-progress", "item": answered}


@cache
def _compiled(expression: str) -> Callable[..., Any]:
    from fhirpathpy import compile as compile_fhirpath

    compiled: Callable[..., Any] = compile_fhirpath(expression, _r4_model())
    return compiled


def _expression_true(expression: str, resource: dict[str, Any]) -> bool:
    result: list[Any] = _compiled(expression)(resource, {"resource": resource})
    return result == [True]


@cache
def _r4_model() -> Any:
    # The R4 model lets FHIRPath resolve choice elements (answer.value -> valueCoding).
    from fhirpathpy.models import models

    return models["r4"]


def condition_fhirpath(condition: EnableWhen, item: Item) -> str:
    """The FHIRPath an enableWhen condition means, over :func:`response_resource`'s layout."""
    answers = f"%resource.repeat(item).where(linkId='{condition.question}').answer"
    if condition.operator == "exists":
        return f"{answers}.exists() = {str(bool(condition.answer)).lower()}"
    value = "value.code.toDecimal()" if item.kind == "choice" else "value"
    operator = "=" if condition.operator == "!=" else condition.operator
    literal = _decimal_literal(float(condition.answer))
    matching = f"{answers}.where({value} {operator} {literal}).exists()"
    return f"{matching}.not()" if condition.operator == "!=" else matching


class SkipLogic:
    """The skip logic of a set of instruments answered together (one event's battery)."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.items: dict[str, Item] = {}
        for instrument in instruments:
            self.items.update({item.column: item for item in instrument.items})
        gated = [item for item in self.items.values() if item.gated]
        # Gates before the items they gate (the loader refuses cycles).
        self.order: list[Item] = []
        placed: set[str] = set()

        def place(item: Item) -> None:
            if item.column in placed:
                return
            placed.add(item.column)
            for column in gate_columns(item):
                gate = self.items.get(column)
                if gate is not None and gate.gated:
                    place(gate)
            self.order.append(item)

        for item in gated:
            place(item)
        self.gated = frozenset(item.column for item in gated)

    def enabled(self, answers: Mapping[str, Any]) -> dict[str, bool]:
        """Whether each gated item is asked, given one participant's answers (by column)."""
        result: dict[str, bool] = {}
        resource: dict[str, Any] | None = None
        for item in self.order:
            if item.enable_when_expression is not None:
                if resource is None:
                    resource = response_resource(self.items, answers)
                result[item.column] = _expression_true(item.enable_when_expression, resource)
                continue
            checks = []
            for condition in item.enable_when:
                if condition.question not in answers:
                    continue  # data from before the rule: not applied
                value = _number(answers[condition.question])
                if not result.get(condition.question, True):
                    value = None
                checks.append(_holds(condition, value))
            if not checks:
                result[item.column] = True
            elif item.enable_behavior == "all":
                result[item.column] = all(checks)
            else:
                result[item.column] = any(checks)
        return result

    def disabled_columns(self, answers: Mapping[str, Any]) -> set[str]:
        return {column for column, on in self.enabled(answers).items() if not on}

    def not_applicable(self, answers: Mapping[str, Any]) -> set[str]:
        """Disabled items whose gates were all answered (or are themselves not applicable).

        An item hidden only because its gate was left blank is missing data (the participant
        skipped the gate), not "not applicable".
        """
        enabled = self.enabled(answers)
        result: set[str] = set()
        for item in self.order:
            if enabled[item.column]:
                continue
            if all(
                column in result
                or (enabled.get(column, True) and _number(answers.get(column)) is not None)
                for column in gate_columns(item)
                if column in answers
            ):
                result.add(item.column)
        return result

    def not_applicable_expressions(self, columns: Iterable[str]) -> dict[str, pl.Expr]:
        """The vectorised twin of :meth:`not_applicable`: one boolean per gated item."""
        present = set(columns)
        enabled = self.expressions(present)
        result: dict[str, pl.Expr] = {}
        for item in self.order:
            decided: list[pl.Expr] = []
            for column in gate_columns(item):
                if column not in present:
                    continue
                answered = pl.col(column).is_not_null()
                if column in enabled:
                    answered = answered & enabled[column]
                if column in result:
                    answered = answered | result[column]
                decided.append(answered)
            result[item.column] = ~enabled[item.column] & pl.all_horizontal(
                [pl.lit(True), *decided]
            )
        return result

    def expressions(self, columns: Iterable[str]) -> dict[str, pl.Expr]:
        """Boolean polars expressions: each gated item is enabled, for a table of ``columns``."""
        present = set(columns)
        enabled: dict[str, pl.Expr] = {}
        for item in self.order:
            if item.enable_when_expression is not None:
                enabled[item.column] = self._expression_column(item, present)
                continue
            checks = []
            for condition in item.enable_when:
                if condition.question not in present:
                    continue
                value = pl.col(condition.question).cast(pl.Float64)
                if condition.question in enabled:
                    value = pl.when(enabled[condition.question]).then(value)
                checks.append(_holds_expression(condition, value))
            if not checks:
                enabled[item.column] = pl.lit(True)
            elif item.enable_behavior == "all":
                enabled[item.column] = pl.all_horizontal(checks)
            else:
                enabled[item.column] = pl.any_horizontal(checks)
        return enabled

    def without_hidden_answers(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with answers to items its own gates hide emptied (as the survey stores)."""
        enabled = self.expressions(frame.columns)
        changes = [
            pl.when(enabled[column]).then(pl.col(column)).alias(column)
            for column in self.gated
            if column in frame.columns
        ]
        return frame.with_columns(changes) if changes else frame

    def _expression_column(self, item: Item, present: set[str]) -> pl.Expr:
        """FHIRPath has no polars form: each row goes through fhirpathpy (custom rules only)."""
        columns = sorted(column for column in present if column in self.items)
        expression = item.enable_when_expression
        assert expression is not None

        def evaluate(row: dict[str, Any]) -> bool:
            return _expression_true(expression, response_resource(self.items, row))

        if not columns:
            return pl.lit(evaluate({}))
        return pl.struct(columns).map_elements(evaluate, return_dtype=pl.Boolean)


@cache
def _skip_logic(definition_keys: tuple[str, ...]) -> SkipLogic:
    from fibrosurvey.instruments.extra import instrument_id_of
    from fibrosurvey.instruments.registry import get_instrument

    return SkipLogic(get_instrument(instrument_id_of(key)) for key in definition_keys)


def skip_logic(instrument_ids: Iterable[str]) -> SkipLogic:
    """The (cached) skip logic of a battery, by instrument ids."""
    from fibrosurvey.instruments.extra import definition_key

    return _skip_logic(tuple(definition_key(i) for i in instrument_ids))
