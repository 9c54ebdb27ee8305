"""REDCap benchmark: converting a large data dictionary and importing a large flat export.

A synthetic project: FIELDS radio fields (codes 0-2) in forms of 50, most gated by branching
logic of three comparisons (``[a] = '1' and ([b] <> '0' or [c] = '')``), and RECORDS records of
one event with every field answered. It prints:

- the dictionary read and conversion time (the pyparsing parse of each logic included);
- the records import time (missing codes, checks of every cell, typing, the wide table);
- a baseline measured in the same run on the same CSV text: polars reading it and casting every
  column to integers once, i.e. what any importer has to do at least, and the ratio.

Run: ``.venv/bin/python -m benchmarks.bench_redcap [--fields 1000] [--records 20000]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time

import polars as pl

from fibrosurvey.redcap import dictionary_to_instruments, import_records, read_data_dictionary
from fibrosurvey.redcap.dictionary import CSV_COLUMNS


def _project(fields: int, records: int) -> tuple[str, str]:
    random.seed(1)
    rows = [["record_id", "f0", "", "text", "ID"] + [""] * 13]
    names = [f"q{i}" for i in range(fields)]
    for i, name in enumerate(names):
        gated = i % 50 >= 3
        logic = f"[q{i - 1}] = '1' and ([q{i - 2}] <> '0' or [q{i - 3}] = '')" if gated else ""
        choices = "0, No | 1, Yes | 2, Maybe"
        cells = [name, f"f{i // 50}", "", "radio", f"Q {i}", choices, "", "", "", "", "", logic]
        rows.append(cells + [""] * 6)
    dictionary = io.StringIO()
    csv.writer(dictionary).writerows([list(CSV_COLUMNS), *rows])
    data = io.StringIO()
    writer = csv.writer(data)
    writer.writerow(["record_id", "redcap_event_name", *names])
    for record in range(records):
        answers = [random.choice("012") for _ in names]
        writer.writerow([str(record), "baseline_arm_1", *answers])
    return dictionary.getvalue(), data.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, default=1000)
    parser.add_argument("--records", type=int, default=20_000)
    arguments = parser.parse_args()
    dictionary_text, records_text = _project(arguments.fields, arguments.records)
    started = time.perf_counter()
    dictionary = read_data_dictionary(dictionary_text)
    read = time.perf_counter() - started
    started = time.perf_counter()
    result = dictionary_to_instruments(dictionary)
    converted = time.perf_counter() - started
    gated = sum(item.gated for i in result.instruments for item in i.items)
    print(
        f"dictionary: {arguments.fields} fields ({gated} gated) read {read:.2f} s, "
        f"converted {converted:.2f} s, {len(result.refusals)} refused"
    )
    started = time.perf_counter()
    dataset = import_records(dictionary, records_text)
    imported = time.perf_counter() - started
    started = time.perf_counter()
    baseline = pl.read_csv(io.StringIO(records_text), infer_schema=False)
    baseline = baseline.select(pl.exclude("redcap_event_name").cast(pl.Int64))
    floor = time.perf_counter() - started
    print(
        f"records: {arguments.records} x {arguments.fields} imported in {imported:.2f} s "
        f"-> {dataset.wide.shape}; baseline (read + cast every column) {floor:.2f} s; "
        f"ratio {imported / floor:.1f}x"
    )


if __name__ == "__main__":
    main()
