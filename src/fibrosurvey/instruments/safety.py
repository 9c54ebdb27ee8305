"""The answer that must reach the study team: PHQ-9 item 9 (thoughts of self-harm).

Which item and from which answer on are read from the instrument file (the ``item9_flag`` rule
of ``phq9.yaml``), so the survey's safety page, its alert and the demo's alerts follow the
score the core computes instead of a threshold typed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from fibrosurvey.instruments.registry import get_instrument
from fibrosurvey.instruments.schema import FlagRule

__all__ = ["SafetyItem", "safety_item"]

_SAFETY_FLAG = ("phq9", "item9_flag")


@dataclass(frozen=True)
class SafetyItem:
    instrument_id: str
    column: str  # the item's flat-file column, e.g. phq9_9
    at_least: float

    def raised_by(self, answer: object) -> bool:
        """Whether a stored answer (a number, or None when unanswered) raises an alert."""
        return isinstance(answer, int | float) and answer >= self.at_least


@cache
def safety_item() -> SafetyItem:
    instrument_id, rule_id = _SAFETY_FLAG
    instrument = get_instrument(instrument_id)
    rule = next(r for r in instrument.scores if isinstance(r, FlagRule) and r.id == rule_id)
    return SafetyItem(instrument_id, instrument.item(rule.item).column, rule.at_least)
