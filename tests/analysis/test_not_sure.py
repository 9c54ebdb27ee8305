"""Self-reported diagnoses: "not sure" is its own answer, apart from "no"; missing in analysis."""

from __future__ import annotations

import polars as pl

from fibrosurvey.analysis import load_plan, run_plan
from fibrosurvey.analysis.methods_text import methods_in_words
from fibrosurvey.instruments import get_instrument
from fibrosurvey.scoring.status import without_not_sure
from fibrosurvey.synth import generate
from fibrosurvey.validation import validate_response

DX_COLUMNS = [item.column for item in get_instrument("dx").items]


def test_every_diagnosis_question_offers_not_sure_apart_from_no() -> None:
    dx = get_instrument("dx")
    assert dx.version == "1.1.0"
    for item in dx.items:
        labels = {o.code: o.label for o in item.options}
        assert labels[0]["en"] == "No" and labels[1]["en"] == "Yes"
        assert labels[2] == {"en": "Not sure", "es": "No estoy seguro/a"}
        assert item.not_sure_codes == (2,)
    assert not validate_response({"dx_anxiety": 2}, "dx", []).problems


def test_not_sure_is_missing_in_analysis_and_no_stays_no() -> None:
    frame = pl.DataFrame({"dx_anxiety": [0, 1, 2, None], "phq9_1": [0, 1, 2, 3]})
    cleaned = without_not_sure(frame)
    assert cleaned.get_column("dx_anxiety").to_list() == [0, 1, None, None]
    assert cleaned.get_column("phq9_1").to_list() == [0, 1, 2, 3]  # "2" there is an answer


def test_the_analysis_leaves_not_sure_out_instead_of_counting_it_as_no() -> None:
    data = generate("seed-claims", 1200, 5).data
    baseline = pl.col("event") == "baseline"
    # A quarter of the "no" answers to the anxiety diagnosis become "not sure".
    unsure = baseline & (pl.col("dx_anxiety") == 0) & (pl.col("participant_id").hash(3) % 4 == 0)
    marked = data.with_columns(
        pl.when(unsure).then(2).otherwise(pl.col("dx_anxiety")).alias("dx_anxiety")
    )
    n_unsure = marked.filter(pl.col("dx_anxiety") == 2).height
    assert n_unsure > 50
    plan = load_plan()

    def anxiety_n(frame: pl.DataFrame) -> int:
        results = run_plan(frame, plan, sensitivity=False, describe=False)
        [row] = [h for h in results.hypotheses if h.id == "C2:ced_suspected:dx_anxiety"]
        return row.n

    as_missing = marked.with_columns(
        pl.when(pl.col("dx_anxiety") == 2)
        .then(None)
        .otherwise(pl.col("dx_anxiety"))
        .alias("dx_anxiety")
    )
    # "Not sure" leaves the model exactly as a missing answer would; a "no" stays in it.
    assert anxiety_n(marked) == anxiety_n(as_missing) < anxiety_n(data)
    methods = " ".join(methods_in_words(plan, 0))
    assert "“not sure” answer" in methods and "counts as missing" in methods
