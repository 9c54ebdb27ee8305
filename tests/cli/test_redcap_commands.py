"""CLI: fibrosurvey redcap import / export."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from click.testing import CliRunner

from fibrosurvey.cli import main
from fibrosurvey.instruments import get_instrument, load_definition

DATA = Path(__file__).parents[1] / "data" / "redcap"
IMPORT = [
    "redcap",
    "import",
    "--dictionary",
    str(DATA / "symptom_study_dictionary.csv"),
    "--records",
    str(DATA / "symptom_study_records.csv"),
]


def test_help() -> None:
    for command in (["redcap", "--help"], ["redcap", "import", "--help"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0 and "Usage:" in result.output


def test_import_writes_the_dataset_the_long_tables_and_the_definitions(tmp_path: Path) -> None:
    out = tmp_path / "study.parquet"
    result = CliRunner().invoke(
        main, [*IMPORT, "--mapping", str(DATA / "phq9_mapping.yaml"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    wide = pl.read_parquet(out)
    assert wide.height == 4 and "phq9_1" in wide.columns
    medication = pl.read_parquet(tmp_path / "study_medication.parquet")
    assert medication["instance"].to_list() == [1, 2, 1]
    symptoms = load_definition(tmp_path / "study_instruments" / "symptoms.yaml")
    assert symptoms.item("sym___a").checkbox is not None
    assert "line 18, field upload" in result.output


def test_bad_records_exit_1_and_write_nothing(tmp_path: Path) -> None:
    records = (DATA / "symptom_study_records.csv").read_text(encoding="utf-8")
    bad = tmp_path / "records.csv"
    bad.write_text(records.replace("Pregabalin,150,", "Pregabalin,lots,"), encoding="utf-8")
    out = tmp_path / "study.parquet"
    command = [*IMPORT[:-1], str(bad), "-o", str(out)]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1
    assert "row 2, med_dose_mg: not a number (got 'lots'; allowed: number from 0 to 5000)" in (
        result.output
    )
    assert not out.exists()


def test_unreadable_dictionary_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "dd.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    command = [*IMPORT, "-o", str(tmp_path / "x.parquet")]
    command[3] = str(bad)
    assert CliRunner().invoke(main, command).exit_code == 2


def test_export_writes_a_dictionary_instruments_import_reads_back(tmp_path: Path) -> None:
    dataset = tmp_path / "study.parquet"
    imported = CliRunner().invoke(
        main, [*IMPORT, "--mapping", str(DATA / "phq9_mapping.yaml"), "-o", str(dataset)]
    )
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "redcap"
    result = CliRunner().invoke(
        main,
        [
            "redcap",
            "export",
            "--instruments",
            "phq9",
            "--definitions",
            str(tmp_path / "study_instruments"),
            "--dataset",
            str(dataset),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    records = pl.read_csv(out / "records.csv", infer_schema=False)
    repeated = records.filter(pl.col("redcap_repeat_instrument") == "medication")
    assert repeated["medication_med_name"].to_list() == [
        "Pregabalin",
        "Duloxetine",
        "Amitriptyline",
    ]
    records = records.filter(pl.col("redcap_repeat_instrument").is_null())
    assert records["phq9_9"].to_list() == ["0", "NASK", "3", None]
    assert records["redcap_event_name"].to_list()[:2] == ["baseline_arm_1", "followup_3m_arm_1"]
    back = tmp_path / "back"
    again = CliRunner().invoke(
        main, ["instruments", "import", str(out / "data_dictionary.csv"), "-o", str(back)]
    )
    assert again.exit_code == 0, again.output
    assert load_definition(back / "phq9.yaml") == get_instrument("phq9")
