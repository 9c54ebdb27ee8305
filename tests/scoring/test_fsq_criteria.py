"""ACR 2010/2011 and 2016 criteria from the FSQ, worked by hand from Wolfe et al. 2011 and 2016."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from fibrosurvey.instruments import get_instrument
from fibrosurvey.scoring import score_frame

SITES = [
    "jaw_l", "jaw_r", "shoulder_l", "shoulder_r", "upperarm_l", "upperarm_r", "lowerarm_l",
    "lowerarm_r", "hip_l", "hip_r", "upperleg_l", "upperleg_r", "lowerleg_l", "lowerleg_r",
    "neck", "upperback", "lowerback", "chest", "abdomen",
]  # fmt: skip
FSQ_SCORES = ["fsq_wpi", "fsq_sss", "fsq_fs", "fsq_regions", "fsq_acr2016", "fsq_acr2011"]


def fsq(
    painful: set[str],
    *,
    fatigue: int = 0,
    unrefreshed: int = 0,
    cognitive: int = 0,
    headache: int = 0,
    abdominal: int = 0,
    depression: int = 0,
    duration: int = 1,
    missing: str | None = None,
) -> dict[str, Any]:
    assert painful <= set(SITES)
    row: dict[str, int | None] = {f"fsq_{site}": int(site in painful) for site in SITES}
    row |= {
        "fsq_fatigue": fatigue,
        "fsq_unrefreshed": unrefreshed,
        "fsq_cognitive": cognitive,
        "fsq_headache": headache,
        "fsq_abdominal": abdominal,
        "fsq_depression": depression,
        "fsq_duration": duration,
    }
    if missing is not None:
        row[f"fsq_{missing}"] = None
    frame = pl.DataFrame([row], schema=dict.fromkeys(row, pl.Int64), orient="row")
    return score_frame(frame, ["fsq"]).select(FSQ_SCORES).row(0, named=True)


ALL_FIVE_REGIONS = {"shoulder_l", "upperarm_l", "shoulder_r", "hip_l", "hip_r", "neck", "lowerback"}


def test_columns_match_the_definition() -> None:
    assert get_instrument("fsq").score_columns() == FSQ_SCORES


def test_minimum_all_zero() -> None:
    assert fsq(set(), duration=0) == dict.fromkeys(FSQ_SCORES, 0)


def test_maximum_everything() -> None:
    scored = fsq(
        set(SITES),
        fatigue=3,
        unrefreshed=3,
        cognitive=3,
        headache=1,
        abdominal=1,
        depression=1,
    )
    assert scored == {
        "fsq_wpi": 19,
        "fsq_sss": 12,
        "fsq_fs": 31,
        "fsq_regions": 5,
        "fsq_acr2016": 1,
        "fsq_acr2011": 1,
    }


def test_2016_first_arm_wpi7_sss5_in_five_regions() -> None:
    # WPI 7 (7 sites); SSS 2+2+1 = 5; regions: left upper, right upper, left lower, right lower,
    # axial = 5; duration 1 -> meets both.
    scored = fsq(ALL_FIVE_REGIONS, fatigue=2, unrefreshed=2, cognitive=1)
    assert (scored["fsq_wpi"], scored["fsq_sss"], scored["fsq_fs"]) == (7, 5, 12)
    assert scored["fsq_regions"] == 5
    assert (scored["fsq_acr2016"], scored["fsq_acr2011"]) == (1, 1)


def test_2016_first_arm_just_below_sss() -> None:
    scored = fsq(ALL_FIVE_REGIONS, fatigue=2, unrefreshed=1, cognitive=1)  # SSS 4
    assert (scored["fsq_acr2016"], scored["fsq_acr2011"]) == (0, 0)


def test_2016_second_arm_wpi4_sss9_in_four_regions() -> None:
    # WPI 4 in 4 regions (both shoulders, both hips); SSS 3+3+3 = 9.
    scored = fsq(
        {"shoulder_l", "shoulder_r", "hip_l", "hip_r"}, fatigue=3, unrefreshed=3, cognitive=3
    )
    assert (scored["fsq_wpi"], scored["fsq_sss"], scored["fsq_regions"]) == (4, 9, 4)
    assert (scored["fsq_acr2016"], scored["fsq_acr2011"]) == (1, 1)


def test_2016_second_arm_just_below_sss() -> None:
    scored = fsq(
        {"shoulder_l", "shoulder_r", "hip_l", "hip_r"}, fatigue=3, unrefreshed=3, cognitive=2
    )
    assert (scored["fsq_sss"], scored["fsq_acr2016"], scored["fsq_acr2011"]) == (8, 0, 0)


def test_wpi3_sss9_passes_2011_but_not_2016() -> None:
    scored = fsq({"shoulder_l", "hip_l", "neck"}, fatigue=3, unrefreshed=3, cognitive=3)
    assert (scored["fsq_wpi"], scored["fsq_sss"], scored["fsq_regions"]) == (3, 9, 3)
    assert (scored["fsq_acr2016"], scored["fsq_acr2011"]) == (0, 1)


def test_generalised_pain_fails_when_only_jaw_chest_abdomen_hurt() -> None:
    # WPI 4, SSS 12, but jaw, chest and abdomen count toward no region: regions 0.
    scored = fsq(
        {"jaw_l", "jaw_r", "chest", "abdomen"},
        fatigue=3,
        unrefreshed=3,
        cognitive=3,
        headache=1,
        abdominal=1,
        depression=1,
    )
    assert (scored["fsq_wpi"], scored["fsq_sss"], scored["fsq_regions"]) == (4, 12, 0)
    assert scored["fsq_acr2016"] == 0
    assert scored["fsq_acr2011"] == 1  # 2011 has no generalised-pain rule


def test_wpi7_in_three_regions_fails_2016_only() -> None:
    # 7 sites: jaws, chest, abdomen (no region) + left shoulder, left hip, neck = 3 regions.
    painful = {"jaw_l", "jaw_r", "chest", "abdomen", "shoulder_l", "hip_l", "neck"}
    scored = fsq(painful, fatigue=2, unrefreshed=2, cognitive=1)
    assert (scored["fsq_wpi"], scored["fsq_regions"]) == (7, 3)
    assert (scored["fsq_acr2016"], scored["fsq_acr2011"]) == (0, 1)


def test_duration_zero_fails_both() -> None:
    scored = fsq(set(SITES), fatigue=3, unrefreshed=3, cognitive=3, duration=0)
    assert (scored["fsq_acr2016"], scored["fsq_acr2011"]) == (0, 0)
    assert scored["fsq_wpi"] == 19


@pytest.mark.parametrize("missing", ["neck", "fatigue", "headache", "duration", "jaw_l"])
def test_any_missing_item_makes_every_fsq_score_missing(missing: str) -> None:
    assert fsq(ALL_FIVE_REGIONS, fatigue=3, missing=missing) == dict.fromkeys(FSQ_SCORES)
