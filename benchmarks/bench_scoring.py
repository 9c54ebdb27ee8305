"""Scoring benchmark: the full battery for 1,000,000 synthetic respondents.

In one run it times three things on the same data (about 5% of items missing):
- our engine (``score_frame``);
- a straightforward per-respondent Python scorer (the test oracle in
  ``tests/scoring/naive_scoring.py``), timed on a subsample and scaled to the full size,
  since running it on all rows would take minutes;
- the floor: a plain NumPy row-sum over the same item matrix.

Run: ``.venv/bin/python -m benchmarks.bench_scoring [--rows N]`` (or ``make bench``).
Targets: <= 3 s for 1M rows, >= 100x the per-respondent version, within 10x of the floor,
peak memory <= 3 GB.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl
from tests.scoring.naive_scoring import score_row

from fibrosurvey.instruments import get_instrument
from fibrosurvey.scoring import score_frame

BATTERY = [
    "fsq",
    "fiqr",
    "phq9",
    "gad7",
    "jss",
    "peg",
    "nrs",
    "migraine",
    "ibs",
    "dx",
    "tx",
    "demo",
]
SCORED = ["fsq", "fiqr", "phq9", "gad7", "jss", "peg", "migraine", "ibs", "demo"]
MISSING = 0.05


def synthetic_battery(rows: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    columns = {}
    for instrument_id in BATTERY:
        for item in get_instrument(instrument_id).items:
            if item.kind == "choice":
                values = rng.choice(np.array(item.codes), size=rows).astype(np.float64)
            else:
                assert item.minimum is not None and item.maximum is not None
                values = rng.integers(int(item.minimum), int(item.maximum) + 1, size=rows)
                values = values.astype(np.float64)
            values[rng.random(rows) < MISSING] = np.nan
            series = pl.Series(item.column, values, nan_to_null=True)
            columns[item.column] = series if item.kind == "number" else series.cast(pl.Int64)
    return pl.DataFrame(columns)


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def row_sum_floor(items: pl.DataFrame) -> float:
    """Seconds for a plain NumPy row-sum over the same items: one pass over the memory."""
    matrix = np.ascontiguousarray(items.to_numpy(), dtype=np.float64)
    return best_of(3, lambda: matrix.sum(axis=1))


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    arguments = parser.parse_args()
    rows = arguments.rows

    frame = synthetic_battery(rows)
    item_columns = [c for i in SCORED for c in get_instrument(i).item_columns()]
    print(f"{rows:,} respondents, {frame.width} item columns, {MISSING:.0%} missing")

    engine = best_of(3, lambda: score_frame(frame, SCORED))

    floor = row_sum_floor(frame.select(item_columns))

    sample = frame.head(arguments.naive_rows)
    records = sample.to_dicts()
    naive_sample = best_of(1, lambda: [score_row(record) for record in records])
    naive = naive_sample * rows / sample.height

    # The baseline must compute the same scores, or the comparison means nothing.
    ours = score_frame(sample, SCORED).to_dicts()
    theirs = [score_row(record) for record in records]
    for our_row, their_row in zip(ours, theirs, strict=True):
        for column, value in their_row.items():
            mine = our_row[column]
            same = (
                mine == value
                if value is None or isinstance(value, str)
                else abs(mine - value) < 1e-9
            )
            assert same, (column, mine, value)

    print(f"engine (score_frame)          {engine:8.3f} s")
    print(
        f"per-respondent Python         {naive:8.3f} s  "
        f"(measured {naive_sample:.2f} s on {sample.height:,} rows, scaled)"
    )
    print(f"floor (NumPy row-sum)         {floor:8.3f} s")
    print(f"speed-up over per-respondent  {naive / engine:8.1f} x   (target >= 100 x)")
    print(f"engine / floor                {engine / floor:8.1f} x   (target <= 10 x)")
    print(f"peak memory                   {peak_rss_gb():8.2f} GB  (target <= 3 GB)")


if __name__ == "__main__":
    main()
