"""The one rule for printing an estimate with its interval."""

from __future__ import annotations

import math

import pytest

from fibrosurvey.analysis.numbers import format_estimate, format_number, interval_decimals


@pytest.mark.parametrize(
    ("triple", "ratio", "text"),
    [
        # The pair, now at one precision: two significant digits in the width.
        ((1.2, 1.0, 1.3), False, "1.20 (1.00 to 1.30)"),
        ((1.2, 0.98, 1.7), False, "1.20 (0.98 to 1.70)"),
        ((-4.26, -7.9, -0.6), False, "−4.3 (−7.9 to −0.6)"),  # ANCOVA points
        ((0.0342, 0.0153, 0.053), False, "0.034 (0.015 to 0.053)"),  # AUC gain
        ((0.21, 0.17, 0.25), False, "0.210 (0.170 to 0.250)"),
        ((640.2, 612.0, 668.4), False, "640 (612 to 668)"),
        ((8.38, 3.52, 19.97), True, "8.4 (3.5 to 20.0)"),  # odds ratio: the lower bound too
        ((0.946, 0.766, 1.168), True, "0.95 (0.77 to 1.17)"),
        ((-0.00001, -0.04, 0.04), False, "0.000 (−0.040 to 0.040)"),  # no "−0.000"
        ((2.0, 2.0, 2.0), False, "2.0 (2.0 to 2.0)"),  # zero width: the estimate's precision
        ((0.5, math.nan, math.nan), False, "0.50 (– to –)"),
    ],
)
def test_format_estimate_gives_all_three_numbers_one_precision(
    triple: tuple[float, float, float], ratio: bool, text: str
) -> None:
    assert format_estimate(*triple, ratio=ratio) == text


def test_brackets_style_and_limits() -> None:
    assert format_estimate(1.2, 0.98, 1.7, brackets=True) == "1.20 [0.98, 1.70]"
    assert interval_decimals(1e-9, 0.0, 1e-9) == 4  # never more than four decimals
    assert interval_decimals(1e6, 0.0, 2e6) == 0
    assert format_number(None, 2) == "–"
