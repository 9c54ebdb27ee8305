"""Near-identical answer check: a batch of newly completed participants against every earlier
one, as the open-recruitment quality assessment runs it.

Prints the time of ``earlier_near_duplicates`` (one matrix, each new row compared with the rows
before it) and the baseline measured in the same run: ``near_duplicates`` called once per new
participant (a matrix rebuilt each time), on the same data; and the ratio.

Run: ``.venv/bin/python -m benchmarks.bench_duplicates [--earlier 10000] [--new 200]
[--items 150]``.
"""

from __future__ import annotations

import argparse
import random
import time

from fibrosurvey.recruitment import earlier_near_duplicates, near_duplicates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--earlier", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=200)
    parser.add_argument("--items", type=int, default=150)
    args = parser.parse_args()
    rng = random.Random(2026)
    columns = [f"item{i}" for i in range(args.items)]
    total = args.earlier + args.new
    vectors = [(key, {c: rng.randint(0, 4) for c in columns}) for key in range(total)]
    copy_of = 17
    vectors[args.earlier + 3] = (args.earlier + 3, dict(vectors[copy_of][1]))  # one copy

    start = time.perf_counter()
    found = earlier_near_duplicates(vectors, args.earlier)
    batch = time.perf_counter() - start

    start = time.perf_counter()
    baseline_found = {}
    for row in range(args.earlier, total):
        key, vector = vectors[row]
        hits = near_duplicates(vector, dict(vectors[:row]))
        if hits:
            baseline_found[key] = hits[0]
    baseline = time.perf_counter() - start

    assert found == baseline_found == {args.earlier + 3: copy_of}, (found, baseline_found)
    print(
        f"{args.new} new vs {args.earlier} earlier participants x {args.items} items: "
        f"{batch:.2f} s (per new participant {1000 * batch / args.new:.1f} ms); "
        f"baseline, a matrix per participant: {baseline:.2f} s; ratio {baseline / batch:.1f}x"
    )


if __name__ == "__main__":
    main()
