"""User YAML (analysis plans, instrument definitions) goes through one loader that refuses
anchors and aliases before anything is expanded and caps size and depth: a 1 KB alias bomb is
refused in milliseconds with a message saying what to do, and the database is unchanged."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fibrosurvey.analysis import PlanError, parse_plan
from fibrosurvey.analysis.plan import default_plan_text
from fibrosurvey.instruments import load_definition
from fibrosurvey.instruments.registry import DefinitionError
from tests.web.security.test_hostile_body_linear import at_most


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level a list of ``width`` aliases of the level before."""
    lines = ["plan_version: 1", 'title: &l0 "lol"']
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"x{level}: &l{level} [{aliases}]")
    lines.append(f"claims: *l{levels}")
    return "\n".join(lines) + "\n"


BOMB = alias_bomb()


def test_the_bomb_is_about_1_kb():
    assert 300 < len(BOMB.encode()) < 1024


def test_a_1_kb_alias_bomb_plan_is_refused_in_under_100_ms_naming_the_construct():
    with at_most(5):
        start = time.perf_counter()
        with pytest.raises(PlanError) as caught:
            parse_plan(BOMB, "bomb.yaml")
        seconds = time.perf_counter() - start
    message = str(caught.value)
    assert message.startswith("bomb.yaml line 2:")
    assert "anchors and aliases (&name, *name) are not accepted" in message
    assert "write each value out in full" in message
    assert seconds < 0.1, seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plan_version: 1\ntitle: &t x\n", "line 2: YAML anchors and aliases"),
        ("plan_version: 1\nclaims:\n  - *undefined\n", "line 3: YAML anchors and aliases"),
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested deeper than 64 levels"),
        ("a: [" + ",".join(["1"] * 60_000) + "]\n", "more than 10000 YAML values"),
        ("<<: *base\n", "anchors and aliases"),
    ],
    ids=["anchor alone", "alias", "10,000 levels", "60,000 values", "merge key"],
)
def test_hostile_plan_yaml_is_a_plan_error_saying_why(text, expected):
    with at_most(5), pytest.raises(PlanError, match=expected):
        parse_plan(text, "hostile.yaml")


def test_a_plan_just_under_the_value_cap_with_thousands_of_errors_is_refused_quickly():
    text = "".join(f"key_{i}: 1\n" for i in range(4_900))  # 9,800 values: under the cap
    with at_most(10):
        start = time.perf_counter()
        with pytest.raises(PlanError) as caught:
            parse_plan(text, "many.yaml")
        seconds = time.perf_counter() - start
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 + 20 + 1 and lines[-1].strip().startswith("... and ")
    assert seconds < 2.0, seconds  # ~0.2 s; 20 hints, not 4,900


def test_the_default_plan_still_parses():
    plan = parse_plan(default_plan_text(), "default")
    assert plan.claims


def test_an_instrument_definition_with_an_alias_bomb_is_a_definition_error(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB.replace("plan_version: 1", "id: bomb"), encoding="utf-8")
    with at_most(5):
        start = time.perf_counter()
        with pytest.raises(DefinitionError, match="anchors and aliases"):
            load_definition(path)
    assert time.perf_counter() - start < 0.1


def test_an_instrument_whose_shared_option_set_expands_too_far_is_refused(tmp_path: Path):
    options = "\n".join(f"    - {{code: {i}, label: {{en: o{i}}}}}" for i in range(300))
    items = "\n".join(f"  - {{id: q{i}, option_set: big}}" for i in range(300))
    path = tmp_path / "wide.yaml"
    path.write_text(
        f"id: wide\noption_sets:\n  big:\n{options}\nitems:\n{items}\n", encoding="utf-8"
    )
    with at_most(5), pytest.raises(DefinitionError, match="expand to more than 10000 options"):
        load_definition(path)


def test_an_uploaded_alias_bomb_plan_is_a_400_naming_the_line_and_nothing_is_stored(
    login, study, fingerprint
):
    client = login("anna")
    client.get(reverse("analyses:index", args=[study.pk]))  # warm: templates, URL conf
    before = fingerprint()
    upload = SimpleUploadedFile("bomb.yaml", BOMB.encode(), content_type="application/x-yaml")
    with at_most(5):
        start = time.perf_counter()
        response = client.post(reverse("analyses:run", args=[study.pk]), {"plan": upload})
        seconds = time.perf_counter() - start
    assert response.status_code == 400
    assert "bomb.yaml line 2: YAML anchors and aliases" in response.content.decode()
    assert fingerprint() == before
    assert seconds < 1.0, seconds
