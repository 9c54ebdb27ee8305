"""Skip logic in definitions: the loader's refusals, and the evaluators held together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fhirpathpy
import polars as pl
import pytest
import yaml
from fhirpathpy.models import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fibrosurvey.instruments import DefinitionError, get_instrument, load_definition
from fibrosurvey.instruments.logic import (
    SkipLogic,
    condition_fhirpath,
    response_resource,
    skip_logic,
)
from fibrosurvey.instruments.registry import check_instrument_set, load_instruments
from fibrosurvey.instruments.schema import Item
from tests.strategies import answer_frames, simple_rules, valid_value

DEFINITIONS = Path(__file__).resolve().parents[2] / "src/fibrosurvey/instruments/definitions"
BATTERY = ("migraine", "ibs", "tx", "demo")


def _raw(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((DEFINITIONS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / f"{raw['id']}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _gate_thc_on(raw: dict[str, Any], condition: dict[str, Any]) -> None:
    raw["pages"][3] = {"items": ["thc_mg_day", "thc_days_week"], "enable_when": [condition]}


# --- the loader refuses, naming the file and the field ----------------------------------


def test_rule_naming_an_unknown_item_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    _gate_thc_on(raw, {"question": "tx_thc_usage", "operator": "=", "answer": 1})
    path = _write(tmp_path, raw)
    with pytest.raises(DefinitionError) as raised:
        load_definition(path)
    message = str(raised.value)
    assert str(path) in message
    assert "items.thc_mg_day.enable_when.0.question: unknown item 'tx_thc_usage'" in message


def test_rule_naming_an_unknown_item_of_another_instrument_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    _gate_thc_on(raw, {"question": "demo_gender", "operator": "=", "answer": 1})
    path = _write(tmp_path, raw)
    instruments = dict(load_instruments()) | {"tx": load_definition(path)}
    paths = {name: DEFINITIONS / f"{name}.yaml" for name in instruments} | {"tx": path}
    with pytest.raises(DefinitionError) as raised:
        check_instrument_set(instruments, paths)
    assert str(path) in str(raised.value)
    assert "enable_when.0.question: unknown item 'demo_gender'" in str(raised.value)


def test_answer_code_that_is_not_an_option_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    _gate_thc_on(raw, {"question": "tx_thc_use", "operator": "=", "answer": 2})
    with pytest.raises(DefinitionError) as raised:
        load_definition(_write(tmp_path, raw))
    assert (
        "items.thc_mg_day.enable_when.0.answer: 2 is not an answer code of tx_thc_use "
        "(allowed: 0, 1)"
    ) in str(raised.value)


def test_cycle_of_gates_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    # thc_use gated by thc_mg_day, which is gated by thc_use.
    raw["pages"] = [
        [
            "opioid",
            "gabapentinoid",
            "snri",
            "tca",
            "cyclobenzaprine",
            "nsaid",
            "cbd_product",
            "cannabis_recreational",
            "cbd_mg_day",
            "cbd_days_week",
            "cannabis_days_since",
            "omega3_supplement",
            "fish_servings_week",
            "aerobic_min_week",
            "resistance_sessions_week",
            "mindbody_sessions_week",
            "sleep_hygiene",
            "thc_days_week",
        ],
        ["thc_use"],
        ["thc_mg_day"],
    ]
    for item in raw["items"]:
        if item["id"] == "thc_use":
            item["enable_when"] = [
                {"question": "tx_thc_mg_day", "operator": "exists", "answer": True}
            ]
        if item["id"] == "thc_mg_day":
            item["enable_when"] = [{"question": "tx_thc_use", "operator": "=", "answer": 1}]
    with pytest.raises(DefinitionError) as raised:
        load_definition(_write(tmp_path, raw))
    message = str(raised.value)
    assert "tx.yaml" in message
    assert "items.thc_use.enable_when.0.question" in message  # gate on a later page


def test_cycle_across_instruments_is_refused() -> None:
    instruments = dict(load_instruments())
    demo = instruments["demo"]
    tx = instruments["tx"]
    sex = demo.item("sex").model_copy(update={"enable_when": (_condition("tx_opioid", "=", 1),)})
    opioid = tx.item("opioid").model_copy(update={"enable_when": (_condition("demo_sex", "=", 1),)})
    instruments["demo"] = demo.model_copy(
        update={"items": tuple(sex if i.id == "sex" else i for i in demo.items)}
    )
    instruments["tx"] = tx.model_copy(
        update={"items": tuple(opioid if i.id == "opioid" else i for i in tx.items)}
    )
    paths = {name: DEFINITIONS / f"{name}.yaml" for name in instruments}
    with pytest.raises(DefinitionError, match=r"the gates form a cycle: .*demo_sex.*tx_opioid"):
        check_instrument_set(instruments, paths)


def test_gate_on_the_same_page_as_its_item_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    raw["pages"][1] = ["cbd_product", "thc_use", "cannabis_recreational", "thc_mg_day"]
    raw["pages"][3] = {
        "items": ["thc_days_week"],
        "enable_when": [{"question": "tx_thc_use", "operator": "=", "answer": 1}],
    }
    for item in raw["items"]:
        if item["id"] == "thc_mg_day":
            item["enable_when"] = [{"question": "tx_thc_use", "operator": "=", "answer": 1}]
    with pytest.raises(DefinitionError, match=r"must be on an earlier page"):
        load_definition(_write(tmp_path, raw))


def test_rule_on_both_a_page_and_its_item_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    for item in raw["items"]:
        if item["id"] == "thc_mg_day":
            item["enable_when"] = [{"question": "tx_thc_use", "operator": "=", "answer": 1}]
    with pytest.raises(DefinitionError, match=r"items\.thc_mg_day\.enable_when: its page has"):
        load_definition(_write(tmp_path, raw))


def test_order_comparison_on_a_choice_gate_is_refused(tmp_path: Path) -> None:
    raw = _raw("tx")
    _gate_thc_on(raw, {"question": "tx_cbd_product", "operator": ">", "answer": 0})
    with pytest.raises(DefinitionError, match=r"enable_when\.0\.operator: '>' on the choice item"):
        load_definition(_write(tmp_path, raw))


def test_exists_needs_true_or_false(tmp_path: Path) -> None:
    raw = _raw("tx")
    _gate_thc_on(raw, {"question": "tx_thc_use", "operator": "exists", "answer": 1})
    with pytest.raises(DefinitionError, match=r"'exists' takes true or false"):
        load_definition(_write(tmp_path, raw))


def _condition(question: str, operator: str, answer: float) -> Any:
    from fibrosurvey.instruments.schema import EnableWhen

    return EnableWhen.model_validate({"question": question, "operator": operator, "answer": answer})


# --- the built-in gates ------------------------------------------------------------------


def test_built_in_gates_hide_what_the_issue_lists() -> None:
    logic = skip_logic(BATTERY)
    no_to_all = {
        "demo_sex": 2,
        "tx_cbd_product": 0,
        "tx_thc_use": 0,
        "tx_cannabis_recreational": 0,
        "migraine_headaches": 0,
        "ibs_abdominal_pain": 0,
    }
    hidden = logic.disabled_columns(no_to_all)
    assert hidden == {
        "demo_menopause",
        "demo_hormonal_contraception",
        "tx_cbd_mg_day",
        "tx_cbd_days_week",
        "tx_thc_mg_day",
        "tx_thc_days_week",
        "tx_cannabis_days_since",
        *(f"migraine_{n}" for n in (1, 2, 3)),
        *(f"ibs_{n}" for n in range(1, 7)),
    }
    assert logic.not_applicable(no_to_all) == hidden
    # Recreational cannabis alone asks when it was last used, and nothing about CBD doses.
    recreational = no_to_all | {"tx_cannabis_recreational": 1}
    assert "tx_cannabis_days_since" not in logic.disabled_columns(recreational)
    # A woman is asked about menopause.
    assert "demo_menopause" not in logic.disabled_columns(no_to_all | {"demo_sex": 1})


def test_skipped_gate_hides_its_items_but_they_are_not_not_applicable() -> None:
    logic = skip_logic(("migraine",))
    skipped_gate = {"migraine_headaches": None}
    assert logic.disabled_columns(skipped_gate) == {"migraine_1", "migraine_2", "migraine_3"}
    assert logic.not_applicable(skipped_gate) == set()


def test_data_without_the_gate_column_asks_everyone() -> None:
    """Responses to version 1.0.0 have no gate: their items stay applicable."""
    logic = skip_logic(("migraine",))
    assert logic.disabled_columns({"migraine_1": 1}) == set()
    frame = pl.DataFrame({"migraine_1": [1, None]})
    enabled = frame.with_columns(**logic.expressions(frame.columns))
    assert enabled["migraine_1"].to_list() == [True, True]


# --- evaluators held together ------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_frames(list(BATTERY), min_rows=1, max_rows=20))
def test_vectorised_and_single_response_evaluators_agree(frame: pl.DataFrame) -> None:
    logic = skip_logic(BATTERY)
    enabled_columns = logic.expressions(frame.columns)
    hidden_columns = logic.not_applicable_expressions(frame.columns)
    enabled = frame.with_columns(**enabled_columns).select(list(enabled_columns)).to_dicts()
    not_applicable = frame.with_columns(**hidden_columns).select(list(hidden_columns)).to_dicts()
    for position, row in enumerate(frame.to_dicts()):
        assert enabled[position] == logic.enabled(row), position
        expected = {column for column, hidden in not_applicable[position].items() if hidden}
        assert expected == logic.not_applicable(row), position


GATE_ITEMS = [
    get_instrument("tx").item("cbd_product"),
    get_instrument("tx").item("cbd_mg_day"),
    get_instrument("demo").item("age"),
    get_instrument("demo").item("sex"),
]


@st.composite
def _rule_and_answer(draw: st.DrawFn) -> tuple[Item, Any, int | float | None]:
    gate = draw(st.sampled_from(GATE_ITEMS))
    rule = draw(simple_rules(gate))
    value = draw(st.one_of(st.none(), valid_value(gate)))
    return gate, rule, value


@settings(max_examples=150, deadline=None)
@given(_rule_and_answer())
def test_our_evaluator_equals_fhirpath_on_every_simple_rule(
    case: tuple[Item, Any, int | float | None],
) -> None:
    gate, rule, value = case
    gated = Item.model_validate(
        {"id": "x", "column": "t_x", "kind": "choice", "options": [], "option_set": "s",
         "text": {"en": "x"}, "enable_when": [rule.model_dump()]}
    )  # fmt: skip
    logic = SkipLogic([])
    logic.items = {gate.column: gate, gated.column: gated}
    logic.order = [gated]
    answers = {gate.column: value}
    ours = logic.enabled(answers)[gated.column]
    resource = response_resource(logic.items, answers)
    expression = condition_fhirpath(rule, gate)
    theirs = fhirpathpy.evaluate(resource, expression, {"resource": resource}, models["r4"])
    assert theirs == [ours], expression


def test_enable_when_expression_is_evaluated_with_fhirpath_on_one_response_and_a_table() -> None:
    demo = get_instrument("demo")
    expression = (
        "%resource.repeat(item).where(linkId='demo_age').answer.value > 50 and "
        "%resource.repeat(item).where(linkId='demo_sex').answer.value.code = '1'"
    )
    menopause = demo.item("menopause").model_copy(
        update={"enable_when": (), "enable_when_expression": expression}
    )
    instrument = demo.model_copy(
        update={"items": tuple(menopause if i.id == "menopause" else i for i in demo.items)}
    )
    logic = SkipLogic([instrument])
    rows = [
        {"demo_age": 60, "demo_sex": 1},
        {"demo_age": 40, "demo_sex": 1},
        {"demo_age": 60, "demo_sex": 2},
        {"demo_age": None, "demo_sex": None},
    ]
    single = [logic.enabled(row)["demo_menopause"] for row in rows]
    assert single == [True, False, False, False]
    frame = pl.DataFrame(rows, schema={"demo_age": pl.Int64, "demo_sex": pl.Int64})
    table = frame.with_columns(**logic.expressions(frame.columns))["demo_menopause"]
    assert table.to_list() == single


def test_rule_may_name_an_item_of_another_instrument_in_the_event(tmp_path: Path) -> None:
    raw = _raw("tx")
    _gate_thc_on(raw, {"question": "demo_sex", "operator": "=", "answer": 1})
    path = _write(tmp_path, raw)
    tx = load_definition(path)  # the other instrument's item is checked with the registry
    instruments = dict(load_instruments()) | {"tx": tx}
    check_instrument_set(instruments, {name: DEFINITIONS / f"{name}.yaml" for name in instruments})
    logic = SkipLogic([tx, instruments["demo"]])
    assert "tx_thc_mg_day" in logic.disabled_columns({"demo_sex": 2})
    assert "tx_thc_mg_day" not in logic.disabled_columns({"demo_sex": 1})
    # Answer codes are checked against the other instrument's options too.
    _gate_thc_on(raw, {"question": "demo_sex", "operator": "=", "answer": 7})
    bad = load_definition(_write(tmp_path, raw))
    with pytest.raises(DefinitionError, match=r"7 is not an answer code of demo_sex"):
        check_instrument_set(
            instruments | {"tx": bad},
            {"tx": path}
            | {name: DEFINITIONS / f"{name}.yaml" for name in instruments if name != "tx"},
        )
