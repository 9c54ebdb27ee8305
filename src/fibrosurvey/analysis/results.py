"""Result records of a plan run and their JSON form."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ClaimResult", "HypothesisResult", "Results"]


@dataclass
class HypothesisResult:
    """One pre-registered test. ``q`` is the BH-adjusted p within ``family``."""

    id: str
    claim: str
    family: str
    kind: str
    method: str
    exposure: str
    exposure_label: str
    outcome: str
    outcome_label: str
    expected: str
    effect: str  # what the estimate is, in words (e.g. "partial Spearman rho")
    null_value: float
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    q: float = math.nan
    verdict: str = "not supported"
    mde: float = math.nan
    mde_note: str = ""
    status: str = "ok"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    sensitivity: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ClaimResult:
    id: str
    statement: str
    family: str
    verdict_rule: str
    verdict: str
    counts: dict[str, int]
    plain: str  # the verdict in plain words
    causal_note: str = ""


@dataclass
class Results:
    """Everything the report needs: hypotheses, claims, descriptions, provenance."""

    plan_title: str
    plan_source: str
    plan_text: str
    plan_sha256: str
    alpha: float
    hypotheses: list[HypothesisResult]
    claims: list[ClaimResult]
    descriptive: list[dict[str, Any]] = field(default_factory=list)
    cohort: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    # The plan's quality exclusion (open recruitment): participants, excluded, by_reason,
    # sentence; empty when the data carry no quality flags.
    exclusion: dict[str, Any] = field(default_factory=dict)
    # The participant flow (STROBE item 13): stage key -> count, from visits to the analysed
    # sample, and the quality exclusions by reason; empty when no flow was given.
    flow: dict[str, Any] = field(default_factory=dict)

    def hypotheses_of(self, claim: str) -> list[HypothesisResult]:
        return [h for h in self.hypotheses if h.claim == claim]

    def to_dict(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = _clean(asdict(self))
        return cleaned

    def write_json(self, path: str | Path) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
