"""One generated cohort per scenario, shared by the synth tests (generation takes seconds)."""

from __future__ import annotations

import pytest

from fibrosurvey.synth import SynthResult, generate

CALIBRATION_N = 20_000


@pytest.fixture(scope="session")
def seed_claims() -> SynthResult:
    return generate("seed-claims", CALIBRATION_N, seed=11)


@pytest.fixture(scope="session")
def literature() -> SynthResult:
    return generate("literature", CALIBRATION_N, seed=12)


@pytest.fixture(scope="session")
def null_cohort() -> SynthResult:
    return generate("null", CALIBRATION_N, seed=13)
