"""Quality checks, the exclusion rule and the participant-flow stages (no Django)."""

from __future__ import annotations

import polars as pl
import pytest

from fibrosurvey.recruitment import (
    DEFAULT_EXCLUSION,
    ExclusionRule,
    apply_exclusion,
    earlier_near_duplicates,
    flow_diagram_svg,
    flow_stages,
    near_duplicates,
    straightlined,
    too_fast,
)

ITEMS = [f"q{i}" for i in range(25)]


def test_straightlining_needs_the_same_answer_on_enough_items():
    assert straightlined(dict.fromkeys(ITEMS[:9], 2), ITEMS[:9])
    assert not straightlined(dict.fromkeys(ITEMS[:5], 2), ITEMS[:5])  # too short to judge
    varied = dict.fromkeys(ITEMS[:9], 2) | {"q4": 3}
    assert not straightlined(varied, ITEMS[:9])


def test_near_duplicates_finds_a_copy_with_one_answer_changed_only():
    original = {c: i % 4 for i, c in enumerate(ITEMS)}
    copied = original | {"q3": 0}
    different = {c: (i * 7) % 5 for i, c in enumerate(ITEMS)}
    assert near_duplicates(copied, {"a": original, "b": different}, threshold=0.95) == ["a"]
    # Too few items answered in common: never a duplicate.
    short = {c: original[c] for c in ITEMS[:10]}
    assert near_duplicates(short, {"a": original}) == []


def test_too_fast_is_judged_on_the_median_page():
    assert too_fast([0.5, 0.8, 30.0], 3)
    assert not too_fast([1.0, 5.0, 6.0], 3)
    assert not too_fast([], 3)


def _frame():
    return pl.DataFrame(
        {
            "participant_id": ["A", "A", "B", "C", "D"],
            "event": ["baseline", "followup_3m", "baseline", "baseline", "baseline"],
            "quality_flag": [True, True, True, False, None],
            "quality_reasons": [
                "honeypot;too_fast",
                "honeypot;too_fast",
                "straightlining",
                "",
                None,
            ],
        }
    )


def test_default_rule_excludes_every_flagged_participant_and_says_why():
    kept, summary = apply_exclusion(_frame(), DEFAULT_EXCLUSION)
    assert kept["participant_id"].to_list() == ["C", "D"]
    assert (summary.participants, summary.excluded, summary.analysed) == (4, 2, 2)
    assert summary.by_reason == {"honeypot": 1, "too_fast": 1, "straightlining": 1}
    assert "2 of 4 participants were excluded" in summary.sentence()


def test_a_configured_rule_excludes_only_the_named_reasons():
    rule = ExclusionRule.from_mapping({"reasons": ["straightlining"]})
    kept, summary = apply_exclusion(_frame(), rule)
    assert kept["participant_id"].unique(maintain_order=True).to_list() == ["A", "C", "D"]
    assert summary.by_reason == {"straightlining": 1}
    keep_all, none = apply_exclusion(
        _frame(), ExclusionRule.from_mapping({"exclude_flagged": False})
    )
    assert keep_all.height == 5 and none.excluded == 0


def test_an_unknown_reason_in_the_rule_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match=r"unknown \['bot'\]; allowed: \['attention_check'"):
        ExclusionRule.from_mapping({"reasons": ["bot"]})


def test_flow_stages_count_losses_and_refuse_a_stage_larger_than_its_predecessor():
    counts = {
        "visited": 10,
        "screened": 8,
        "eligible": 6,
        "enrolled": 5,
        "consented": 5,
        "started": 4,
        "completed": 3,
        "analysed": 2,
    }
    stages = flow_stages(counts)
    assert [s.lost for s in stages] == [0, 2, 2, 1, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="started"):
        flow_stages(counts | {"started": 6})


def test_flow_diagram_is_standalone_svg_with_every_count_and_the_exclusion_reasons():
    import xml.etree.ElementTree as ET

    counts = {
        "visited": 10,
        "screened": 8,
        "eligible": 6,
        "enrolled": 5,
        "consented": 5,
        "started": 4,
        "completed": 3,
        "analysed": 2,
    }
    svg = flow_diagram_svg(flow_stages(counts), {"honeypot": 1})
    root = ET.fromstring(svg)  # well-formed
    text = "".join(root.itertext())
    for count in counts.values():
        assert f"{count} " in text
    assert "1 excluded for response qualityhoneypot: 1" in text  # the reason on its own line
    assert "style=" not in svg and "<script" not in svg


def test_earlier_near_duplicates_compares_each_new_vector_with_those_before_it_only():
    original = {c: i % 4 for i, c in enumerate(ITEMS)}
    different = {c: (i * 7) % 5 for i, c in enumerate(ITEMS)}
    vectors = [
        ("old", original),
        ("new-a", different),
        ("new-b", original | {"q3": 0}),  # a copy of "old"
        ("new-c", different | {"q1": 9}),  # a copy of "new-a", itself new
    ]
    found = earlier_near_duplicates(vectors, 1, threshold=0.95, min_items=20)
    assert found == {"new-b": "old", "new-c": "new-a"}
    # The same answers as near_duplicates gives for one candidate at a time.
    assert near_duplicates(vectors[2][1], dict(vectors[:2]), threshold=0.95) == ["old"]
    assert earlier_near_duplicates(vectors, 4) == {}
