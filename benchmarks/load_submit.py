"""Load: participants open survey links and submit pages against gunicorn + PostgreSQL.

    .venv/bin/python benchmarks/load_submit.py [--clients 100] [--duration 60] [--workers 4]

A scratch database (fibrosurvey_load_<pid>) is created, migrated, seeded and dropped.
Phase 1 (baseline): the same clients hit a trivial view (/ops/ping/, full middleware, no
database) to measure what the stack itself can do. Phase 2: each client takes a
participant link, opens it and submits every page with valid answers (retries on timeouts
and 5xx, reusing the page's nonce so a retry is never stored twice). Printed: submissions/s,
p50/p95/p99 of submit (POST) latency, the ratio of submit throughput to the trivial view's,
and the exactly-once check: every acknowledged page is in the database once, answers intact.
Targets on 2 cores: p95 < 300 ms, >= 150 submissions/s. Traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadkit import (
    Stack,
    cpu_seconds,
    percentile,
    run_participants,
    run_ping,
    verify_exactly_once,
)


def ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--baseline-duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--participants", type=int, default=600)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    print(
        f"setting up: {args.participants} participants, gunicorn x{args.workers}, "
        f"{os.cpu_count()} CPUs (machine shared with other work)",
        flush=True,
    )
    with Stack(participants=args.participants, workers=args.workers, port=args.port) as stack:
        pings = run_ping(args.port, clients=args.clients, duration=args.baseline_duration)
        ping_rate = len(pings) / args.baseline_duration
        print(
            f"baseline /ops/ping/: {ping_rate:.0f} req/s, p50 {ms(pings, 50):.0f} ms, "
            f"p95 {ms(pings, 95):.0f} ms",
            flush=True,
        )

        server_pids = stack.worker_pids() + stack.database_pids()
        cpu_before = cpu_seconds(server_pids)
        clients_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        result = run_participants(
            args.port, stack.tokens, clients=args.clients, duration=args.duration
        )
        elapsed = time.monotonic() - started
        workers = set(stack.worker_pids())
        cpu_after = cpu_seconds(list(workers | set(stack.database_pids())))
        clients_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stack.stop_server()
        posts, gets = result.latencies["post"], result.latencies["get"]
        submit_rate = len(result.acknowledged) / args.duration
        request_rate = (len(posts) + len(gets)) / args.duration
        check = verify_exactly_once(stack, result.acknowledged)

    print(
        f"load: {args.clients} concurrent clients for {args.duration:.0f} s (wall {elapsed:.0f} s)"
    )
    print(f"submissions/s: {submit_rate:.1f}   (all requests/s: {request_rate:.1f})")
    print(
        f"submit latency: p50 {ms(posts, 50):.0f} ms, p95 {ms(posts, 95):.0f} ms, "
        f"p99 {ms(posts, 99):.0f} ms"
    )
    print(f"page GET latency: p50 {ms(gets, 50):.0f} ms, p95 {ms(gets, 95):.0f} ms")
    print(
        f"ratio submit requests/s to trivial-view requests/s: {request_rate / ping_rate:.2f} "
        f"(submissions/s to trivial req/s: {submit_rate / ping_rate:.2f})"
    )
    # CPU per submission, to read the throughput against the machine's speed at the time.
    used = {pid: cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after}
    web_cpu = sum(v for pid, v in used.items() if pid in workers)
    db_cpu = sum(v for pid, v in used.items() if pid not in workers)
    client_cpu = (clients_after.ru_utime + clients_after.ru_stime) - (
        clients_before.ru_utime + clients_before.ru_stime
    )
    count = max(len(result.acknowledged), 1)
    total_ms = 1000 * (web_cpu + db_cpu + client_cpu) / count
    print(
        f"CPU per submission (page GET + POST): gunicorn {1000 * web_cpu / count:.1f} ms, "
        f"PostgreSQL {1000 * db_cpu / count:.1f} ms, load clients {1000 * client_cpu / count:.1f}"
        f" ms; total {total_ms:.1f} ms -> at most {1000 * (os.cpu_count() or 1) / total_ms:.0f}"
        " submissions/s on this machine"
    )
    print(
        f"retries: {result.retries}, errors: {result.errors or 'none'}, "
        f"partial responses: {result.partial}"
    )
    print(
        f"exactly-once: acknowledged {check['acknowledged']}, "
        f"stored {check['stored_submissions']}, "
        f"lost {check['lost']}, duplicated {check['duplicated']}, "
        f"wrong answers {check['wrong_answers']}"
    )
    p95_ok = percentile(posts, 95) < 0.300
    rate_ok = submit_rate >= 150
    print(
        f"targets: p95 < 300 ms: {'met' if p95_ok else 'NOT met'}; "
        f">= 150 submissions/s: {'met' if rate_ok else 'NOT met'}"
    )
    return 0 if check["lost"] == check["duplicated"] == check["wrong_answers"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
