"""Item non-response: missing at random (more for higher severity and older age) plus MCAR.

Three layers, all vectorised:

* MCAR: every answer is missing with probability 0.1%;
* MAR, item level: each participant has a skip propensity
  ``p_i = 0.0025 * exp(0.5 * severity + 0.3 * age_z)`` per item (mean ~0.3%);
* MAR, instrument level: whole optional instruments (gad7, jss, migraine, ibs, dx) are skipped
  with probability ``0.012 * exp(0.4 * severity + 0.2 * age_z)``.

Together about 0.7% of baseline item cells are missing. Items the web survey requires are
never missing one by one (``required``): the FSQ, whose scores need every item, is asked as a
tick-list (an unticked site is an answer, 0) and its other items must be answered to move on,
so a participant has an ACR classification (before issue 11, one blank left ~9-11% without).
Their masks are still drawn, so every other column is the same as before for a given seed.
Missing is null in the frame, never 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MCAR_RATE", "missing_masks"]

MCAR_RATE = 0.001
_SKIPPABLE = ("gad7_", "jss_", "migraine_", "ibs_", "dx_")


def missing_masks(
    rng: np.random.Generator,
    columns: list[str],
    severity: np.ndarray,
    age: np.ndarray,
    required: frozenset[str] = frozenset(),
) -> dict[str, np.ndarray]:
    """A boolean "missing" mask per item column (same length as ``severity``); columns in
    ``required`` are never missing."""
    n = severity.size
    age_z = (age.astype(np.float64) - 50.0) / 12.0
    item_p = np.minimum(0.0025 * np.exp(0.5 * severity + 0.3 * age_z), 0.2) + MCAR_RATE
    skip_p = np.minimum(0.012 * np.exp(0.4 * severity + 0.2 * age_z), 0.3)
    skipped = {prefix: rng.random(n) < skip_p for prefix in _SKIPPABLE}
    masks: dict[str, np.ndarray] = {}
    for column in columns:
        mask = rng.random(n) < item_p
        for prefix, skip in skipped.items():
            if column.startswith(prefix):
                mask |= skip
        masks[column] = mask & (column not in required)
    return masks
