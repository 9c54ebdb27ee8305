"""The shared constants behave as one: every producer of the analysis dataset gives a column the
same type, the safety item comes from phq9.yaml, and one helper writes cells into JSON."""

from __future__ import annotations

import math

import numpy as np

from fibrosurvey.analysis.plan import load_plan
from fibrosurvey.biomarkers import validate_lab_frame
from fibrosurvey.dataset import (
    MAX_MINUTES_TO_CENTRIFUGE,
    PREANALYTICAL_COLUMNS,
    biomarker_columns,
    column_dtype,
)
from fibrosurvey.instruments import get_instrument, safety_item
from fibrosurvey.synth import generate
from fibrosurvey.tables import json_cell
from tests.test_biomarkers import _lab

LAB_COLUMNS = [*biomarker_columns(), *PREANALYTICAL_COLUMNS]


def test_lab_import_and_synthetic_cohort_type_each_lab_column_as_the_dataset_says() -> None:
    wide = validate_lab_frame(_lab()).to_wide()
    synthetic = generate("seed-claims", 40, 3, score=False).data
    expected = {column: column_dtype(column) for column in LAB_COLUMNS}
    assert {column: wide.schema[column] for column in LAB_COLUMNS} == expected
    assert {column: synthetic.schema[column] for column in LAB_COLUMNS} == expected


def test_the_default_plan_uses_the_platform_centrifuge_limit() -> None:
    assert load_plan().quality.max_minutes_to_centrifuge == MAX_MINUTES_TO_CENTRIFUGE


def test_the_safety_item_and_its_threshold_are_read_from_the_phq9_file() -> None:
    safety = safety_item()
    [flag] = [rule for rule in get_instrument("phq9").scores if rule.id == "item9_flag"]
    assert (safety.instrument_id, safety.column, safety.at_least) == ("phq9", "phq9_9", 1)
    assert safety.at_least == flag.at_least  # type: ignore[union-attr]
    assert [safety.raised_by(answer) for answer in (None, 0, 1, 3)] == [False, False, True, True]


def test_a_json_cell_holds_plain_numbers_and_null_for_what_json_cannot_write() -> None:
    assert [json_cell(v) for v in (np.int16(3), np.float64(2.0), 2.5, "x", None)] == [
        3,
        2,
        2.5,
        "x",
        None,
    ]
    assert json_cell(math.nan) is None and json_cell(np.float64(math.inf)) is None
    assert type(json_cell(np.int64(4))) is int
