"""Response quality: the checks behind each quality flag, the exclusion rule the analysis
applies, and the participant flow (STROBE item 13).

Flags are transparent: every flagged participant carries the reasons (codes of
:data:`QUALITY_REASONS`); nothing is deleted. The analysis excludes by a configurable
:class:`ExclusionRule` and reports how many were excluded and why (:class:`ExclusionSummary`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from statistics import median
from typing import Any

import numpy as np
import polars as pl

__all__ = [
    "DEFAULT_EXCLUSION",
    "FLOW_STAGES",
    "QUALITY_REASONS",
    "ExclusionRule",
    "ExclusionSummary",
    "FlowStage",
    "answer_similarity",
    "apply_exclusion",
    "earlier_near_duplicates",
    "flow_diagram_svg",
    "flow_stages",
    "flow_with_rule",
    "join_reasons",
    "near_duplicates",
    "split_reasons",
    "straightlined",
    "too_fast",
]

# code -> what it means (the report's wording).
QUALITY_REASONS: dict[str, str] = {
    "honeypot": "filled in a field hidden from people (only automated form-fillers see it)",
    "too_fast": "pages answered faster than the minimum time per page",
    "impossible_answer": "an answer that cannot be true (e.g. age 150, pain longer than life)",
    "straightlining": "the same answer to every item of a long questionnaire",
    "attention_check": "a wrong answer to an attention-check question",
    "duplicate_contact": "the same contact details as an earlier participant",
    "duplicate_device": "the same device as an earlier visitor who took part",
    "duplicate_answers": "answers nearly identical to an earlier participant's",
}
REASON_SEPARATOR = ";"


def join_reasons(reasons: Iterable[str]) -> str:
    return REASON_SEPARATOR.join(sorted(set(reasons)))


def split_reasons(joined: str | None) -> list[str]:
    return [r for r in (joined or "").split(REASON_SEPARATOR) if r]


def straightlined(answers: Mapping[str, Any], columns: Sequence[str], min_items: int = 8) -> bool:
    """Every answered item of ``columns`` has the same value, over at least ``min_items``."""
    given = [answers[c] for c in columns if answers.get(c) is not None]
    return len(given) >= min_items and len(set(given)) == 1


def answer_similarity(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[float, int]:
    """(share of equal answers, number of items both answered)."""
    common = [c for c in a if a[c] is not None and b.get(c) is not None]
    if not common:
        return 0.0, 0
    return sum(a[c] == b[c] for c in common) / len(common), len(common)


def near_duplicates(
    candidate: Mapping[str, Any],
    others: Mapping[Any, Mapping[str, Any]],
    *,
    threshold: float = 0.95,
    min_items: int = 20,
) -> list[Any]:
    """Keys of ``others`` whose answers agree with ``candidate`` on at least ``threshold`` of
    at least ``min_items`` items both answered. One vectorised pass over all others."""
    columns = sorted(c for c, v in candidate.items() if v is not None and _numeric(v))
    if len(columns) < min_items or not others:
        return []
    keys = list(others)
    target = np.array([float(candidate[c]) for c in columns])
    matrix = np.array(
        [[_as_float(others[k].get(c)) for c in columns] for k in keys], dtype=float
    ).reshape(len(keys), len(columns))
    answered = ~np.isnan(matrix)
    both = answered.sum(axis=1)
    equal = (matrix == target) & answered
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(both > 0, equal.sum(axis=1) / np.maximum(both, 1), 0.0)
    hits = (both >= min_items) & (share >= threshold)
    return [keys[i] for i in np.flatnonzero(hits)]


def earlier_near_duplicates(
    vectors: Sequence[tuple[Any, Mapping[str, Any]]],
    first_new: int,
    *,
    threshold: float = 0.95,
    min_items: int = 20,
) -> dict[Any, Any]:
    """For each of ``vectors[first_new:]`` (in order), the key of the first EARLIER vector it
    nearly duplicates (see :func:`near_duplicates`); vectors without one are left out.

    One matrix for all, each new row compared with the rows before it: a batch of new
    participants costs one pass each over the earlier ones, not a rebuild per participant.
    """
    columns = sorted({c for _, vector in vectors for c, v in vector.items() if _numeric(v)})
    if len(columns) < min_items or first_new >= len(vectors):
        return {}
    position = {column: i for i, column in enumerate(columns)}
    matrix = np.full((len(vectors), len(columns)), np.nan)
    for row, (_, vector) in enumerate(vectors):
        for column, value in vector.items():
            if _numeric(value):
                matrix[row, position[column]] = float(value)
    answered = ~np.isnan(matrix)
    found: dict[Any, Any] = {}
    for row in range(max(first_new, 1), len(vectors)):
        mine = answered[row]
        if np.count_nonzero(mine) < min_items:
            continue
        both = np.count_nonzero(answered[:row] & mine, axis=1)
        equal = np.count_nonzero(matrix[:row] == matrix[row], axis=1)  # NaN equals nothing
        share = np.divide(equal, both, out=np.zeros(row), where=both > 0)
        hits = np.flatnonzero((both >= min_items) & (share >= threshold))
        if hits.size:
            found[vectors[row][0]] = vectors[hits[0]][0]
    return found


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_float(value: Any) -> float:
    return float(value) if _numeric(value) else float("nan")


def too_fast(durations: Sequence[float], min_seconds: float) -> bool:
    """The median page took less than ``min_seconds`` (one quick page is not a flag)."""
    return bool(durations) and min_seconds > 0 and median(durations) < min_seconds


@dataclass(frozen=True)
class ExclusionRule:
    """Which flagged participants the analysis leaves out: all flagged ones (``reasons`` None)
    or those with at least one of ``reasons``. ``exclude_flagged=False`` keeps everyone."""

    exclude_flagged: bool = True
    reasons: frozenset[str] | None = None

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> ExclusionRule:
        """From a plan's ``quality_exclusion: {exclude_flagged: true, reasons: [...]}``."""
        if not raw:
            return DEFAULT_EXCLUSION
        unknown = sorted(set(raw) - {"exclude_flagged", "reasons"})
        if unknown:
            raise ValueError(
                f"quality_exclusion: unknown keys {unknown}; allowed: exclude_flagged, reasons"
            )
        exclude = raw.get("exclude_flagged", True)
        if not isinstance(exclude, bool):
            raise ValueError("quality_exclusion.exclude_flagged: true or false")
        reasons = raw.get("reasons")
        if reasons is None:
            return cls(exclude, None)
        bad = sorted(set(reasons) - set(QUALITY_REASONS)) if isinstance(reasons, list) else reasons
        if bad:
            raise ValueError(
                f"quality_exclusion.reasons: unknown {bad}; allowed: {sorted(QUALITY_REASONS)}"
            )
        return cls(exclude, frozenset(reasons))

    def excludes(self, flagged: bool, reasons: Iterable[str]) -> bool:
        if not (self.exclude_flagged and flagged):
            return False
        return self.reasons is None or bool(self.reasons & set(reasons))


DEFAULT_EXCLUSION = ExclusionRule()


@dataclass(frozen=True)
class ExclusionSummary:
    participants: int
    excluded: int
    # reason -> excluded participants carrying it (one participant may count under several).
    by_reason: dict[str, int]

    @property
    def analysed(self) -> int:
        return self.participants - self.excluded

    def sentence(self) -> str:
        if not self.excluded:
            return f"No participant of {self.participants} was excluded for response quality."
        reasons = "; ".join(
            f"{reason} ({QUALITY_REASONS.get(reason, reason)}): {n}"
            for reason, n in sorted(self.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return (
            f"{self.excluded} of {self.participants} participants were excluded for response "
            f"quality (flagged responses are kept, not deleted). Reasons: {reasons}."
        )


def apply_exclusion(
    frame: pl.DataFrame, rule: ExclusionRule = DEFAULT_EXCLUSION
) -> tuple[pl.DataFrame, ExclusionSummary]:
    """Rows of participants the rule keeps, and what it excluded and why.

    ``frame`` needs ``participant_id``, ``quality_flag`` (bool) and ``quality_reasons``
    (codes joined by ';'); rows without a flag (null: not recruited by open link) are kept.
    """
    missing = {"participant_id", "quality_flag", "quality_reasons"} - set(frame.columns)
    if missing:
        raise ValueError(f"apply_exclusion needs the columns {sorted(missing)}")
    people = frame.select("participant_id", "quality_flag", "quality_reasons").unique(
        "participant_id", keep="first", maintain_order=True
    )
    excluded_ids: list[Any] = []
    counts: Counter[str] = Counter()
    for participant_id, flagged, joined in people.iter_rows():
        reasons = split_reasons(joined)
        if rule.excludes(bool(flagged), reasons):
            excluded_ids.append(participant_id)
            counts.update(reasons)
    kept = frame.filter(~pl.col("participant_id").is_in(excluded_ids))
    summary = ExclusionSummary(people.height, len(excluded_ids), dict(counts))
    return kept, summary


FLOW_STAGES: tuple[tuple[str, str], ...] = (
    ("visited", "Visited the open link"),
    ("screened", "Answered the eligibility screener"),
    ("eligible", "Eligible"),
    ("enrolled", "Enrolled (quota open)"),
    ("consented", "Consented"),
    ("started", "Started the survey"),
    ("completed", "Completed the survey"),
    ("analysed", "Analysed (after the quality exclusion)"),
)


@dataclass(frozen=True)
class FlowStage:
    key: str
    label: str
    count: int
    # How many of the previous stage did not reach this one.
    lost: int


def flow_stages(counts: Mapping[str, int]) -> list[FlowStage]:
    """The flow diagram's boxes, from visits to the analysed sample; each stage is a subset of
    the one before, so a count above its predecessor means the counts are wrong (ValueError)."""
    missing = [key for key, _ in FLOW_STAGES if key not in counts]
    if missing:
        raise ValueError(f"flow counts missing: {missing}")
    stages: list[FlowStage] = []
    previous: int | None = None
    for key, label in FLOW_STAGES:
        count = int(counts[key])
        if previous is not None and count > previous:
            raise ValueError(f"flow stage {key} ({count}) exceeds the stage before ({previous})")
        stages.append(FlowStage(key, label, count, 0 if previous is None else previous - count))
        previous = count
    return stages


def flow_with_rule(
    counts: Mapping[str, int],
    completed_flags: Sequence[tuple[bool, Sequence[str]]],
    rule: ExclusionRule = DEFAULT_EXCLUSION,
) -> tuple[list[FlowStage], dict[str, int]]:
    """The flow diagram's stages from the database counts up to "completed" and the quality
    flags of each participant who completed, with the analysed stage by ``rule`` (the analysis
    plan's ``quality_exclusion``): (stages, excluded participants by reason)."""
    excluded = 0
    by_reason: Counter[str] = Counter()
    for flagged, reasons in completed_flags:
        if rule.excludes(bool(flagged), reasons):
            excluded += 1
            by_reason.update(reasons)
    if len(completed_flags) != int(counts.get("completed", -1)):
        raise ValueError(
            f"flow: {len(completed_flags)} completed participants' flags for "
            f"{counts.get('completed')} completed"
        )
    stages = flow_stages({**counts, "analysed": len(completed_flags) - excluded})
    return stages, dict(by_reason)


_LOSS_LABELS = {
    "screened": "did not answer the screener",
    "eligible": "not eligible",
    "enrolled": "quota cell full",
    "consented": "did not consent",
    "started": "did not start",
    "completed": "did not finish",
    "analysed": "excluded for response quality",
}


def flow_diagram_svg(stages: Sequence[FlowStage], excluded_by_reason: Mapping[str, int]) -> str:
    """The participant-flow diagram (STROBE item 13) as a standalone SVG: one box per stage,
    the losses beside each arrow, the quality exclusions by reason. No script, no style
    attribute (the pages' Content-Security-Policy allows neither inline)."""
    box_w, box_h, gap, side_x, top_margin = 300, 44, 34, 340, 2
    height = len(stages) * (box_h + gap) + 15 * len(excluded_by_reason) + top_margin
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 640 {height}" '
        f'width="640" height="{height}" role="img" aria-labelledby="flow-title" '
        f'font-family="sans-serif" font-size="13">',
        '<title id="flow-title">Participant flow, from visits to the analysed sample</title>',
    ]
    for index, stage in enumerate(stages):
        y = top_margin + index * (box_h + gap)
        if index:
            top = y - gap
            parts.append(
                f'<line x1="{box_w // 2}" y1="{top}" x2="{box_w // 2}" y2="{y}" '
                f'stroke="#1f2933" stroke-width="1.5"/>'
            )
            if stage.lost:
                note = f"{stage.lost} {_LOSS_LABELS.get(stage.key, 'lost')}"
                lines = ""
                if stage.key == "analysed":
                    # One line per reason: a participant may count under several.
                    lines = "".join(
                        f'<tspan x="{side_x + 12}" dy="15">{escape(reason)}: {n}</tspan>'
                        for reason, n in sorted(excluded_by_reason.items())
                    )
                parts.append(
                    f'<line x1="{box_w // 2}" y1="{top + gap // 2}" x2="{side_x - 6}" '
                    f'y2="{top + gap // 2}" stroke="#7b8794" stroke-dasharray="3 3"/>'
                    f'<text x="{side_x}" y="{top + gap // 2 + 4}" fill="#1f2933">'
                    f"{escape(note)}{lines}</text>"
                )
        parts.append(
            f'<rect x="1" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="#ffffff" '
            f'stroke="#1f2933" stroke-width="1.5"/>'
            f'<text x="12" y="{y + 27}" fill="#1f2933"><tspan font-weight="bold">'
            f"{stage.count}</tspan> {escape(stage.label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
