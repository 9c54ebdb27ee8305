"""Analysis benchmark: the full default plan (C0-C4 with sensitivity analyses) at 5k, 100k, 1M.

Each size runs in a fresh child process, so the peak resident memory (``ru_maxrss``) is that
size's own. For each size it prints:

- data generation time (synthetic survey, scored; not part of the analysis figure);
- the analysis time: ``run_plan`` on the default plan, including multiple imputation, the
  slow-processing re-analysis, IPW, design-based estimates and the report's descriptions,
  plus writing the HTML report;
- where the time goes (the runner's per-stage timings);
- peak memory of the child process;
- a baseline measured in the same child on the same data: one plain NumPy pass over every
  column the plan reads (mean, SD and an argsort, i.e. what ranking once costs), and the ratio.

Run: ``.venv/bin/python -m benchmarks.bench_analysis [--sizes 5000,100000,1000000]
[--imputations M]``. Targets: demo size <= 30 s; 100k <= 60 s and <= 4 GB; 1M <= 10 min.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_SIZES = (5_000, 100_000, 1_000_000)


def _child(size: int, imputations: int | None) -> dict[str, object]:
    import polars as pl

    from fibrosurvey.analysis import load_plan, run_plan
    from fibrosurvey.analysis.derive import apply_derivations
    from fibrosurvey.report import write_report
    from fibrosurvey.synth import generate

    started = time.perf_counter()
    data = generate("seed-claims", size, 20261123).data
    generation = time.perf_counter() - started

    plan = load_plan()
    # Baseline: one NumPy pass over every numeric column the plan reads.
    derived = apply_derivations(data, plan)
    columns = sorted({c for _, c in plan.column_references()} | {d.name for d in plan.derive})
    numeric = [c for c in columns if c in derived.columns and derived.schema[c].is_numeric()]
    matrix = derived.select(pl.col(numeric).cast(pl.Float64)).to_numpy()
    tick = time.perf_counter()
    np.nanmean(matrix, axis=0)
    np.nanstd(matrix, axis=0)
    np.argsort(matrix, axis=0)
    baseline = time.perf_counter() - tick
    del matrix, derived

    tick = time.perf_counter()
    cpu = time.process_time()
    results = run_plan(data, plan, imputations=imputations)
    with tempfile.TemporaryDirectory() as folder:
        write_report(results, Path(folder) / "report.html")
    analysis = time.perf_counter() - tick
    analysis_cpu = time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "size": size,
        "rows": data.height,
        "generation_s": generation,
        "analysis_s": analysis,
        "analysis_cpu_s": analysis_cpu,
        "baseline_s": baseline,
        "peak_mib": peak_kib / 1024,
        "imputations": results.provenance["imputations"],
        "stages": results.provenance["timings_seconds"],
        "verdicts": {c.id: c.verdict for c in results.claims},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--imputations", type=int, default=None)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.imputations)))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, "-m", "benchmarks.bench_analysis", "--child", str(size)]
        if args.imputations is not None:
            command += ["--imputations", str(args.imputations)]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"n = {size:,}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"n = {r['size']:>9,} participants ({r['rows']:,} rows): "
            f"analysis {r['analysis_s']:.1f} s "
            f"(CPU {r['analysis_cpu_s']:.1f} s), peak memory {r['peak_mib']:.0f} MiB, "
            f"baseline NumPy pass {r['baseline_s']:.2f} s -> ratio "
            f"{r['analysis_s'] / max(r['baseline_s'], 1e-9):.0f}x; "
            f"data generation {r['generation_s']:.1f} s; imputations {r['imputations']}"
        )
        stages = sorted(r["stages"].items(), key=lambda kv: -kv[1])
        print("    where the time goes: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages[:8]))
        print(f"    verdicts: {r['verdicts']}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
