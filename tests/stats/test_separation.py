"""The separation check: the linear programme, and the certificate that lets a converged fit
skip it (it must never vouch for separated data, whatever the fitted probabilities)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fibrosurvey.stats._separation import (
    checked_logit,
    no_separation_certified,
    separating_columns,
)


def _design(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 0.8 * x[:, 1] - 0.5 * x[:, 2])))).astype(float)
    return y, x


NAMES = ["const", "x", "group"]


def test_a_converged_fit_on_overlapping_data_certifies_no_separation() -> None:
    y, x = _design(2000, 1)
    fit = checked_logit(y, x, NAMES)
    assert fit.ok
    assert no_separation_certified(y, x, np.asarray(fit.fit.predict(x)))
    assert separating_columns(y, x, NAMES) is None


@settings(max_examples=200, deadline=None)
@given(
    probabilities=arrays(np.float64, 300, elements=st.floats(1e-12, 1 - 1e-12, allow_nan=False)),
    quasi=st.booleans(),
)
def test_separated_data_are_never_certified_whatever_the_probabilities(
    probabilities: np.ndarray, quasi: bool
) -> None:
    y, x = _design(300, 2)
    y = (x[:, 1] > 0).astype(float)  # complete separation by x
    if quasi:
        y = np.where(x[:, 2] == 1, 0.0, y)  # no event in group 1: quasi-complete
    assert separating_columns(y, x, NAMES) is not None
    assert not no_separation_certified(y, x, probabilities)


def test_separated_data_are_reported_by_checked_logit_even_when_newton_stops() -> None:
    y, x = _design(500, 3)
    y = np.where(x[:, 2] == 1, 0.0, y)
    result = checked_logit(y, x, NAMES)
    assert not result.ok
    assert "group" in result.separated


def test_the_certificate_agrees_with_the_programme_on_many_ordinary_samples() -> None:
    for seed in range(20):
        y, x = _design(200, 100 + seed)
        fit = checked_logit(y, x, NAMES)
        assert fit.ok, seed
        assert no_separation_certified(y, x, np.asarray(fit.fit.predict(x))), seed
        assert separating_columns(y, x, NAMES) is None, seed
