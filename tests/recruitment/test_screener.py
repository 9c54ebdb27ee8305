"""The eligibility screener as data: parsing, eligibility rules, impossible answers, quotas."""

from __future__ import annotations

import copy

import pytest

from fibrosurvey.recruitment import DEFAULT_SCREENER, ScreenerError, parse_screener

ADULT = {
    "age": "45",
    "diagnosis": "yes",
    "pain_3_months": "no",
    "country": "ES",
    "sex": "female",
}


def _screen(**changes):
    screener = parse_screener(DEFAULT_SCREENER)
    answers, problems = screener.parse_answers(ADULT | changes)
    assert problems == {}
    return screener.screen(answers)


def test_an_adult_with_a_diagnosis_in_a_study_country_is_eligible():
    outcome = _screen()
    assert outcome.eligible and outcome.unmet_rules == () and outcome.impossible == ()


def test_long_lasting_pain_without_a_diagnosis_is_also_eligible():
    assert _screen(diagnosis="no", pain_3_months="yes").eligible


@pytest.mark.parametrize(
    "changes,unmet",
    [
        ({"age": "17"}, ("age",)),
        ({"diagnosis": "no", "pain_3_months": "no"}, ("diagnosis",)),
        ({"country": "other"}, ("country",)),
        ({"age": "16", "country": "other"}, ("age", "country")),
    ],
)
def test_each_unmet_rule_is_named(changes, unmet):
    outcome = _screen(**changes)
    assert not outcome.eligible
    assert outcome.unmet_rules == unmet


def test_an_impossible_answer_is_flagged_not_refused():
    assert _screen(age="150").impossible == ("age",)
    longer_than_life = _screen(age="30", years_with_pain="40")
    assert longer_than_life.eligible and longer_than_life.impossible == ("years_with_pain",)


def test_missing_and_malformed_answers_are_problems_by_question():
    screener = parse_screener(DEFAULT_SCREENER)
    _, problems = screener.parse_answers(ADULT | {"age": "forty", "country": "XX", "sex": ""})
    assert problems == {"age": "not_a_whole_number", "country": "not_an_option", "sex": "required"}
    _, optional = screener.parse_answers(ADULT | {"years_with_pain": ""})
    assert optional == {}
    _, huge = screener.parse_answers(ADULT | {"age": "9" * 40})
    assert huge == {"age": "not_a_whole_number"}


def test_attention_check_fails_on_any_other_answer():
    config = copy.deepcopy(DEFAULT_SCREENER)
    config["questions"].append(
        {
            "id": "attention",
            "type": "choice",
            "label": "To show you are reading, choose 'Sometimes'.",
            "options": [
                {"value": "never", "label": "Never"},
                {"value": "sometimes", "label": "Sometimes"},
            ],
            "attention_answer": "sometimes",
        }
    )
    screener = parse_screener(config)
    passed, _ = screener.parse_answers(ADULT | {"attention": "sometimes"})
    failed, _ = screener.parse_answers(ADULT | {"attention": "never"})
    assert not screener.screen(passed).attention_failed
    assert screener.screen(failed).attention_failed


def test_quota_cells_by_sex_and_age_band():
    config = copy.deepcopy(DEFAULT_SCREENER)
    config["quotas"] = [
        {"name": "women", "question": "sex", "values": ["female"], "limit": 2},
        {"name": "age 18-39", "question": "age", "min": 18, "max": 39, "limit": 1},
    ]
    screener = parse_screener(config)
    young_woman, _ = screener.parse_answers(ADULT | {"age": "30"})
    older_man, _ = screener.parse_answers(ADULT | {"age": "60", "sex": "male"})
    assert screener.quota_cells(young_woman) == ["women", "age 18-39"]
    assert screener.quota_cells(older_man) == []


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda c: c["questions"][0].update(type="text"), "questions[0].type: one of ['integer'"),
        (
            lambda c: c["questions"][1].update(eligible=["maybe"]),
            "questions[1].eligible: a list of option values from ['yes', 'no']",
        ),
        (lambda c: c["rules"].append(["sex"]), "rules[3]: a list of ids of questions with"),
        (
            lambda c: c["questions"][3].update(at_most="height"),
            "questions[3].at_most: the id of an earlier question",
        ),
        (
            lambda c: c.update(
                quotas=[{"name": "q", "question": "sex", "values": ["x"], "limit": 1}]
            ),
            "quotas[0].values: a list of option values from ['female', 'male', 'other'",
        ),
        (lambda c: c["questions"][0].update(colour="red"), "questions[0]: unknown keys ['colour']"),
    ],
)
def test_a_bad_screener_is_refused_naming_the_place_and_the_allowed_values(mutate, message):
    config = copy.deepcopy(DEFAULT_SCREENER)
    mutate(config)
    with pytest.raises(ScreenerError) as error:
        parse_screener(config)
    assert message in str(error.value)
