"""Time to generate the synthetic survey vs a plain ``rng.normal`` fill of the same shape.

Usage: ``.venv/bin/python benchmarks/bench_synth.py [n]`` (default n = 1,000,000). Prints the
wall time of ``generate`` with and without scoring, the baseline (one float64 normal draw per
cell of the final table, put in a Polars frame) and the ratios.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import polars as pl

from fibrosurvey.synth import generate


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    started = time.perf_counter()
    unscored = generate("seed-claims", n, seed=1, score=False)
    generate_s = time.perf_counter() - started

    started = time.perf_counter()
    scored = generate("seed-claims", n, seed=1)
    scored_s = time.perf_counter() - started

    rows, columns = unscored.data.shape
    scored_width = scored.data.width
    del unscored, scored  # measure the baseline without the cohorts in memory
    started = time.perf_counter()
    rng = np.random.default_rng(1)
    block = rng.normal(size=(rows, columns))
    baseline = pl.DataFrame(block, schema=[f"c{i}" for i in range(columns)])
    baseline_s = time.perf_counter() - started
    del block, baseline

    print(f"n = {n:,}: {rows:,} rows x {columns} columns ({scored_width} with scores)")
    print(f"baseline rng.normal fill      {baseline_s:8.2f} s")
    print(
        f"generate (no scoring)         {generate_s:8.2f} s  ratio {generate_s / baseline_s:6.1f}"
    )
    print(f"generate (with score_frame)   {scored_s:8.2f} s  ratio {scored_s / baseline_s:6.1f}")


if __name__ == "__main__":
    main()
