"""Engine benchmark: design-based estimates on memory, DuckDB and Spark at 10^6-10^8 rows.

For each size it writes (once, then reuses) a partitioned Parquet dataset with the synthetic
survey's design (:func:`fibrosurvey.synth.design.draw_design`: 9 strata, PPS-drawn counties as
PSUs, stage-1 fpc) in independent replicate chunks of 10^6 rows pooled as ``synth --partitioned``
does, plus a continuous outcome ``y`` (10% missing) and a 0/1 outcome ``flag``. Lean columns keep
generation at seconds per 10^6 rows; the engines read only the columns they need either way.

Each measurement runs in a fresh process (peak memory = that process's max RSS):
- floor: a plain DuckDB ``SELECT sum(...)`` scan over the same columns, in the same run;
- design: mean and total of ``y`` and the proportion of ``flag`` (R ``svymean``/``svytotal``/
  ``svyciprop``) with strata, PSUs and fpc, on each engine;
- glm: a linear and a logistic ``svyglm`` on two predictors (the shape of the plan's C1-C3
  models: sufficient statistics, one scan per Newton step, then the score variance).

It prints rows/s, peak memory, the ratio to the floor and the growth exponent ``b`` of
``time ~ rows^b`` between the sizes. Targets (issue 15): DuckDB <= 4 GB at every size, design
estimates within 5x the floor, ``b`` close to 1.

Run: ``.venv/bin/python -m benchmarks.bench_engines --rows 1000000,10000000``
(``--engines memory,duckdb,spark``, ``--spark-max-rows`` limits Spark to the small sizes,
``--dir`` keeps the data between runs).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

CHUNK_ROWS = 1_000_000
DESIGN = {
    "weights": "design_weight",
    "strata": ("design_stratum",),
    "psu": ("design_psu",),
    "fpc": ("design_fpc",),
}
FLOOR_COLUMNS = ("design_weight", "design_stratum", "design_psu", "design_fpc", "y", "flag")


def write_dataset(folder: Path, rows: int, seed: int = 1) -> None:
    """``rows`` rows as ``chunk=<k>/part.parquet``, one replicate design sample per chunk."""
    from fibrosurvey.synth.design import draw_design

    chunks = math.ceil(rows / CHUNK_ROWS)
    staging = folder.with_name(folder.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    for k in range(chunks):
        n = min(CHUNK_ROWS, rows - k * CHUNK_ROWS)
        rng = np.random.default_rng([seed, k])
        design = draw_design(rng, n)
        y = rng.normal(40 + 2 * design.stratum, 12, n)
        frame = pl.DataFrame(
            {
                "design_stratum": design.stratum.astype(np.int16),
                "design_psu": design.psu.astype(np.int64) + k * 1_000_000,
                "design_weight": design.weight / chunks,
                "design_fpc": design.fpc.astype(np.int64) * chunks,
                "y": pl.Series(y).set(pl.Series(rng.random(n) < 0.1), None),
                "flag": (rng.random(n) < 0.2 + 0.02 * design.stratum).astype(np.float64),
                "x1": rng.normal(0, 1, n),
                "x2": rng.integers(0, 2, n).astype(np.float64),
            }
        )
        target = staging / f"chunk={k}"
        target.mkdir(exist_ok=True)
        frame.write_parquet(target / "part.parquet")
    staging.rename(folder)


def measure(task: str, engine: str, source: Path) -> dict[str, float]:
    """Run one task here; returns seconds and this process's peak memory (MB)."""
    import duckdb

    from fibrosurvey.engines import DesignColumns, Estimand, estimate
    from fibrosurvey.engines.glm import glm

    started = time.perf_counter()  # after the imports: they are not the query's cost
    if task == "floor":
        connection = duckdb.connect()
        connection.execute("SET memory_limit = '4GB'")
        sums = ", ".join(f"sum({c})" for c in FLOOR_COLUMNS)
        connection.execute(
            f"SELECT {sums} FROM read_parquet('{source}/**/*.parquet', hive_partitioning = true)"
        ).fetchall()
    else:
        design = DesignColumns(**DESIGN)  # type: ignore[arg-type]
        wanted = [Estimand("mean", "y"), Estimand("total", "y"), Estimand("proportion", "flag")]
        options = {"memory_limit": "4GB"} if engine == "duckdb" else {}
        if engine == "spark":
            from fibrosurvey.engines.backends import spark_session

            spark_session()  # JVM start-up is not part of the estimate's cost
            started = time.perf_counter()
        if task == "design":
            estimate(source, design, wanted, engine, **options)
        else:  # linear and logistic svyglm on two predictors
            glm(source, design, "y", ["x1", "x2"], "gaussian", engine, **options)
            glm(source, design, "flag", ["x1", "x2"], "binomial", engine, **options)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def _in_child(task: str, engine: str, source: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.bench_engines", "--measure", task,
               "--engine", engine, "--source", str(source)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--engines", default="memory,duckdb,spark")
    parser.add_argument("--tasks", default="design,glm")
    parser.add_argument("--spark-tasks", default="design", help="Spark: these tasks only")
    parser.add_argument("--spark-max-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-max-rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/fibrosurvey-bench-engines"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.engine, args.source)))
        return
    sizes = [int(float(v)) for v in args.rows.split(",")]
    engines = args.engines.split(",")
    results: dict[tuple[str, int], float] = {}
    print(f"{'rows':>12} {'engine':>7} {'task':>7} {'seconds':>9} {'rows/s':>12} "
          f"{'peak MB':>9} {'x floor':>8}")  # fmt: skip
    for rows in sizes:
        source = args.dir / f"rows_{rows}"
        if not source.exists():
            started = time.perf_counter()
            write_dataset(source, rows)
            print(f"# wrote {source} in {time.perf_counter() - started:.1f} s")
        floor = _in_child("floor", "duckdb", source)
        results[("floor", rows)] = floor["seconds"]
        print(f"{rows:>12,} {'duckdb':>7} {'floor':>7} {floor['seconds']:>9.2f} "
              f"{rows / floor['seconds']:>12,.0f} {floor['peak_mb']:>9.0f} "
              f"{1.0:>8.2f}")  # fmt: skip
        for engine in engines:
            limit = {"spark": args.spark_max_rows, "memory": args.memory_max_rows}.get(engine)
            if limit is not None and rows > limit:
                continue
            for task in args.tasks.split(","):
                if engine == "spark" and task not in args.spark_tasks.split(","):
                    continue
                run = _in_child(task, engine, source)
                results[(f"{engine} {task}", rows)] = run["seconds"]
                print(f"{rows:>12,} {engine:>7} {task:>7} {run['seconds']:>9.2f} "
                      f"{rows / run['seconds']:>12,.0f} {run['peak_mb']:>9.0f} "
                      f"{run['seconds'] / floor['seconds']:>8.2f}", flush=True)  # fmt: skip
    for name in sorted({e for e, _ in results}):
        measured = sorted((n, t) for (e, n), t in results.items() if e == name)
        if len(measured) >= 2:
            n = np.log([m[0] for m in measured])
            t = np.log([m[1] for m in measured])
            exponent = float(np.polyfit(n, t, 1)[0])
            print(f"# growth exponent {name}: time ~ rows^{exponent:.2f} "
                  f"({measured[0][0]:,} to {measured[-1][0]:,} rows)")  # fmt: skip


if __name__ == "__main__":
    main()
