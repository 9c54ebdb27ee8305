"""Hand-worked examples from the published scoring rules (DESIGN.md section 4).

Each expected number is worked out by hand in the comment beside it, from the rule as published:
PHQ-9 (Kroenke 2001; prorating as in the PHQ instruction manual), GAD-7 (Spitzer 2006),
FIQR (Bennett 2009), Jenkins Sleep Scale (Jenkins 1988), PEG (Krebs 2009), ID-Migraine
(Lipton 2003), Manning criteria (Manning 1978).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from fibrosurvey.scoring import score_frame, score_response


def score_one(instrument: str, answers: dict[str, Any]) -> dict[str, Any]:
    frame = pl.DataFrame([answers], schema=dict.fromkeys(answers, pl.Int64), orient="row")
    return score_frame(frame, [instrument]).row(0, named=True)


def phq9(values: list[int | None]) -> dict[str, Any]:
    return score_one("phq9", {f"phq9_{i}": v for i, v in enumerate(values, start=1)})


def gad7(values: list[int | None]) -> dict[str, Any]:
    return score_one("gad7", {f"gad7_{i}": v for i, v in enumerate(values, start=1)})


# --- PHQ-9 -----------------------------------------------------------------------------------


def test_phq9_minimum_maximum_and_middle() -> None:
    assert phq9([0] * 9)["phq9_total"] == 0
    assert phq9([3] * 9)["phq9_total"] == 27
    middle = phq9([1, 2, 1, 0, 3, 1, 2, 0, 0])  # 1+2+1+0+3+1+2+0+0 = 10
    assert (middle["phq9_total"], middle["phq9_band"], middle["phq9_item9_flag"]) == (
        10,
        "moderate",
        0,
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # one missing: 8 answered, sum 10 -> 10 * 9/8 = 11.25 -> 11
        ([1, 2, 1, 0, 3, 1, 2, None, 0], 11),
        # one missing, exact half: sum 4 -> 4 * 9/8 = 4.5 -> 5 (half up, not to even)
        ([1, 1, 1, 1, 0, 0, 0, None, 0], 5),
        # sum 12 -> 12 * 9/8 = 13.5 -> 14 (banker's rounding would give 14 too; 4.5 above differs)
        ([3, 3, 3, 3, 0, 0, 0, 0, None], 14),
        # two missing (just inside the limit): 7 answered, sum 10 -> 90/7 = 12.857 -> 13
        ([1, 2, 1, 0, 3, 1, 2, None, None], 13),
        # two missing, sum 7 -> 7 * 9/7 = 9 exactly
        ([1, 1, 1, 1, 1, 1, 1, None, None], 9),
        # three missing (just outside): missing
        ([1, 2, 1, 0, 3, 1, None, None, None], None),
    ],
)
def test_phq9_prorating_limits_and_half_up(values: list[int | None], expected: int | None) -> None:
    assert phq9(values)["phq9_total"] == expected


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_edges(total: int, band: str) -> None:
    # Spread the total over the first items, 3 each, item 9 left at 0.
    values = [min(3, max(0, total - 3 * i)) for i in range(9)]
    assert sum(values) == total
    scored = phq9(values)
    assert (scored["phq9_total"], scored["phq9_band"]) == (total, band)


def test_phq9_item9_flag_is_set_whatever_else_is_missing() -> None:
    scored = phq9([None, None, None, None, 0, 0, 0, 0, 1])
    assert scored["phq9_total"] is None  # four missing
    assert scored["phq9_band"] is None
    assert scored["phq9_item9_flag"] == 1
    assert phq9([0] * 8 + [None])["phq9_item9_flag"] is None
    assert phq9([0] * 8 + [0])["phq9_item9_flag"] == 0
    assert phq9([0] * 8 + [3])["phq9_item9_flag"] == 1


@pytest.mark.parametrize("difficulty", [None, 0, 3])
def test_phq9_difficulty_item_is_unscored(difficulty: int | None) -> None:
    # The official form's 10th question changes no score: the middle example above, whatever
    # the difficulty answer, still totals 10 ("moderate"), and a prorated total stays 11.
    middle = phq9([1, 2, 1, 0, 3, 1, 2, 0, 0, difficulty])
    assert (middle["phq9_total"], middle["phq9_band"], middle["phq9_item9_flag"]) == (
        10,
        "moderate",
        0,
    )
    assert phq9([1, 2, 1, 0, 3, 1, 2, None, 0, difficulty])["phq9_total"] == 11
    assert phq9([1, 2, 1, 0, 3, 1, None, None, None, difficulty])["phq9_total"] is None


def test_phq9_has_the_official_tenth_item_outside_every_score() -> None:
    from fibrosurvey.instruments import get_instrument

    phq = get_instrument("phq9")
    assert phq.version == "1.1.0"
    assert phq.item_columns()[-1] == "phq9_10"
    tenth = phq.items[-1]
    assert tenth.loinc == "69722-7"
    labels = [o.label["en"] for o in tenth.options]
    assert labels == [
        "Not difficult at all",
        "Somewhat difficult",
        "Very difficult",
        "Extremely difficult",
    ]
    assert "do your work, take care of things at home" in tenth.text["en"]
    assert all("10" not in getattr(rule, "items", ()) for rule in phq.scores)


# --- GAD-7 -----------------------------------------------------------------------------------


def test_gad7_minimum_maximum_middle() -> None:
    assert gad7([0] * 7)["gad7_total"] == 0
    assert gad7([3] * 7)["gad7_total"] == 21
    assert gad7([1, 2, 1, 2, 1, 2, 1])["gad7_total"] == 10


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # one missing: sum 9 -> 9 * 7/6 = 10.5 -> 11 (half up; half-to-even would give 10)
        ([3, 3, 3, 0, 0, 0, None], 11),
        # sum 4 -> 28/6 = 4.667 -> 5, crossing into "mild"
        ([1, 1, 1, 1, 0, 0, None], 5),
        # two missing: missing
        ([3, 3, 3, 0, 0, None, None], None),
    ],
)
def test_gad7_prorating(values: list[int | None], expected: int | None) -> None:
    assert gad7(values)["gad7_total"] == expected


@pytest.mark.parametrize(
    ("total", "band"),
    [(4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"), (15, "severe")],
)
def test_gad7_band_edges(total: int, band: str) -> None:
    values = [min(3, max(0, total - 3 * i)) for i in range(7)]
    assert gad7(values)["gad7_band"] == band


def test_gad7_prorated_total_gets_its_band() -> None:
    assert gad7([1, 1, 1, 1, 0, 0, None])["gad7_band"] == "mild"


# --- FIQR ------------------------------------------------------------------------------------


def fiqr(function: list[int | None], overall: list[int | None], symptoms: list[int | None]):
    values = [*function, *overall, *symptoms]
    assert len(values) == 21
    return score_one("fiqr", {f"fiqr_{i:02d}": v for i, v in enumerate(values, start=1)})


def test_fiqr_minimum_and_maximum() -> None:
    assert fiqr([0] * 9, [0] * 2, [0] * 10)["fiqr_total"] == 0
    top = fiqr([10] * 9, [10] * 2, [10] * 10)
    # 90/3 + 20 + 100/2 = 30 + 20 + 50
    assert (top["fiqr_function"], top["fiqr_overall"], top["fiqr_symptoms"]) == (30, 20, 50)
    assert top["fiqr_total"] == 100


def test_fiqr_middle_case() -> None:
    scored = fiqr([5] * 9, [6, 4], [6] * 10)
    # function 45/3 = 15; overall 6+4 = 10; symptoms 60/2 = 30; total 55
    assert scored["fiqr_function"] == pytest.approx(15)
    assert scored["fiqr_overall"] == pytest.approx(10)
    assert scored["fiqr_symptoms"] == pytest.approx(30)
    assert scored["fiqr_total"] == pytest.approx(55)


def test_fiqr_function_prorated_with_five_of_nine() -> None:
    scored = fiqr([4, 4, 4, 4, 4, None, None, None, None], [0, 0], [0] * 10)
    # 5 answered, sum 20 -> 20 * 9/5 = 36 -> /3 = 12
    assert scored["fiqr_function"] == pytest.approx(12)
    assert scored["fiqr_total"] == pytest.approx(12)


def test_fiqr_function_missing_with_four_of_nine_and_total_missing() -> None:
    scored = fiqr([4, 4, 4, 4, None, None, None, None, None], [0, 0], [0] * 10)
    assert scored["fiqr_function"] is None
    assert scored["fiqr_total"] is None
    assert scored["fiqr_symptoms"] == 0


def test_fiqr_overall_with_one_of_two_is_prorated_and_with_none_missing() -> None:
    # 1 answered, 7 -> 7 * 2/1 = 14
    assert fiqr([0] * 9, [7, None], [0] * 10)["fiqr_overall"] == pytest.approx(14)
    none_answered = fiqr([0] * 9, [None, None], [0] * 10)
    assert none_answered["fiqr_overall"] is None
    assert none_answered["fiqr_total"] is None


def test_fiqr_symptoms_prorated_with_five_of_ten_missing_with_four() -> None:
    # 5 answered, sum 25 -> 25 * 10/5 = 50 -> /2 = 25
    five = fiqr([0] * 9, [0, 0], [5, 5, 5, 5, 5, None, None, None, None, None])
    assert five["fiqr_symptoms"] == pytest.approx(25)
    four = fiqr([0] * 9, [0, 0], [5, 5, 5, 5, None, None, None, None, None, None])
    assert four["fiqr_symptoms"] is None


# --- JSS, PEG, migraine, IBS, BMI --------------------------------------------------------------


def test_jss_sum_all_items_required() -> None:
    assert score_one("jss", {"jss_1": 0, "jss_2": 5, "jss_3": 3, "jss_4": 2})["jss_total"] == 10
    assert score_one("jss", {"jss_1": 5, "jss_2": 5, "jss_3": 5, "jss_4": 5})["jss_total"] == 20
    assert score_one("jss", {"jss_1": 0, "jss_2": 0, "jss_3": 0, "jss_4": 0})["jss_total"] == 0
    missing = score_one("jss", {"jss_1": 5, "jss_2": 5, "jss_3": 5, "jss_4": None})
    assert missing["jss_total"] is None


def test_peg_mean_all_items_required() -> None:
    # (3 + 6 + 7) / 3 = 5.333...
    assert score_one("peg", {"peg_1": 3, "peg_2": 6, "peg_3": 7})["peg_score"] == pytest.approx(
        16 / 3
    )
    assert score_one("peg", {"peg_1": 10, "peg_2": 10, "peg_3": 10})["peg_score"] == 10
    assert score_one("peg", {"peg_1": 3, "peg_2": None, "peg_3": 7})["peg_score"] is None


@pytest.mark.parametrize(
    ("answers", "positive"),
    [([1, 1, 0], 1), ([0, 1, 1], 1), ([1, 1, 1], 1), ([1, 0, 0], 0), ([0, 0, 0], 0)],
)
def test_id_migraine_positive_with_two_of_three(answers: list[int], positive: int) -> None:
    row = {f"migraine_{i}": v for i, v in enumerate(answers, start=1)}
    assert score_one("migraine", row)["migraine_positive"] == positive


def test_id_migraine_missing_item_gives_missing() -> None:
    row = {"migraine_1": 1, "migraine_2": 1, "migraine_3": None}
    assert score_one("migraine", row)["migraine_positive"] is None


@pytest.mark.parametrize(
    ("answers", "count", "positive"),
    [
        ([0, 0, 0, 0, 0, 0], 0, 0),
        ([1, 1, 0, 0, 0, 0], 2, 0),
        ([1, 1, 1, 0, 0, 0], 3, 1),
        ([1, 1, 1, 1, 1, 1], 6, 1),
    ],
)
def test_manning_count_and_positive_at_three(answers: list[int], count: int, positive: int) -> None:
    scored = score_one("ibs", {f"ibs_{i}": v for i, v in enumerate(answers, start=1)})
    assert (scored["ibs_count"], scored["ibs_positive"]) == (count, positive)


def test_manning_missing_item_gives_missing() -> None:
    scored = score_one("ibs", {f"ibs_{i}": (None if i == 6 else 1) for i in range(1, 7)})
    assert (scored["ibs_count"], scored["ibs_positive"]) == (None, None)


def test_bmi_from_weight_and_height() -> None:
    scored = score_one("demo", {"demo_weight_kg": 70, "demo_height_cm": 175})
    assert scored["demo_bmi"] == pytest.approx(70 / 1.75**2)  # 22.857
    assert score_one("demo", {"demo_weight_kg": 70, "demo_height_cm": None})["demo_bmi"] is None


def test_score_response_scores_one_participant_like_the_table() -> None:
    answers = {f"phq9_{i}": v for i, v in enumerate([3, 2, 2, 1, 1, 0, 0, None, 1], start=1)}
    # 8 answered, sum 10 -> 10 * 9/8 = 11.25 -> 11
    assert score_response(answers, "phq9") == {
        "phq9_total": 11,
        "phq9_band": "moderate",
        "phq9_item9_flag": 1,
    }


def test_score_response_refuses_what_validation_would_refuse() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        score_response({"phq9_1": "1.5"}, "phq9")
    with pytest.raises(ValueError):
        score_response({"phq9_1": "abc"}, "phq9")
