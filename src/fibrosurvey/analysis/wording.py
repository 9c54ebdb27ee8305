"""Verdicts and results in plain words a clinician can read."""

from __future__ import annotations

import math
from typing import Any

from fibrosurvey.analysis.results import HypothesisResult

__all__ = ["claim_in_words", "fmt_ci", "fmt_p", "hypothesis_in_words"]


def fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def _num(value: float, digits: int = 2) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}".replace("-", "−")


def fmt_ci(low: float, high: float, digits: int = 2) -> str:
    return f"{_num(low, digits)} to {_num(high, digits)}"


def _digits(row: HypothesisResult) -> int:
    return 1 if row.kind == "change" else (3 if row.kind == "discrimination" else 2)


def hypothesis_in_words(row: HypothesisResult) -> str:
    """One sentence describing the estimate (not the verdict)."""
    if row.status != "ok" or not math.isfinite(row.estimate):
        return f"No estimate: {row.note or row.status}."
    d = _digits(row)
    ci = f"95% CI {fmt_ci(row.ci_low, row.ci_high, d)}"
    if row.kind in ("correlation", "partial_correlation"):
        way = "lower" if row.estimate < 0 else "higher"
        if row.extra.get("outcome_binary"):
            return (
                f"{row.exposure_label[0].upper()}{row.exposure_label[1:]} was {way} in "
                f"participants for whom “{row.outcome_label.split(' (')[0]}” is yes than in the "
                f"others (rho {_num(row.estimate)}, {ci})."
            )
        return (
            f"Higher {row.exposure_label} went with {way} {row.outcome_label.split(' (')[0]} "
            f"(rho {_num(row.estimate)}, {ci})."
        )
    if row.kind == "group_comparison":
        extra = row.extra
        if "risk_exposed" in extra:
            return (
                f"{row.outcome_label}: {100 * extra['risk_exposed']:.0f}% with vs "
                f"{100 * extra['risk_other']:.0f}% without {row.exposure_label.split(' (')[0]} "
                f"({row.effect} {_num(row.estimate)}, {ci})."
            )
        return f"{row.effect} {_num(row.estimate)} ({ci})."
    if row.kind == "change":
        labels = row.extra.get("labels", {})
        more = "more" if row.estimate < 0 else "less"
        return (
            f"{row.outcome_label.split(' (')[0]} improved by {_num(abs(row.estimate), 1)} points "
            f"{more} with {labels.get('exposed', 'the exposure')} than with "
            f"{labels.get('comparator', 'the comparator')} ({ci})."
        )
    if row.kind == "discrimination":
        extra = row.extra
        return (
            f"Adding the biomarkers changed the cross-validated AUC from "
            f"{_num(extra.get('auc_base', math.nan), 3)} to "
            f"{_num(extra.get('auc_full', math.nan), 3)} (gain {_num(row.estimate, 3)}, {ci})."
        )
    return f"{row.effect} {_num(row.estimate)} ({ci})."


def _mde_phrase(rows: list[HypothesisResult]) -> str:
    values = [(r.mde, r) for r in rows if math.isfinite(r.mde)]
    if not values:
        return ""
    mde, row = max(values, key=lambda v: v[0])
    low = min(v[0] for v in values)
    unit = row.mde_note or row.effect
    if math.isclose(low, mde, rel_tol=0.05):
        size = f"{mde:.3g}"
    else:
        size = f"between {low:.3g} and {mde:.3g}"
    return (
        f" With these sample sizes the study had 80% power to detect effects of {size} "
        f"({unit}); smaller true effects cannot be ruled out."
    )


def claim_in_words(claim: Any, verdict: str, rows: list[HypothesisResult]) -> str:
    """The claim-level verdict as two or three plain sentences."""
    total = len(rows)
    supported = [r for r in rows if r.verdict == "supported"]
    contradicted = [r for r in rows if r.verdict == "contradicted"]
    after = "after correcting for the number of tests"
    if verdict == "supported":
        text = (
            f"The data SUPPORT this claim: {len(supported)} of {total} pre-registered tests showed "
            f"the predicted association {after}, and none showed the opposite."
        )
        best = min(supported, key=lambda r: r.q)
        text += f" Clearest result: {hypothesis_in_words(best)}"
    elif verdict == "contradicted":
        text = (
            f"The data CONTRADICT this claim: {len(contradicted)} of {total} tests showed the "
            f"opposite of what the claim predicts {after}, and none showed the predicted "
            "association."
        )
        best = min(contradicted, key=lambda r: r.q)
        text += f" Clearest result: {hypothesis_in_words(best)}"
    elif verdict == "mixed":
        text = (
            f"The evidence is MIXED: {len(supported)} of {total} tests agreed with the claim and "
            f"{len(contradicted)} showed the opposite {after}, so the claim as stated does not "
            "hold in general."
        )
    else:
        text = (
            f"The data do NOT SUPPORT this claim: none of the {total} tests showed a clear "
            f"association in either direction {after}."
        )
        text += _mde_phrase(rows)
    return text
