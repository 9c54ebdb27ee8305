"""The FHIR QuestionnaireResponse reader refuses any malformed resource with a
FhirMappingError naming the problem: never another exception, never a silent guess."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fibrosurvey.fhir import read_response
from fibrosurvey.fhir.errors import FhirMappingError
from fibrosurvey.web.ops.jsonsafe import JsonTooDeep, loads_bounded
from tests.web.security.conftest import FUZZ_CASES
from tests.web.security.test_hostile_input import HOSTILE_STRINGS

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=20),
)
JSONISH = st.recursive(
    SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
LINK_IDS = st.sampled_from(["phq9_1", "phq9_9", "gad7_1", "/44249-1/44250-9", "x", ""])
ANSWER = st.fixed_dictionaries(
    {},
    optional={
        "valueInteger": SCALAR,
        "valueDecimal": SCALAR,
        "valueString": SCALAR,
        "valueCoding": JSONISH,
        "item": JSONISH,
    },
)
ITEM = st.fixed_dictionaries(
    {"linkId": st.one_of(LINK_IDS, SCALAR)},
    optional={"answer": st.one_of(st.lists(ANSWER, max_size=3), JSONISH), "item": JSONISH},
)
RESPONSE = st.fixed_dictionaries(
    {"resourceType": st.one_of(st.just("QuestionnaireResponse"), SCALAR)},
    optional={
        "status": st.one_of(
            st.sampled_from(["completed", "in-progress", "entered-in-error"]), SCALAR
        ),
        "questionnaire": st.one_of(
            st.sampled_from(["phq9", "http://loinc.org/q/44249-1", "gad7"]), SCALAR
        ),
        "item": st.one_of(st.lists(ITEM, max_size=5), JSONISH),
    },
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resource=st.one_of(RESPONSE, JSONISH),
    instrument=st.sampled_from([None, "phq9", "gad7", "nope"]),
)
def test_any_malformed_resource_maps_or_raises_fhir_mapping_error(resource, instrument):
    FUZZ_CASES["FHIR read_response"] += 1
    try:
        row = read_response(resource, instrument)
    except FhirMappingError as error:
        assert error.problems and all(p.message for p in error.problems)
    else:
        assert isinstance(row, dict) and row


def test_a_response_nested_10000_levels_deep_is_refused_not_a_recursion_error():
    innermost: dict = {"linkId": "phq9_1"}
    resource = innermost
    for _ in range(10_000):
        resource = {"linkId": "g", "item": [resource]}
    with pytest.raises(FhirMappingError, match="nested too deeply"):
        read_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": [resource]}
        )


def test_json_text_nested_10000_levels_is_refused_before_parsing():
    text = '{"item": [' * 10_000 + "]}" * 10_000
    with pytest.raises(JsonTooDeep):
        loads_bounded(text)


def _phq9(answer: dict) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "phq9",
        "item": [{"linkId": "phq9_1", "answer": [answer]}],
    }


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ({"valueString": "=cmd|' /C calc'!A0"}, "phq9_1"),
        ({"valueInteger": 10**400}, "item.0.answer.0.valueInteger"),
        ({"valueInteger": 7}, "phq9_1"),
    ],
)
def test_formula_huge_and_out_of_range_answers_are_refused_naming_the_item(answer, named):
    with pytest.raises(FhirMappingError) as caught:
        read_response(_phq9(answer), "phq9")
    assert named in str(caught.value)
