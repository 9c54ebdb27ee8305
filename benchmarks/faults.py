"""Faults under load: a gunicorn worker killed with SIGKILL mid-submission, and PostgreSQL
restarted during load. In both, clients retry (same nonce), and afterwards we check: no
partial response was taken for an answer, every acknowledged page survives exactly once,
and retrying clients succeed once the fault is over.

    .venv/bin/python benchmarks/faults.py [worker-kill|pg-restart|all] [--clients 20]

The PostgreSQL restart uses ``pg_ctlcluster --skip-systemctl-redirect <version> main
restart`` and briefly interrupts every user of the shared server: run it deliberately.
Traffic only to 127.0.0.1; every phase ends by its own deadline.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadkit import ClientResult, Stack, percentile, run_participants, verify_exactly_once


def _pg_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: int(v) if v.isdigit() else 0)
    return versions[-1]


def _under_load(stack: Stack, tokens: list, clients: int, duration: float, inject) -> ClientResult:
    box: dict[str, ClientResult] = {}

    def load() -> None:
        box["result"] = run_participants(stack.port, tokens, clients=clients, duration=duration)

    runner = threading.Thread(target=load)
    runner.start()
    inject()
    runner.join(timeout=duration + 400)
    return box["result"]


def _report(
    name: str, stack: Stack, during: ClientResult, after: ClientResult, faults: str
) -> bool:
    check = verify_exactly_once(stack, during.acknowledged + after.acknowledged)
    posts = during.latencies["post"]
    print(f"[{name}] faults: {faults}")
    print(
        f"[{name}] during: acknowledged {len(during.acknowledged)} pages, "
        f"retries {during.retries}, "
        f"errors {during.errors or 'none'}, partial responses taken {during.partial}, "
        f"submit p95 {percentile(posts, 95) * 1000:.0f} ms"
    )
    print(
        f"[{name}] after: {len(after.acknowledged)} pages acknowledged, "
        f"errors {after.errors or 'none'}"
    )
    print(
        f"[{name}] exactly-once: acknowledged {check['acknowledged']}, stored "
        f"{check['stored_submissions']}, lost {check['lost']}, duplicated {check['duplicated']}, "
        f"wrong answers {check['wrong_answers']}"
    )
    ok = (
        check["lost"] == check["duplicated"] == check["wrong_answers"] == 0
        and during.partial == 0
        and after.partial == 0
        and not after.errors
        and len(after.acknowledged) > 0
    )
    print(f"[{name}] {'SURVIVED' if ok else 'FAILED'}")
    return ok


def worker_kill(args: argparse.Namespace) -> bool:
    with Stack(participants=args.participants, workers=4, port=args.port) as stack:
        half = len(stack.tokens) // 2
        killed: list[int] = []

        def inject() -> None:
            time.sleep(5)
            for _ in range(args.kills):
                pids = stack.worker_pids()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                time.sleep(3)

        during = _under_load(stack, stack.tokens[:half], args.clients, args.duration, inject)
        time.sleep(2)
        after = run_participants(stack.port, stack.tokens[half:], clients=args.clients, duration=15)
        faults = f"{len(killed)} gunicorn workers killed with SIGKILL mid-load (pids {killed})"
        return _report("worker-kill", stack, during, after, faults)


def pg_restart(args: argparse.Namespace) -> bool:
    version = _pg_version()
    with Stack(participants=args.participants, workers=4, port=args.port) as stack:
        half = len(stack.tokens) // 2
        took: list[float] = []

        def inject() -> None:
            time.sleep(6)
            started = time.monotonic()
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                check=True,
                timeout=120,
            )
            took.append(time.monotonic() - started)

        during = _under_load(stack, stack.tokens[:half], args.clients, args.duration, inject)
        time.sleep(2)
        after = run_participants(stack.port, stack.tokens[half:], clients=args.clients, duration=15)
        faults = f"PostgreSQL {version}/main restarted once during load ({took[0]:.1f} s)"
        return _report("pg-restart", stack, during, after, faults)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=["worker-kill", "pg-restart", "all"], default="all")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=25.0)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    results = []
    if args.scenario in {"worker-kill", "all"}:
        results.append(worker_kill(args))
    if args.scenario in {"pg-restart", "all"}:
        results.append(pg_restart(args))
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
