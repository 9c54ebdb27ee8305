"""Height and weight typed in US customary units, stored in SI.

The conversions are exact by definition (international yard and pound agreement, 1959):
1 inch = 2.54 cm and 1 pound = 0.45359237 kg. They are done in decimal so that, for example,
5 ft 7 in is stored as 170.18 cm and 150 lb as 68.0388555 kg, not a binary near-miss.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "CM_PER_INCH",
    "KG_PER_POUND",
    "cm_to_feet_inches",
    "feet_inches_to_cm",
    "kg_to_pounds",
    "pounds_to_kg",
]

CM_PER_INCH = Decimal("2.54")
KG_PER_POUND = Decimal("0.45359237")
INCHES_PER_FOOT = 12


def feet_inches_to_cm(feet: Decimal, inches: Decimal) -> float:
    return float((feet * INCHES_PER_FOOT + inches) * CM_PER_INCH)


def pounds_to_kg(pounds: Decimal) -> float:
    return float(pounds * KG_PER_POUND)


def cm_to_feet_inches(cm: float) -> tuple[int, float]:
    """Whole feet and the inches left over (to 0.1 in), for showing a stored height again."""
    total = (Decimal(str(cm)) / CM_PER_INCH).quantize(Decimal("0.1"))
    feet = int(total // INCHES_PER_FOOT)
    return feet, float(total - feet * INCHES_PER_FOOT)


def kg_to_pounds(kg: float) -> float:
    """Pounds to 0.1 lb, for showing a stored weight again."""
    return float((Decimal(str(kg)) / KG_PER_POUND).quantize(Decimal("0.1")))
