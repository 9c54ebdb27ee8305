"""One rule for printing an estimate with its interval (report, figures, plain words, Table 1).

The interval sets the precision: every number of a triple gets the same number of decimals,
enough for the interval's width to show two significant digits (0.72 wide: 2 decimals; 7.2
wide: 1; 72 wide: none). Ratios (odds ratios, null value 1) also show two significant digits in
their lower bound, so "8.4 (3.5 to 20.0)" rather than "8 (4 to 20)". A zero-width interval
(e.g. an IQR of 1 to 1) shows the estimate to two significant digits. Decimals stay within
0-4, minus signs are typographic (U+2212) and a missing number prints as an en dash.

>>> format_estimate(1.2, 1.0, 1.3)
'1.20 (1.00 to 1.30)'
>>> format_estimate(1.2, 0.98, 1.7, brackets=True)
'1.20 [0.98, 1.70]'
>>> format_estimate(-0.0123, -0.051, 0.027)
'−0.012 (−0.051 to 0.027)'
>>> format_estimate(8.38, 3.52, 19.97, ratio=True)
'8.4 (3.5 to 20.0)'
>>> format_estimate(float("nan"), float("nan"), float("nan"))
'– (– to –)'
"""

from __future__ import annotations

import math

__all__ = ["MISSING", "format_estimate", "format_number", "interval_decimals"]

MISSING = "–"
_MAX_DECIMALS = 4


def _significant(value: float, digits: int = 2) -> int:
    """Decimals that show ``value`` to ``digits`` significant digits (0 for 0)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return digits - 1 - math.floor(math.log10(abs(value)))


def interval_decimals(estimate: float, low: float, high: float, *, ratio: bool = False) -> int:
    """Decimals for an estimate and its interval (see the module docstring)."""
    width = high - low
    if math.isfinite(width) and width > 0:
        decimals = _significant(width)
        if ratio and low > 0:
            decimals = max(decimals, _significant(low))
    elif math.isfinite(estimate):
        decimals = _significant(estimate)
    else:
        decimals = 2
    return min(max(decimals, 0), _MAX_DECIMALS)


def format_number(value: float | None, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, a typographic minus, and no "−0.00"."""
    if value is None or not math.isfinite(value):
        return MISSING
    text = f"{value:.{decimals}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", "−")


def format_estimate(
    estimate: float | None,
    low: float | None,
    high: float | None,
    *,
    ratio: bool = False,
    brackets: bool = False,
) -> str:
    """``"1.20 (0.98 to 1.70)"`` (or ``"1.20 [0.98, 1.70]"``) with one precision for all three."""
    values = [math.nan if v is None else float(v) for v in (estimate, low, high)]
    decimals = interval_decimals(*values, ratio=ratio)
    est, lo, hi = (format_number(v, decimals) for v in values)
    return f"{est} [{lo}, {hi}]" if brackets else f"{est} ({lo} to {hi})"
