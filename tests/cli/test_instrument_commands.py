"""The instrument and table commands, run as a user runs them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.cli import main
from fibrosurvey.scoring import score_frame
from fibrosurvey.tables import coerce_items, read_table

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = EXAMPLES / "baseline_survey.csv"
BAD = EXAMPLES / "baseline_survey_with_errors.csv"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("command", [[], ["instruments"], ["template"], ["validate"], ["score"]])
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_instruments_lists_the_battery(runner: CliRunner) -> None:
    result = runner.invoke(main, ["instruments"])
    assert result.exit_code == 0
    for instrument_id in ("fsq", "fiqr", "phq9", "gad7", "pgic"):
        assert instrument_id in result.output


def test_template_prints_header_then_dictionary(runner: CliRunner) -> None:
    result = runner.invoke(main, ["template", "--instruments", "phq9,gad7"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["participant_id", "event", "phq9_1"]
    assert header[-1] == "gad7_7" and len(header) == 2 + 10 + 7  # PHQ-9 has 10 items
    assert "phq9_total,phq9,score" in result.output


def test_unknown_instrument_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["template", "--instruments", "phq10"])
    assert result.exit_code == 2
    assert "fibrosurvey instruments" in result.output


def test_validate_accepts_the_example(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(GOOD)])
    assert result.exit_code == 0, result.output
    assert "40 rows valid" in result.output


def test_validate_reports_row_column_value_and_allowed(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", str(BAD)])
    assert result.exit_code == 1
    output = result.output
    assert "3 problem(s) in 40 row(s)" in output
    for expected in ("phq9_3", "fiqr_14", "tired", "demo_height_cm", "300", "100 to 250"):
        assert expected in output


def test_validate_missing_file_says_so(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_malformed_csv_is_an_error_not_a_crash(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"phq9_1,phq9_2\n\xff\xfe,1\n")
    result = runner.invoke(main, ["validate", str(broken)])
    assert result.exit_code == 1
    assert "UTF-8" in result.output


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_keeps_input_and_adds_scores(runner: CliRunner, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"scored{suffix}"
    result = runner.invoke(main, ["score", str(GOOD), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    original = read_table(GOOD)
    assert written.columns[: original.width] == original.columns
    expected = score_frame(coerce_items(original))
    for column in ("fsq_acr2016", "fiqr_total", "phq9_total", "gad7_band", "demo_bmi"):
        assert written[column].to_list() == pytest.approx(expected[column].to_list()) or (
            written[column].to_list() == expected[column].to_list()
        )
    assert written["scoring_versions"][0].startswith("fsq@1.1.0;fiqr@1.0.0")
    if suffix == ".parquet":
        metadata = pl.read_parquet_metadata(out)
        assert "phq9@1.1.0" in metadata["fibrosurvey_scoring_versions"]
    else:
        assert (tmp_path / "scored.csv.meta.json").exists()


def test_score_refuses_invalid_input_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "scored.csv"
    result = runner.invoke(main, ["score", str(BAD), "-o", str(out)])
    assert result.exit_code == 1
    assert not out.exists()


def test_score_needs_a_known_output_type(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["score", str(GOOD), "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2
