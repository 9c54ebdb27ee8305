"""The branching-logic parser: what it reads, what it refuses and why."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fibrosurvey.instruments.logic import SkipLogic
from fibrosurvey.redcap import dictionary_to_instruments, read_data_dictionary
from fibrosurvey.redcap.dictionary import CSV_COLUMNS
from fibrosurvey.redcap.logic import (
    All,
    Any_,
    Comparison,
    Logic,
    LogicRefused,
    parse_branching_logic,
    render_branching_logic,
)
from tests.strategies import REDCAP_LOGIC_FIELDS, redcap_field_logic, redcap_logic


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


def _holds(logic: Logic, answers: dict[tuple[str, str | None], int]) -> bool:
    """REDCap's meaning of the logic, every field answered."""
    if isinstance(logic, All):
        return all(_holds(part, answers) for part in logic.parts)
    if isinstance(logic, Any_):
        return any(_holds(part, answers) for part in logic.parts)
    value = answers[(logic.field, logic.code)]
    if logic.value is None:  # compared with '': an answered field is not empty
        return logic.operator == "!="
    return {
        "=": value == logic.value,
        "!=": value != logic.value,
        ">": value > logic.value,
        "<": value < logic.value,
        ">=": value >= logic.value,
        "<=": value <= logic.value,
    }[logic.operator]


_HEADER = ",".join(f'"{column}"' for column in CSV_COLUMNS)
_FIELDS = [
    "record_id,f,,text,ID" + "," * 13,
    'a,f,,radio,A,"0, Zero | 1, One | 2, Two | 3, Three"' + "," * 12,
    "n,f,,text,N,,,integer,0,10" + "," * 8,
    'c,f,,checkbox,C,"1, One | 2, Two"' + "," * 12,
]


@settings(max_examples=60, deadline=None)
@given(
    logic=redcap_field_logic(),
    values=st.fixed_dictionaries(
        {key: st.sampled_from(values) for key, values in REDCAP_LOGIC_FIELDS.items()}
    ),
)
def test_converted_logic_asks_exactly_when_redcap_would(
    logic: Logic, values: dict[tuple[str, str | None], int]
) -> None:
    text = render_branching_logic(logic).replace('"', '""')
    gated = f'target,f,,yesno,T,,,,,,,"{text}"' + "," * 6
    dictionary = read_data_dictionary("\n".join([_HEADER, *_FIELDS, gated]) + "\n")
    result = dictionary_to_instruments(dictionary)
    assume(result.ok)  # e.g. [a] > 3: no answer code satisfies it, so it is refused
    [instrument] = result.instruments
    answers = {
        "f_a": values[("a", None)],
        "f_n": values[("n", None)],
        "f_c___1": values[("c", "1")],
        "f_c___2": values[("c", "2")],
    }
    expected = _holds(logic, values)
    skip = SkipLogic([instrument])
    assert skip.enabled(answers)["f_target"] is expected
    frame = pl.DataFrame([answers])
    assert frame.select(skip.expressions(frame.columns)["f_target"]).item() is expected
