"""The branching-logic parser: what it reads, what it refuses and why."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fibrosurvey.redcap.logic import (
    All,
    Any_,
    Comparison,
    Logic,
    LogicRefused,
    parse_branching_logic,
    render_branching_logic,
)
from tests.strategies import redcap_logic


def test_comparisons_and_or_parentheses_and_checkbox_boxes() -> None:
    logic = parse_branching_logic("([a] = '1' OR [b(2)] <> '') and 18 <= [age]")
    assert logic == All(
        (
            Any_((Comparison("a", "=", 1.0), Comparison("b", "!=", None, "2"))),
            Comparison("age", ">=", 18.0),
        )
    )


def test_double_equals_and_bang_equals_and_double_quotes() -> None:
    assert parse_branching_logic('[a] == "2" and [b] != 3') == All(
        (Comparison("a", "=", 2.0), Comparison("b", "!=", 3.0))
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[user-name] = 'x'", "smart variable"),
        ("[age:value] > '3'", "smart variable"),
        ("[event_1_arm_1][age] > '60'", "another event"),
        ("datediff([dob], 'today', 'y') >= 18", "function"),
        ("if([a] = '1', 1, 0) = 1", "function"),
        ("[a] + [b] > 3", "arithmetic"),
        ("[a] = [b]", "two fields"),
        ("[a] = 'yes'", "not a number"),
        ("[a] > ''", "only = and <>"),
        ("[a] = '1' and", "cannot read"),
    ],
)
def test_refused_logic_says_why(text: str, reason: str) -> None:
    with pytest.raises(LogicRefused, match=re.escape(reason)):
        parse_branching_logic(text)


def _spaced(text: str, data: st.DataObject) -> str:
    """The same logic as people type it: any case for and/or, spaces anywhere between tokens."""

    def case(match: re.Match[str]) -> str:
        return "".join(c.upper() if data.draw(st.booleans()) else c for c in match.group(0))

    text = re.sub(r"\b(and|or)\b", case, text)
    return text.replace(" = ", data.draw(st.sampled_from(["=", " = ", "  =", "= "])))


@settings(max_examples=100, deadline=None)
@given(logic=redcap_logic(), data=st.data())
def test_parsing_what_is_rendered_gives_the_same_tree(logic: Logic, data: st.DataObject) -> None:
    text = _spaced(render_branching_logic(logic), data)
    assert parse_branching_logic(text) == logic
