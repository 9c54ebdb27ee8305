"""The shared result contract: frozen, summary() of scalars, conf_int()."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fibrosurvey.stats as stats
from fibrosurvey.stats import Estimate, cv_auc, ipw_effect, spearman


def test_every_public_name_is_importable_and_results_are_frozen_dataclasses() -> None:
    for name in stats.__all__:
        obj = getattr(stats, name)
        if (isinstance(obj, type) and name.endswith("Result")) or name in ("Estimate",):
            assert dataclasses.is_dataclass(obj)
            assert obj.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_summary_keeps_scalars_and_drops_arrays() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    t = (rng.random(300) < 0.5).astype(float)
    y = x[:, 0] + t + rng.normal(size=300)
    result = ipw_effect(y, t, x)
    summary = result.summary()
    assert {"estimate", "ci_low", "ci_high", "p", "n", "method", "status", "note"} <= set(summary)
    assert "weights" not in summary
    assert all(not isinstance(v, np.ndarray) for v in summary.values())
    assert result.conf_int() == (summary["ci_low"], summary["ci_high"])
    auc = cv_auc((y > 1).astype(float), x, x[:, :1])
    assert "roc_full_fpr" not in auc.summary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.estimate = 0.0  # type: ignore[misc]


def test_ok_is_false_without_an_estimate() -> None:
    assert spearman([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 3.0, 2.0, 5.0, 4.0]).ok
    empty = Estimate(
        estimate=float("nan"), ci_low=float("nan"), ci_high=float("nan"), p=float("nan"),
        n=0, method="x", status="insufficient_data",
    )  # fmt: skip
    assert not empty.ok
