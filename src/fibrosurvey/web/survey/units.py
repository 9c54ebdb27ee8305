"""Height in feet and inches, weight in pounds: how a US study's participants type them.

The form has one box per unit (``demo_height_cm__ft`` and ``__in``, ``demo_weight_kg__lb``);
the answer passed on to the core's validator is in centimetres or kilograms, converted exactly
(:mod:`fibrosurvey.units`), so what is stored is always SI. Text that is not a number is passed
on as typed, and the validator refuses it like any other answer.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fibrosurvey.countries import HEIGHT_COLUMN, WEIGHT_COLUMN, get_country
from fibrosurvey.instruments import Item
from fibrosurvey.units import (
    CM_PER_INCH,
    KG_PER_POUND,
    cm_to_feet_inches,
    feet_inches_to_cm,
    kg_to_pounds,
    pounds_to_kg,
)

__all__ = ["Entry", "entry_for", "imperial_range", "imperial_values", "read_imperial"]

Entry = Literal["number", "feet_inches", "pounds"]


def entry_for(item: Item, country: str) -> Entry:
    """How the participant types ``item`` in a study in ``country``."""
    if get_country(country).units != "us_customary":
        return "number"
    if item.column == HEIGHT_COLUMN:
        return "feet_inches"
    if item.column == WEIGHT_COLUMN:
        return "pounds"
    return "number"


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def read_imperial(entry: Entry, column: str, data: Any) -> str | None:
    """The answer, in cm or kg as text, from the form's unit boxes (None when all are blank)."""
    if entry == "feet_inches":
        feet = (data.get(f"{column}__ft") or "").strip()
        inches = (data.get(f"{column}__in") or "").strip()
        if not feet and not inches:
            return None
        feet_number, inch_number = _decimal(feet or "0"), _decimal(inches or "0")
        if feet_number is None or inch_number is None:
            return feet if feet_number is None else inches  # refused as "not a number"
        return _plain(feet_inches_to_cm(feet_number, inch_number))
    pounds = (data.get(f"{column}__lb") or "").strip()
    if not pounds:
        return None
    pound_number = _decimal(pounds)
    return pounds if pound_number is None else _plain(pounds_to_kg(pound_number))


def imperial_values(entry: Entry, stored: str) -> dict[str, str]:
    """A stored answer (cm or kg, as text) shown again in the form's unit boxes."""
    number = _decimal(stored) if stored else None
    if number is None:
        return {}
    if entry == "feet_inches":
        feet, inches = cm_to_feet_inches(float(number))
        return {"ft": str(feet), "in": _plain(inches)}
    return {"lb": _plain(kg_to_pounds(float(number)))}


def imperial_range(entry: Entry, item: Item) -> dict[str, int]:
    """The item's SI bounds in the participant's units, rounded inwards (always accepted):
    ``min_ft``, ``min_in``, ``max_ft``, ``max_in`` for a height, ``min_lb``, ``max_lb`` for a
    weight."""
    low, high = Decimal(str(item.minimum)), Decimal(str(item.maximum))
    if entry == "feet_inches":
        low_in, high_in = math.ceil(low / CM_PER_INCH), math.floor(high / CM_PER_INCH)
        return {
            "min_ft": low_in // 12,
            "min_in": low_in % 12,
            "max_ft": high_in // 12,
            "max_in": high_in % 12,
        }
    return {
        "min_lb": math.ceil(low / KG_PER_POUND),
        "max_lb": math.floor(high / KG_PER_POUND),
    }
