"""Pre-registered analysis plans, the runner and the verdicts.

>>> from fibrosurvey.analysis import load_plan, run_plan
>>> results = run_plan(data, load_plan())          # doctest: +SKIP
>>> results.write_json("results.json")             # doctest: +SKIP
"""

from fibrosurvey.analysis.plan import Plan, PlanError, load_plan, parse_plan
from fibrosurvey.analysis.results import ClaimResult, HypothesisResult, Results
from fibrosurvey.analysis.runner import data_sha256, run_plan
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
