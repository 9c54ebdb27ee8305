"""The one de-identification function: its rules, and the frames it refuses."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from fibrosurvey.web.exports.deidentify import (
    DeidentificationError,
    date_offset_days,
    deidentify,
)

SECRET = "s" * 64
UTC = dt.UTC


def _raw(**extra):
    return pl.DataFrame(
        {
            "participant_id": ["P1", "P2", "P1"],
            "event_date": [dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)] * 3,
            "demo_age": [97.0, 89.0, None],
            **extra,
        },
        schema_overrides={"event_date": pl.Datetime("us", "UTC")},
    )


def test_dates_shift_per_participant_ages_cap_and_working_columns_go():
    out = deidentify(_raw(__pk=[1, 2, 3]), SECRET)
    assert out.columns == ["participant_id", "event_date", "demo_age"]
    assert out.schema["event_date"] == pl.Date
    for code, day in zip(out["participant_id"], out["event_date"], strict=True):
        assert day == dt.date(2026, 3, 1) + dt.timedelta(days=date_offset_days(SECRET, code))
    assert out["demo_age"].to_list() == [90.0, 89.0, None]


@pytest.mark.parametrize(
    "extra",
    [
        {"email": ["a@b.org"] * 3},
        {"contact_phone": ["1"] * 3},
        {"token": ["t"] * 3},
        {"created_at": [dt.datetime(2026, 1, 1)] * 3},  # a date no rule shifts
        {"birth": [dt.date(1950, 1, 1)] * 3},
    ],
)
def test_identifiers_and_unshifted_dates_are_refused(extra):
    with pytest.raises(DeidentificationError):
        deidentify(_raw(**extra), SECRET)


def test_a_frame_already_deidentified_is_not_shifted_twice():
    once = deidentify(_raw(), SECRET)
    with pytest.raises(DeidentificationError, match="real timestamp"):
        deidentify(once, SECRET)


def test_lab_text_becomes_controlled_codes():
    out = deidentify(
        _raw(
            lab_tube=[" k2edta ", "my own tube", None],
            lab_matrix=["plasma", "blood of J. Smith", "serum"],
            lab_draw_time=["08:15", "25:00", "8:15"],
            lab_batch=["B-7", "B-7", "=cmd()"],
            lab_assay=["LC-MS/MS", "", None],
        ),
        SECRET,
    )
    assert out["lab_tube"].to_list() == ["K2EDTA", "other", None]
    assert out["lab_matrix"].to_list() == ["plasma", None, "serum"]
    assert out["lab_draw_time"].to_list() == ["08:15", None, None]
    batches = out["lab_batch"].to_list()
    assert batches[0] == batches[1] != batches[2] and batches[2].startswith("batch-")
    assert out["lab_assay"].to_list()[1:] == [None, None]
    assert out["lab_assay"][0].startswith("assay-")


def test_the_lab_draw_date_moves_with_the_participants_other_dates_and_the_time_stays():
    drawn = [dt.date(2026, 3, 2), None, dt.date(2026, 2, 27)]
    out = deidentify(_raw(lab_draw_date=drawn, lab_draw_time=["08:30", None, "14:05"]), SECRET)
    assert out.schema["lab_draw_date"] == pl.Date
    for code, day, shown in zip(out["participant_id"], drawn, out["lab_draw_date"], strict=True):
        offset = dt.timedelta(days=date_offset_days(SECRET, code))
        assert shown == (day + offset if day is not None else None)
    # The same offset as the event date: days between answers and draw are kept.
    first = out.row(0, named=True)
    assert (first["lab_draw_date"] - first["event_date"]).days == 1
    assert out["lab_draw_time"].to_list() == ["08:30", None, "14:05"]


@pytest.mark.parametrize(
    "extra",
    [
        {"lab_draw_date": [dt.datetime(2026, 3, 2, 8, 30)] * 3},  # must be a plain date
        {"lab_received_at": [dt.date(2026, 3, 2)] * 3},  # a lab date no rule shifts
    ],
)
def test_lab_dates_that_no_rule_shifts_are_refused(extra):
    with pytest.raises(DeidentificationError):
        deidentify(_raw(**extra), SECRET)


def test_a_date_item_moves_with_the_participants_other_dates_and_only_when_named():
    given = [dt.date(2025, 11, 3), dt.date(2024, 1, 31), None]
    out = deidentify(_raw(visit_start=given), SECRET, item_dates=["visit_start"])
    for code, day, shown in zip(out["participant_id"], given, out["visit_start"], strict=True):
        offset = dt.timedelta(days=date_offset_days(SECRET, code))
        assert shown == (day + offset if day is not None else None)
    # A date column nobody named a date item is still refused (no rule shifts it) ...
    with pytest.raises(DeidentificationError, match="visit_start"):
        deidentify(_raw(visit_start=given), SECRET)
    # ... and a date item must arrive as a date, not as text that would leave unshifted.
    with pytest.raises(DeidentificationError, match=r"pl\.Date"):
        deidentify(_raw(visit_start=["2025-11-03"] * 3), SECRET, item_dates=["visit_start"])
