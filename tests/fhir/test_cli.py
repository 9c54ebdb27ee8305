"""`fibrosurvey fhir export` and `fibrosurvey fhir import-response` (cli/fhir_commands.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from fhir.resources.R4B.questionnaire import Questionnaire

from fibrosurvey.cli import main
from fibrosurvey.fhir import bundle, questionnaire, questionnaire_response

DATA = Path(__file__).parent / "data"


def test_export_prints_the_questionnaire_json() -> None:
    result = CliRunner().invoke(main, ["fhir", "export", "phq9"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == questionnaire("phq9")


def test_export_in_spanish_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "gad7.json"
    result = CliRunner().invoke(
        main, ["fhir", "export", "gad7", "--language", "es", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    parsed = Questionnaire.model_validate_json(target.read_text(encoding="utf-8"))
    assert parsed.language == "es"
    assert parsed.url == "https://fibrosurvey.org/fhir/Questionnaire/gad7"


def test_export_of_an_unknown_instrument_or_language_is_a_usage_error() -> None:
    unknown = CliRunner().invoke(main, ["fhir", "export", "phq10"])
    assert unknown.exit_code == 2
    assert "unknown instrument 'phq10'; known: fsq" in unknown.output
    language = CliRunner().invoke(main, ["fhir", "export", "phq9", "--language", "fr"])
    assert language.exit_code == 2
    assert "phq9 has no language 'fr'; its languages: en, es" in language.output


def test_import_response_prints_the_row_as_json_and_notes_skipped_items() -> None:
    result = CliRunner().invoke(
        main, ["fhir", "import-response", str(DATA / "phq9_lhcforms_response.json")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "phq9_1": 1,
        "phq9_2": 2,
        "phq9_3": 0,
        "phq9_4": 3,
        "phq9_5": 1,
        "phq9_6": 0,
        "phq9_7": 2,
        "phq9_8": 1,
        "phq9_9": 0,
        "phq9_10": 1,
    }
    assert "skipped /44261-6: PHQ-9 total score" in result.stderr


def test_import_response_prints_csv(tmp_path: Path) -> None:
    resource = json.loads((DATA / "gad7_loinc_response.json").read_text(encoding="utf-8"))
    del resource["item"][0]["answer"]
    path = tmp_path / "gad7.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    result = CliRunner().invoke(main, ["fhir", "import-response", str(path), "--csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "gad7_1,gad7_2,gad7_3,gad7_4,gad7_5,gad7_6,gad7_7",
        ",3,1,0,1,2,0",
    ]


def test_import_response_that_does_not_match_exits_1_listing_the_problems(tmp_path: Path) -> None:
    resource = json.loads((DATA / "phq9_lhcforms_response.json").read_text(encoding="utf-8"))
    resource["item"][0]["item"][0]["answer"][0]["valueCoding"]["code"] = "LA9999-9"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    result = CliRunner().invoke(main, ["fhir", "import-response", str(path)])
    assert result.exit_code == 1
    assert "not one of the answer codes of phq9_1" in result.stderr
    assert "LA9999-9" in result.stderr
    assert result.stdout == ""


def test_import_response_of_a_file_that_is_not_json_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "response.json"
    path.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["fhir", "import-response", str(path)])
    assert result.exit_code == 1
    assert "is not JSON" in result.stderr


def test_import_response_with_a_named_instrument(tmp_path: Path) -> None:
    source = DATA / "gad7_loinc_response.json"
    path = tmp_path / "copy.json"
    shutil.copy(source, path)
    result = CliRunner().invoke(
        main, ["fhir", "import-response", str(path), "--instrument", "gad7"]
    )
    assert result.exit_code == 0, result.output
    unknown = CliRunner().invoke(main, ["fhir", "import-response", str(path), "--instrument", "x"])
    assert unknown.exit_code == 2


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fhir", "import-response", str(tmp_path / "none.json")])
    assert result.exit_code == 2


def test_every_fhir_command_has_help() -> None:
    for command in (["fhir"], ["fhir", "export"], ["fhir", "import-response"]):
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_import_response_of_a_bundle_prints_one_record_per_response(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    responses = [
        questionnaire_response({"gad7_1": 2}, "gad7", "Patient/P1", "2025-01-01"),
        questionnaire_response({"phq9_2": 1}, "phq9", "Patient/P2"),
    ]
    path.write_text(json.dumps(bundle(responses)), encoding="utf-8")
    result = CliRunner().invoke(main, ["fhir", "import-response", str(path), "--csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("instrument_id,subject_reference,authored,phq9_1,")
    assert lines[0].endswith(",gad7_7")
    # 10 PHQ-9 columns (phq9_1 ... phq9_10), then 7 GAD-7 columns.
    assert lines[1] == "gad7,Patient/P1,2025-01-01," + "," * 9 + ",2" + "," * 6
    assert lines[2] == "phq9,Patient/P2,,,1" + "," * 8 + "," * 7
    records = json.loads(CliRunner().invoke(main, ["fhir", "import-response", str(path)]).stdout)
    assert [(r["instrument_id"], r["subject_reference"]) for r in records] == [
        ("gad7", "Patient/P1"),
        ("phq9", "Patient/P2"),
    ]
