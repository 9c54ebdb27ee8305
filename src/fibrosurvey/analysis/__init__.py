"""Pre-registered analysis plans, the runner and the verdicts.

>>> from fibrosurvey.analysis import load_plan, run_plan
>>> results = run_plan(data, load_plan())          # doctest: +SKIP
>>> results.write_json("results.json")             # doctest: +SKIP

``run_plan`` and ``data_sha256`` are imported on first use, so reading or validating a plan
does not load the statistics stack.
"""

from typing import Any

from fibrosurvey.analysis.plan import Plan, PlanError, load_plan, parse_plan
from fibrosurvey.analysis.results import ClaimResult, HypothesisResult, Results
from fibrosurvey.analysis.verdicts import claim_verdict, hypothesis_verdict

__all__ = [
    "ClaimResult",
    "HypothesisResult",
    "Plan",
    "PlanError",
    "Results",
    "claim_verdict",
    "data_sha256",
    "hypothesis_verdict",
    "load_plan",
    "parse_plan",
    "run_plan",
]


def __getattr__(name: str) -> Any:
    if name in ("run_plan", "data_sha256"):
        from fibrosurvey.analysis import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'fibrosurvey.analysis' has no attribute {name!r}")
