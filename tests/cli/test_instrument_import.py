"""CLI: fibrosurvey instruments import (REDCap data dictionary or FHIR Questionnaire -> YAML)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fibrosurvey.cli import main
from fibrosurvey.fhir import questionnaire
from fibrosurvey.instruments import get_instrument, load_definition

DICTIONARY = Path(__file__).parents[1] / "data" / "redcap" / "symptom_study_dictionary.csv"


def test_help() -> None:
    result = CliRunner().invoke(main, ["instruments", "import", "--help"])
    assert result.exit_code == 0 and "Exit codes" in result.output


def test_listing_still_works_without_a_subcommand() -> None:
    result = CliRunner().invoke(main, ["instruments"])
    assert result.exit_code == 0 and "phq9" in result.output


def test_redcap_dictionary_with_refusals_exits_1_and_writes_the_rest(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["instruments", "import", str(DICTIONARY), "-o", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    written = sorted(path.name for path in tmp_path.glob("*.yaml"))
    assert written == [
        "depressionscreen.yaml",
        "enrolment.yaml",
        "medication.yaml",
        "symptoms.yaml",
    ]
    symptoms = load_definition(tmp_path / "symptoms.yaml")
    assert symptoms.item("sym___a").checkbox is not None
    assert "line 14, field older: branching logic refused" in result.output
    assert "line 18, field upload" in result.output


def test_clean_dictionary_exits_0(tmp_path: Path) -> None:
    lines = DICTIONARY.read_text(encoding="utf-8-sig").splitlines()
    kept = [line for line in lines if not line.startswith(("older,", "any_sum,", "upload,"))]
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join(kept) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["instruments", "import", str(clean), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "everything converted" in result.output


def test_fhir_questionnaire_is_read_through_the_fhir_reader(tmp_path: Path) -> None:
    source = tmp_path / "gad7.json"
    source.write_text(json.dumps(questionnaire("gad7")), encoding="utf-8")
    result = CliRunner().invoke(main, ["instruments", "import", str(source), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    read = load_definition(tmp_path / "gad7.yaml")
    assert [item.id for item in read.items] == [item.id for item in get_instrument("gad7").items]


def test_fhir_questionnaire_with_an_unreadable_item_exits_1(tmp_path: Path) -> None:
    resource = {
        "resourceType": "Questionnaire",
        "name": "mixed",
        "item": [
            {"linkId": "photo", "type": "attachment", "text": "A photo"},
            {"linkId": "age", "type": "integer", "text": "Age"},
        ],
    }
    source = tmp_path / "mixed.json"
    source.write_text(json.dumps(resource), encoding="utf-8")
    result = CliRunner().invoke(main, ["instruments", "import", str(source), "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "photo" in result.output and "attachment" in result.output
    assert [item.id for item in load_definition(tmp_path / "mixed.yaml").items] == ["age"]


def test_unreadable_files_exit_2_and_write_nothing(tmp_path: Path) -> None:
    bad_csv = tmp_path / "notes.csv"
    bad_csv.write_text("name,age\nx,3\n", encoding="utf-8")
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{not json", encoding="utf-8")
    out = tmp_path / "out"
    for source in (bad_csv, bad_json, tmp_path / "missing.csv"):
        result = CliRunner().invoke(main, ["instruments", "import", str(source), "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert "Nothing was written" in result.output
    assert not out.exists()
