"""Export benchmark: the de-identified analysis dataset of 100,000 participants from PostgreSQL.

Setup (once; ``--reuse`` keeps it): a database ``fibrosurvey_bench`` on the local server is
migrated and a template study is filled with the synthetic cohort (``fibrosurvey.synth``) by
``fibrosurvey.web.cohort.load_cohort``: participants, complete responses (answers as
JSON), design variables, lab samples and results.

Each measurement runs in a fresh child process, so its peak resident memory (``ru_maxrss``)
is its own:

- ``baseline``: ``COPY (SELECT ...) TO STDOUT`` of the same rows the export reads (every
  response's participant code, event and answers JSON, plus every lab result), streamed and
  discarded: what merely moving the data out of PostgreSQL costs;
- ``csv``: the streamed CSV export (``csv_chunks``: chunked reads, core scoring per chunk,
  formula neutralisation), bytes counted and discarded;
- ``parquet``: the Parquet export (one row group per chunk into a temporary file).

Prints seconds, peak memory, rows/s and the ratio to the baseline.

Run: ``.venv/bin/python -m benchmarks.bench_export [--participants 100000] [--reuse]
[--chunk 2000]``. Needs PostgreSQL (``BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/fibrosurvey_bench; the database is created if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from urllib.parse import urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fibrosurvey_bench"
STUDY_NAME = "Export benchmark"


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fibrosurvey.web.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def _ensure_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str, participants: int, reuse: bool) -> int:
    """Migrate and load the cohort (unless a loaded study of that size exists); study id."""
    _ensure_database(url)
    _django(url)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    call_command("migrate", verbosity=0)
    from fibrosurvey.synth import generate
    from fibrosurvey.web.cohort import load_cohort
    from fibrosurvey.web.participants.models import Participant
    from fibrosurvey.web.studies.models import Study
    from fibrosurvey.web.studies.services import do_create_study_from_template

    existing = Study.objects.filter(name=STUDY_NAME).first()
    if existing is not None:
        count = Participant.objects.filter(study=existing).count()
        if reuse and count == participants:
            print(f"reusing study {existing.pk} with {count:,} participants")
            return int(existing.pk)
        Participant.objects.filter(study=existing).delete()
        existing.memberships.all().delete()
        existing.delete()
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    tick = time.perf_counter()
    data = generate("seed-claims", participants, 20261123, score=False).data
    print(f"synthetic cohort: {data.height:,} rows in {time.perf_counter() - tick:.1f} s")
    sites = sorted(data["site"].unique().to_list())
    study = do_create_study_from_template(
        name=STUDY_NAME, owner=owner, sites=[(code, code) for code in sites]
    )
    with Progress(
        TextColumn("loading into PostgreSQL"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task("load", total=participants)
        tick = time.perf_counter()
        load_cohort(study, data, on_chunk=lambda done: bar.update(task, completed=done))
    print(f"loaded {participants:,} participants in {time.perf_counter() - tick:.1f} s")
    from django.db import connection

    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give later
        cursor.execute("ANALYZE")
    return int(study.pk)


_BASELINE_SQL = """
COPY (
  SELECT p.study_code, e.code, r.answers::text
  FROM survey_response r
  JOIN participants_participant p ON p.id = r.participant_id
  JOIN studies_event e ON e.id = r.event_id
  WHERE p.study_id = {study}
  UNION ALL
  SELECT p.study_code, e.code,
         concat_ws(',', s.matrix, s.minutes_to_centrifuge, lr.analyte, lr.value_pmol_ml,
                   lr.lloq, lr.below_lloq, lr.includes_1ag)
  FROM labs_labresult lr
  JOIN labs_labsample s ON s.id = lr.sample_id
  JOIN participants_participant p ON p.id = s.participant_id
  JOIN studies_event e ON e.id = s.event_id
  WHERE p.study_id = {study}
) TO STDOUT
"""


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ru_maxrss: Linux carries that over
    execve from the parent, so a child of the loading process would report the loader's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(url: str, study_id: int, mode: str, chunk: int) -> dict[str, object]:
    _django(url)
    from django.db import connection

    from fibrosurvey.web.exports.dataset import DatasetBuilder
    from fibrosurvey.web.exports.writers import csv_chunks, write_parquet
    from fibrosurvey.web.studies.models import Study

    study = Study.objects.get(pk=study_id)
    builder = DatasetBuilder(study, chunk_size=chunk)
    tick = time.perf_counter()
    rows = 0
    size = 0
    if mode == "baseline":
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor() as cursor, cursor.copy(_BASELINE_SQL.format(study=study_id)) as copy:
            for block in copy:
                size += len(block)
                rows += bytes(block).count(b"\n")
    elif mode == "csv":
        for block in csv_chunks(builder):
            size += len(block)
            rows += block.count(b"\n")
        rows -= 1  # header
    else:
        handle, rows = write_parquet(builder)
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.close()
    seconds = time.perf_counter() - tick
    peak_mb = _peak_rss_mb()
    return {"mode": mode, "seconds": seconds, "rows": rows, "bytes": size, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2000, help="participants per chunk")
    parser.add_argument("--reuse", action="store_true", help="reuse a loaded study of that size")
    parser.add_argument("--child", nargs=2, metavar=("STUDY", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.child:
        print(json.dumps(_child(url, int(args.child[0]), args.child[1], args.chunk)))
        return
    study_id = _setup(url, args.participants, args.reuse)
    results = {}
    for mode in ("baseline", "csv", "parquet"):
        out = (
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.bench_export",
                    "--chunk",
                    str(args.chunk),
                    "--child",
                    str(study_id),
                    mode,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        results[mode] = json.loads(out)
    base = results["baseline"]["seconds"]
    print(f"\nexport of {args.participants:,} participants (chunks of {args.chunk:,}), PostgreSQL")
    print(f"{'mode':<10}{'seconds':>10}{'rows':>12}{'MB out':>10}{'peak MB':>10}{'x baseline':>12}")
    for mode, r in results.items():
        print(
            f"{mode:<10}{r['seconds']:>10.1f}{r['rows']:>12,}{r['bytes'] / 1e6:>10.1f}"
            f"{r['peak_mb']:>10.0f}{r['seconds'] / base:>12.1f}"
        )
    print("baseline = COPY ... TO STDOUT of the same responses and lab results, discarded")


if __name__ == "__main__":
    main()
