"""REDCap ``calc`` fields as score rules, where the calculation means one of ours.

Read: a sum of fields ``[a] + [b] + [c]`` (REDCap leaves it empty when any field is empty, as
our ``sum`` rule without proration does) and ``mean([a], [b], ...)`` (the mean of the fields
answered, as our ``mean`` rule with ``min_answered: 1``). The fields must be items of the same
form. Everything else is refused with the reason: ``sum()`` (REDCap adds whatever is answered,
which no rule of ours does; write ``[a]+[b]`` or use a prorated sum), other functions,
constants, ``-``, ``*``, ``/``, and fields of other forms or events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyparsing as pp

from fibrosurvey.instruments import Item
from fibrosurvey.redcap.dictionary import checkbox_item_id, straighten

__all__ = ["CalcRefused", "calc_rule", "render_calc"]


class CalcRefused(ValueError):
    """A calculation with no score rule of ours that means the same."""


def _grammar() -> pp.ParserElement:
    name = pp.Regex(r"[a-z][a-z0-9_]*")
    code = pp.Regex(r"-?[A-Za-z0-9_.]+")
    reference = (
        pp.Suppress("[")
        + name("name")
        + pp.Optional(pp.Suppress("(") + code("code") + pp.Suppress(")"))
        + pp.Suppress("]")
    )
    reference.set_parse_action(lambda t: (str(t["name"]), t.get("code")))
    summed = pp.Group(reference + pp.OneOrMore(pp.Suppress("+") + reference))("sum")
    mean = pp.Group(
        pp.Suppress(pp.CaselessKeyword("mean") + "(")
        + pp.DelimitedList(reference)
        + pp.Suppress(")")
    )("mean")
    return summed | mean


_PARSER = _grammar()


def _bounds(item: Item) -> tuple[float, float]:
    if item.kind == "choice":
        return float(min(item.codes)), float(max(item.codes))
    if item.kind in ("integer", "number"):
        assert item.minimum is not None and item.maximum is not None
        return item.minimum, item.maximum
    raise CalcRefused(f"[{item.id}] is {item.kind}, not a number")


def calc_rule(
    name: str, calculation: str, items: dict[str, Item], instrument_id: str
) -> dict[str, Any]:
    """The score rule (as definition data) of calc field ``name``, or CalcRefused.

    ``items`` maps each REDCap export name (``field``, ``field___code``) to its item.
    """
    text = " ".join(straighten(calculation).split())
    if not text:
        raise CalcRefused("no calculation")
    try:
        parsed = _PARSER.parse_string(text, parse_all=True)
    except pp.ParseBaseException:
        lowered = text.lower()
        if lowered.startswith("sum("):
            raise CalcRefused(
                f"{text!r}: REDCap's sum() adds whatever is answered, which no fibrosurvey "
                "rule does; write [a]+[b]+... (empty when one is empty)"
            ) from None
        raise CalcRefused(
            f"{text!r} is not a sum [a]+[b]+... or mean([a],[b],...) of this form's fields"
        ) from None
    kind = "sum" if "sum" in parsed else "mean"
    ids: list[str] = []
    for field, code in parsed[kind]:
        export_name = field if code is None else checkbox_item_id(field, str(code))
        if export_name not in items:
            raise CalcRefused(f"[{field}] is not a (converted) field of form {instrument_id}")
        ids.append(items[export_name].id)
    by_id = {item.id: item for item in items.values()}
    lows, highs = zip(*(_bounds(by_id[item_id]) for item_id in ids), strict=True)
    if kind == "sum":
        return {
            "rule": "sum",
            "id": name,
            "items": ids,
            "minimum": float(sum(lows)),
            "maximum": float(sum(highs)),
        }
    return {
        "rule": "mean",
        "id": name,
        "items": ids,
        "min_answered": 1,
        "minimum": float(min(lows)),
        "maximum": float(max(highs)),
    }


def render_calc(rule: Any, items: dict[str, Item], reference: Callable[[Item], str]) -> str | None:
    """The REDCap calculation of one of our score rules (items by id; ``reference`` writes
    an item as ``[field]``), or None when REDCap cannot say it."""
    names = getattr(rule, "items", None)
    if names is None or not all(name in items for name in names):
        return None
    fields = [reference(items[name]) for name in names]
    if (
        rule.rule == "sum"
        and rule.min_answered in (None, len(names))
        and rule.divide_by == 1
        and rule.rounding == "none"
    ):
        return " + ".join(fields)
    if rule.rule == "mean" and rule.min_answered == 1:
        return "mean(" + ", ".join(fields) + ")"
    return None
