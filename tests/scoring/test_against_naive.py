"""The engine agrees with an independent per-respondent scorer coded by hand from the rules."""

from __future__ import annotations

import math

import polars as pl
from hypothesis import HealthCheck, given, settings

from fibrosurvey.scoring import score_frame
from tests.scoring.naive_scoring import score_row
from tests.strategies import answer_frames

SCORED = ["fsq", "fiqr", "phq9", "gad7", "jss", "peg", "migraine", "ibs", "demo"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_frames(SCORED, min_rows=1, max_rows=12))
def test_engine_matches_hand_coded_scorer(frame: pl.DataFrame) -> None:
    ours = score_frame(frame, SCORED).to_dicts()
    for position, row in enumerate(frame.to_dicts()):
        for column, expected in score_row(row).items():
            got = ours[position][column]
            if expected is None or isinstance(expected, str):
                assert got == expected, (position, column)
            else:
                assert got is not None and math.isclose(got, expected, abs_tol=1e-9), (
                    position,
                    column,
                )
