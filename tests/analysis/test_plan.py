"""The analysis plan: the default plan loads, and broken plans fail naming line and key."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fibrosurvey.analysis.derive import apply_derivations, check_columns
from fibrosurvey.analysis.plan import PlanError, default_plan_text, load_plan, parse_plan

REPO_PLAN = Path(__file__).resolve().parents[2] / "plans" / "ced-claims.yaml"


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_default_plan_encodes_the_claims_with_their_directions() -> None:
    plan = load_plan()
    assert [c.id for c in plan.claims] == ["C0", "C1", "C2", "C3", "C4"]
    c1 = plan.claims[1].analyses[0]
    assert c1.kind == "partial_correlation"
    assert c1.exposures == ["log_aea", "log_twoag", "log_pea", "log_oea", "log_sea"]
    assert plan.covariates_of(c1) == [
        "demo_age",
        "demo_sex",
        "demo_bmi",
        "tx_cannabis_recreational",
        "lab_fasting",
        "lab_minutes_to_centrifuge",
        "lab_matrix_code",
    ]
    expected = {o.column: (o.expected or c1.expected) for o in c1.outcomes}
    # Lower levels with worse symptoms: negative, except sleep quality where higher = better.
    assert expected["nrs_sleep_quality"] == "positive"
    assert expected["jss_total"] == "negative"
    assert expected["fsq_wpi"] == "negative"


def test_repository_copy_of_the_default_plan_is_identical_to_the_packaged_one() -> None:
    assert REPO_PLAN.read_text(encoding="utf-8") == default_plan_text()


def test_unknown_analysis_kind_names_line_and_key() -> None:
    text = default_plan_text().replace("kind: group_comparison", "kind: group_compare")
    with pytest.raises(PlanError) as error:
        parse_plan(text, "bad.yaml")
    line = _line_of(text, "kind: group_compare")
    message = str(error.value)
    assert f"bad.yaml line {line} (claims[2].analyses[0].kind)" in message
    assert "group_comparison" in message  # the allowed values are listed


def test_misspelt_key_gets_a_suggestion() -> None:
    text = default_plan_text().replace(
        "verdict_rule: any\n    causal", "verdct_rule: any\n    causal", 1
    )
    with pytest.raises(PlanError) as error:
        parse_plan(text, "bad.yaml")
    line = _line_of(text, "verdct_rule")
    assert f"bad.yaml line {line} (claims[3].verdct_rule)" in str(error.value)
    assert "did you mean 'verdict_rule'" in str(error.value)


def test_undefined_covariate_set_is_rejected_with_the_defined_ones() -> None:
    text = default_plan_text().replace("covariates: treatment_confounders", "covariates: clinic")
    with pytest.raises(PlanError, match=r"covariate set 'clinic' is not defined.*'clinical'"):
        parse_plan(text, "bad.yaml")


def test_column_missing_from_the_data_names_the_plan_line() -> None:
    plan = load_plan()
    data = pl.DataFrame({"aea": [1.0]})
    with pytest.raises(PlanError) as error:
        check_columns(data, plan)
    line = _line_of(plan.text, "{column: fsq_wpi")
    assert f"line {line} (claims[1].analyses[0].outcomes[0]): column 'fsq_wpi'" in str(error.value)


def test_invalid_yaml_says_so() -> None:
    with pytest.raises(PlanError, match="not valid YAML"):
        parse_plan("claims: [unclosed", "x.yaml")


def test_missing_plan_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="does not exist; pass --plan"):
        load_plan(tmp_path / "nope.yaml")


SMALL_PLAN = """
plan_version: 1
title: small
registered: "2026-01-01"
derive:
  - {name: log_x, kind: log, column: x}
  - {name: low_x, kind: below_quantile, column: x, quantile: 0.5}
  - name: either
    kind: condition
    rule:
      any:
        - {column: a, op: "==", value: 1}
        - {column: b, op: ">=", value: 2}
  - name: contrast
    kind: groups
    exposed: {column: either, op: "==", value: 1}
    comparator: {column: a, op: "in", value: [0]}
claims:
  - id: S1
    statement: x goes with y
    analyses:
      - kind: correlation
        exposures: [x]
        outcomes: [y]
        expected: positive
"""


def test_derived_rules_use_kleene_logic_and_sample_quantiles() -> None:
    plan = parse_plan(SMALL_PLAN)
    data = pl.DataFrame(
        {
            "event": ["baseline"] * 5,
            "x": [1.0, 2.0, 3.0, 4.0, None],
            "a": [1, 0, None, 0, None],
            "b": [None, 3, None, 0, 2],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    out = apply_derivations(data, plan)
    assert out["log_x"].to_list()[:4] == pytest.approx([0.0, 0.6931472, 1.0986123, 1.3862944])
    # median of 1..4 is 2.5 (linear interpolation, as R's quantile type 7)
    assert out["low_x"].to_list() == [1, 1, 0, 0, None]
    # any(): true if one part is true even when another is missing; missing if undecided.
    assert out["either"].to_list() == [1, 1, None, 0, 1]
    # groups: exposed 1, comparator 0, neither -> missing
    assert out["contrast"].to_list() == [1, 1, None, 0, 1]


def test_log_of_a_non_positive_value_names_the_row() -> None:
    plan = parse_plan(SMALL_PLAN)
    data = pl.DataFrame(
        {"participant_id": ["p1", "p2"], "x": [1.0, 0.0], "a": [1, 1], "b": [0, 0], "y": [1.0, 2.0]}
    )
    with pytest.raises(
        PlanError, match=r"row 1 \(participant p2\) has x = 0.0.*allowed: values > 0"
    ):
        apply_derivations(data, plan)
