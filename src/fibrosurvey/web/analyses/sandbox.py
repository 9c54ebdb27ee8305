"""Parse and run a user's analysis plan in a child process with a memory limit.

A plan is user input: however carefully it is validated, a plan can ask for work (many
claims, imputations, bootstrap draws on a large study) that grows without bound. The worker
therefore never runs it in its own process: :func:`run_in_child` starts a fresh interpreter
(``spawn``: no copied database connection, no forked thread pools), which loads the analysis
libraries, then caps its address space with ``RLIMIT_AS`` at what it already holds plus
``memory_mb``, and only then parses and runs the plan. A plan that needs more ends in a
MemoryError or in the child's death; either way the worker survives and the run fails with a
message naming the limit (``FIBROSURVEY_ANALYSIS_MEMORY_MB``).

This module imports no Django: the child needs none (the parent reads and writes the database).
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
import pkgutil
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

__all__ = ["AnalysisOutOfMemory", "analyse", "run_in_child"]


class AnalysisOutOfMemory(ValueError):
    """The child process needed more memory than its limit, or died."""


def _address_space_bytes(field: str = "VmSize") -> int:
    """This process's current (VmSize) or peak (VmPeak) virtual size (Linux); 0 when unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reached_limit() -> bool:
    """Did this process come within a thread stack or so of its address-space cap?

    Under RLIMIT_AS the first failure is often not a MemoryError: a library cannot start a
    thread (a Rust panic), or cannot map a shared object (an ImportError)."""
    limit, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return False
    return _address_space_bytes("VmPeak") + max(64 << 20, limit // 20) >= limit


def _load_libraries() -> None:
    """Import every analysis module (and so scipy, statsmodels, sklearn) before the cap: the
    limit is for the plan's work, and a shared library mapped under it fails to load."""
    for name in _LIBRARIES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            importlib.import_module(module.name)


_LIBRARIES = ("fibrosurvey.analysis", "fibrosurvey.stats", "fibrosurvey.report")


def _limit_memory(memory_mb: int) -> None:
    """Child initializer: load the libraries, then cap the address space above them."""
    _load_libraries()
    if memory_mb > 0:
        limit = _address_space_bytes() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def analyse(
    frame: Any,
    plan_text: str,
    plan_source: str,
    *,
    imputations: int | None,
    data_sha256: str,
    drop_fpc: bool,
    flow: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Parse ``plan_text`` and run it on ``frame``: the report HTML and the results dict.

    ``drop_fpc``: no population sizes are known, so design-based estimates without an fpc.
    ``flow``: the open-recruitment flow counts for the participant-flow diagram.
    """
    from fibrosurvey.analysis import parse_plan, run_plan
    from fibrosurvey.report import render_html

    plan = parse_plan(plan_text, plan_source)
    if drop_fpc and plan.design is not None and plan.design.fpc is not None:
        plan = plan.model_copy(update={"design": plan.design.model_copy(update={"fpc": None})})
    results = run_plan(frame, plan, imputations=imputations, input_sha256=data_sha256, flow=flow)
    return render_html(results), results.to_dict()


def _analyse_in_child(**arguments: Any) -> tuple[str, dict[str, Any]]:
    """:func:`analyse`, its failures made fit to cross back to the parent: a failure at the
    memory cap becomes MemoryError, one that cannot be pickled (a Rust panic) a RuntimeError."""
    try:
        return analyse(**arguments)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        described = f"{type(error).__name__}: {error}"
        if isinstance(error, MemoryError) or _reached_limit():
            raise MemoryError(described) from None
        try:
            pickle.dumps(error)
        except Exception:
            raise RuntimeError(described) from None
        raise


def run_in_child(memory_mb: int, **arguments: Any) -> tuple[str, dict[str, Any]]:
    """:func:`analyse` in a fresh child process limited to ``memory_mb`` MB above its libraries
    (0: no limit). Exceptions raised by the analysis come back as they are."""
    context = multiprocessing.get_context("spawn")
    limit = f"memory limit of {memory_mb} MB (FIBROSURVEY_ANALYSIS_MEMORY_MB)"
    out_of_memory = AnalysisOutOfMemory(
        f"the analysis needed more memory than its {limit}; "
        "raise the limit or analyse fewer claims, imputations or participants"
    )
    try:
        with ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=_limit_memory, initargs=(memory_mb,)
        ) as pool:
            future = pool.submit(_analyse_in_child, **arguments)
            watch = _StallWatch()
            while True:
                try:
                    return future.result(timeout=_POLL_SECONDS)
                except FutureTimeout:
                    pids = [process.pid for process in _pool_processes(pool)]
                    if watch.stuck_at_the_cap(pids):
                        # A thread pool whose worker failed to allocate at the cap can wait
                        # for it for ever: the child neither finishes nor dies. End it.
                        for process in _pool_processes(pool):
                            process.kill()
                        raise out_of_memory from None
    except MemoryError:
        raise out_of_memory from None
    except BrokenProcessPool:
        raise AnalysisOutOfMemory(
            f"the analysis process stopped before it finished, probably at its {limit}; "
            "raise the limit or analyse fewer claims, imputations or participants"
        ) from None


_POLL_SECONDS = 2.0
# A child at its cap that has used no CPU for this long is stuck, not thinking.
_STALL_SECONDS = 10.0


def _pool_processes(pool: ProcessPoolExecutor) -> list[Any]:
    return list((getattr(pool, "_processes", None) or {}).values())


class _StallWatch:
    """Tells a child stuck at its address-space cap (no CPU used for ``_STALL_SECONDS``, peak
    size within a thread stack or so of the cap) from one still working (Linux /proc)."""

    def __init__(self) -> None:
        self._cpu: dict[int, tuple[int, float]] = {}

    def stuck_at_the_cap(self, pids: list[int]) -> bool:
        now = time.monotonic()
        for pid in pids:
            cpu = _cpu_ticks(pid)
            if cpu is None:
                continue
            seen = self._cpu.get(pid)
            if seen is None or seen[0] != cpu:
                self._cpu[pid] = (cpu, now)
                continue
            if now - seen[1] >= _STALL_SECONDS and _near_cap(pid):
                return True
        return False


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU ticks of every thread of ``pid``; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def _near_cap(pid: int) -> bool:
    try:
        limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return False
    cap = next((line.split()[3] for line in limits if line.startswith("Max address space")), "")
    peak = next((line.split()[1] for line in status if line.startswith("VmPeak:")), "")
    if not cap.isdigit() or not peak.isdigit():
        return False
    return int(peak) * 1024 + max(64 << 20, int(cap) // 20) >= int(cap)
