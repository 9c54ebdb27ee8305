"""``synth --partitioned`` and ``estimate --engine`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from fibrosurvey.cli import main

DESIGN = [
    "--weights", "design_weight", "--strata", "design_stratum", "--psu", "design_psu",
    "--fpc", "design_fpc",
]  # fmt: skip


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "survey"
    args = ["synth", "--scenario", "seed-claims", "--n", "2500", "--seed", "3",
            "--partitioned", str(folder), "--chunk-rows", "1000"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return folder


def test_synth_partitioned_writes_pooled_replicate_chunks(partitioned: Path) -> None:
    manifest = json.loads((partitioned / "manifest.json").read_text())
    assert (manifest["chunks"], manifest["participants"]) == (3, 2500)
    files = sorted(partitioned.glob("chunk=*/part.parquet"))
    assert [f.parent.name for f in files] == ["chunk=0", "chunk=1", "chunk=2"]
    data = pl.scan_parquet(files, hive_partitioning=True).collect()
    assert data.height == manifest["rows"]
    baseline = data.filter(pl.col("event") == "baseline")
    assert baseline.height == 2500
    assert baseline["participant_id"].n_unique() == 2500
    # Clusters of different replicates never merge, and each replicate's weights carry 1/3.
    chunks_per_psu = data.group_by("design_psu").agg(pl.col("chunk").n_unique())
    assert chunks_per_psu["chunk"].max() == 1
    per_chunk = baseline.group_by("chunk").agg(pl.col("design_weight").sum())["design_weight"]
    assert per_chunk.to_list() == pytest.approx([7_000_000 / 3] * 3, rel=1e-9)


def test_synth_partitioned_refuses_a_folder_with_data(tmp_path: Path) -> None:
    (tmp_path / "old.parquet").write_bytes(b"x")
    args = ["synth", "--scenario", "null", "--n", "50", "--partitioned", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "exists and is not empty" in result.output


def _estimate(folder: Path, engine: str, variable: str) -> dict[str, object]:
    args = ["estimate", str(folder), "--var", variable, *DESIGN, "--event", "baseline",
            "--engine", engine, "--json"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize(
    ("engine", "variable"),
    [("duckdb", "fiqr_total"), ("duckdb", "fsq_acr2016"),
     pytest.param("spark", "fiqr_total", marks=pytest.mark.spark)],
)  # fmt: skip
def test_estimate_engine_gives_the_memory_numbers_on_partitioned_parquet(
    partitioned: Path, engine: str, variable: str
) -> None:
    expected = _estimate(partitioned, "memory", variable)
    actual = _estimate(partitioned, engine, variable)
    assert actual["kind"] == expected["kind"]
    for field in ("estimate", "se", "ci_low", "ci_high"):
        assert actual[field] == pytest.approx(expected[field], rel=1e-9), field
    assert actual["n"] == expected["n"]


def test_estimate_engine_refuses_options_only_memory_has(partitioned: Path) -> None:
    args = ["estimate", str(partitioned), "--var", "fiqr_total", *DESIGN, "--by", "demo_sex",
            "--engine", "duckdb"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "--by need --engine memory" in result.output
