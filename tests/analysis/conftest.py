"""Shared data for the analysis tests: one small synthetic cohort, analysed once."""

from __future__ import annotations

import polars as pl
import pytest

from fibrosurvey.analysis import Results, load_plan, run_plan
from fibrosurvey.analysis.derive import apply_derivations
from fibrosurvey.synth import generate


@pytest.fixture(scope="session")
def cohort() -> pl.DataFrame:
    return generate("seed-claims", 1500, 11).data


@pytest.fixture(scope="session")
def derived(cohort: pl.DataFrame) -> pl.DataFrame:
    return apply_derivations(cohort, load_plan())


@pytest.fixture(scope="session")
def results(cohort: pl.DataFrame) -> Results:
    return run_plan(cohort, load_plan(), imputations=0)


@pytest.fixture(scope="session")
def literature_results() -> Results:
    """The literature scenario at the demo's size and seed (primary analyses only)."""
    data = generate("literature", 5000, 20261123).data
    return run_plan(data, load_plan(), sensitivity=False, describe=False)
