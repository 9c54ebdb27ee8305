"""The synthetic survey as partitioned Parquet, written chunk by chunk with bounded memory.

A partitioned dataset of ``n`` participants is ``K = ceil(n / chunk)`` independent replicate
samples of the same population, each drawn by :func:`.generate` with its own seed stream
(``[seed, k]``) and written to ``DIR/chunk=<k>/part.parquet`` (Hive layout: ``chunk`` becomes a
column for DuckDB, Spark and Polars). Pooling replicates keeps the design valid:

* PSU codes get the chunk number on top (``k * 10^6 + county``), so clusters of different
  replicates never merge;
* ``design_weight`` is divided by ``K``: every replicate estimates the whole population;
* ``design_fpc`` is multiplied by ``K``: replicate ``k`` drew its counties from its own copy of
  the population, so the pooled stratum has ``K N_h`` population PSUs;
* ``participant_id`` is numbered across chunks.

Only one chunk is in memory at a time (about 0.5 GB per 100,000 participants).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl

from fibrosurvey.synth.generator import generate

__all__ = ["write_partitioned"]

PSU_CHUNK_FACTOR = 1_000_000  # synth PSU codes are stratum * 10^4 + county < 10^6


def write_partitioned(
    scenario: str,
    n: int,
    seed: int,
    folder: Path,
    chunk_participants: int,
    progress: Callable[[int, int, int], None] | None = None,
) -> dict[str, object]:
    """Write ``n`` participants to ``folder`` in chunks; returns the manifest it writes.

    ``progress(chunk, chunks, rows_so_far)`` is called after each chunk. An existing folder is
    refused unless it is empty, so no stale chunk is ever mixed in.
    """
    if chunk_participants < 1:
        raise ValueError(f"chunk size must be at least 1 participant, got {chunk_participants}")
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} exists and is not empty; choose a new folder")
    chunks = math.ceil(n / chunk_participants)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    rows = 0
    truth: dict[str, object] = {}
    for k in range(chunks):
        size = min(chunk_participants, n - k * chunk_participants)
        result = generate(scenario, size, seed if chunks == 1 else _chunk_seed(seed, k))
        frame = _pooled(result.data, k, chunks, k * chunk_participants)
        target = staging / f"chunk={k}"
        target.mkdir()
        frame.write_parquet(target / "part.parquet", statistics=True)
        rows += frame.height
        if k == 0:
            truth = result.truth
        del result, frame
        if progress is not None:
            progress(k + 1, chunks, rows)
    manifest = {
        "format": "fibrosurvey-partitioned/1",
        "scenario": scenario,
        "seed": seed,
        "participants": n,
        "rows": rows,
        "chunks": chunks,
        "chunk_participants": chunk_participants,
        "layout": "chunk=<k>/part.parquet",
        "pooling": "independent replicate samples: psu + chunk * 1e6, weight / chunks, "
        "fpc * chunks",
        "truth_of_chunk_0": truth,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    if folder.exists():
        folder.rmdir()
    staging.rename(folder)
    return manifest


def _chunk_seed(seed: int, chunk: int) -> int:
    # Distinct, reproducible seeds per chunk within generate()'s int interface.
    return seed * 100_003 + chunk + 1


def _pooled(frame: pl.DataFrame, chunk: int, chunks: int, first_participant: int) -> pl.DataFrame:
    number = pl.col("participant_id").str.slice(1).cast(pl.Int64) + first_participant
    return frame.with_columns(
        ("P" + number.cast(pl.String).str.zfill(9)).alias("participant_id"),
        (pl.col("design_psu").cast(pl.Int64) + chunk * PSU_CHUNK_FACTOR).alias("design_psu"),
        (pl.col("design_weight") / chunks).alias("design_weight"),
        (pl.col("design_fpc").cast(pl.Int64) * chunks).alias("design_fpc"),
    )
