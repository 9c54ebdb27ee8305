"""REDCap branching logic, parsed with a grammar (pyparsing) into a small tree.

What is read: comparisons ``[field] = '1'`` (``=``/``==``, ``<>``/``!=``, ``>``, ``>=``,
``<``, ``<=``) of a field with a number or a quoted value (the value may come first),
checkbox boxes ``[field(code)]``, ``and``/``or`` in any case, and parentheses.

What is refused, with the reason (:class:`LogicRefused`): smart variables (``[user-name]``,
``[event-name]``, ``[field:value]``), references to another event or instance
(``[event_1_arm_1][field]``), functions (``datediff(...)``, ``if(...)``, ``sum(...)``),
arithmetic, two fields compared with each other and text that is not a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyparsing as pp

__all__ = [
    "All",
    "Any_",
    "Comparison",
    "Logic",
    "LogicRefused",
    "parse_branching_logic",
    "render_branching_logic",
]

OPERATORS = {
    "=": "=",
    "==": "=",
    "<>": "!=",
    "!=": "!=",
    ">": ">",
    "<": "<",
    ">=": ">=",
    "<=": "<=",
}
_FLIPPED = {"=": "=", "!=": "!=", ">": "<", "<": ">", ">=": "<=", "<=": ">="}


class LogicRefused(ValueError):
    """Branching logic that fibrosurvey's skip logic cannot express; the message says why."""


@dataclass(frozen=True)
class Comparison:
    """``[field] op value``; ``code`` is the checkbox box of ``[field(code)]``; ``value`` is
    a number, or None for the empty value ``''``."""

    field: str
    operator: str
    value: float | None
    code: str | None = None


@dataclass(frozen=True)
class All:
    parts: tuple[Logic, ...]


@dataclass(frozen=True)
class Any_:
    parts: tuple[Logic, ...]


Logic = Comparison | All | Any_


@dataclass(frozen=True)
class _Field:
    name: str
    code: str | None


@dataclass(frozen=True)
class _Literal:
    text: str


def _refuse(reason: str) -> Any:
    def action(text: str, location: int, tokens: pp.ParseResults) -> None:
        raise LogicRefused(reason.format(found=text[location:].split(" ")[0][:40]))

    return action


def _grammar() -> pp.ParserElement:
    name = pp.Regex(r"[a-z][a-z0-9_]*")
    code = pp.Regex(r"-?[A-Za-z0-9_.]+")
    lbr, rbr = pp.Suppress("["), pp.Suppress("]")
    plain_field = (
        lbr + name("name") + pp.Optional(pp.Suppress("(") + code("code") + pp.Suppress(")")) + rbr
    )
    plain_field.set_parse_action(lambda t: _Field(t["name"], t.get("code")))
    # Anything else in brackets is a smart variable ([user-name], [event-name], [field:value]).
    smart = pp.Regex(r"\[[^\]]*\]")
    cross = pp.Regex(r"\[[^\]]*\]\s*\[[^\]]*\]")
    cross.set_parse_action(_refuse("{found}: a reference to another event or instance"))
    smart.set_parse_action(_refuse("{found}: a smart variable"))
    function = pp.Regex(r"[A-Za-z_][A-Za-z0-9_]*\s*\(")
    function.set_parse_action(_refuse("{found}: a function"))
    quoted = pp.QuotedString("'", unquote_results=True) | pp.QuotedString('"', unquote_results=True)
    number = pp.Regex(r"-?\d+(\.\d+)?")
    literal = (quoted | number).set_parse_action(lambda t: _Literal(str(t[0])))
    operand = cross | plain_field | smart | function | literal
    operator = pp.Regex(r"==|<>|!=|>=|<=|=|>|<")
    arithmetic = pp.Regex(r"[-+*/^]")
    arithmetic.set_parse_action(_refuse("{found}: arithmetic"))
    comparison = operand + (operator | arithmetic) + operand
    comparison.set_parse_action(lambda t: _comparison(t[0], str(t[1]), t[2]))
    and_ = pp.CaselessKeyword("and")
    or_ = pp.CaselessKeyword("or")
    # pyparsing's infix_notation is untyped; it returns a ParserElement.
    expression: pp.ParserElement = pp.infix_notation(  # type: ignore[no-untyped-call]
        comparison,
        [
            (and_, 2, pp.OpAssoc.LEFT, lambda t: All(tuple(t[0][0::2]))),
            (or_, 2, pp.OpAssoc.LEFT, lambda t: Any_(tuple(t[0][0::2]))),
        ],
    )
    return expression


def _comparison(left: Any, operator: str, right: Any) -> Comparison:
    op = OPERATORS[operator]
    if isinstance(left, _Literal) and isinstance(right, _Field):
        left, right, op = right, left, _FLIPPED[op]
    if isinstance(left, _Field) and isinstance(right, _Field):
        raise LogicRefused(f"[{left.name}] {operator} [{right.name}]: compares two fields")
    if not isinstance(left, _Field) or not isinstance(right, _Literal):
        raise LogicRefused("a comparison needs a field on one side")
    text = right.text.strip()
    if text == "":
        if op not in ("=", "!="):
            raise LogicRefused(f"[{left.name}] {operator} '': only = and <> compare with ''")
        return Comparison(left.name, op, None, left.code)
    try:
        value = float(text)
    except ValueError:
        raise LogicRefused(
            f"[{left.name}] {operator} '{text}': compares with text that is not a number"
        ) from None
    return Comparison(left.name, op, value, left.code)


_PARSER = _grammar()


def _flatten(logic: Logic) -> Logic:
    if isinstance(logic, Comparison):
        return logic
    parts: list[Logic] = []
    for part in logic.parts:
        part = _flatten(part)
        if type(part) is type(logic):
            assert isinstance(part, All | Any_)
            parts.extend(part.parts)
        else:
            parts.append(part)
    return All(tuple(parts)) if isinstance(logic, All) else Any_(tuple(parts))


def parse_branching_logic(text: str) -> Logic:
    """The tree of a branching-logic text, or :class:`LogicRefused` saying why not."""
    text = " ".join(text.split())
    if not text:
        raise LogicRefused("empty branching logic")
    try:
        result = _PARSER.parse_string(text, parse_all=True)
    except pp.ParseBaseException as error:
        raise LogicRefused(
            f"cannot read {text!r} at column {error.column}: expected [field] = 'value' "
            "joined by and/or, with parentheses"
        ) from None
    logic = result[0]
    assert isinstance(logic, Comparison | All | Any_)
    return _flatten(logic)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def render_branching_logic(logic: Logic) -> str:
    """Branching-logic text REDCap reads, for a tree (the inverse of the parser)."""
    if isinstance(logic, Comparison):
        reference = logic.field if logic.code is None else f"{logic.field}({logic.code})"
        operator = "<>" if logic.operator == "!=" else logic.operator
        value = "" if logic.value is None else _number_text(logic.value)
        return f"[{reference}] {operator} '{value}'"
    joiner = " and " if isinstance(logic, All) else " or "
    rendered = []
    for part in logic.parts:
        text = render_branching_logic(part)
        rendered.append(f"({text})" if not isinstance(part, Comparison) else text)
    return joiner.join(rendered)
