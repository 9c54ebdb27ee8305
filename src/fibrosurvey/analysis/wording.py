"""Verdicts and results in plain words a clinician can read."""

from __future__ import annotations

import math
from typing import Any

from fibrosurvey.analysis.numbers import format_number, interval_decimals
from fibrosurvey.analysis.results import HypothesisResult

__all__ = ["claim_in_words", "fmt_ci", "fmt_p", "hypothesis_in_words"]


def fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "-"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def fmt_ci(low: float, high: float, decimals: int = 2) -> str:
    return f"{format_number(low, decimals)} to {format_number(high, decimals)}"


def _estimate_and_ci(estimate: float, low: float, high: float, ratio: bool) -> tuple[str, str]:
    """The estimate and "95% CI low to high", at the one precision for the triple."""
    decimals = interval_decimals(estimate, low, high, ratio=ratio)
    return format_number(estimate, decimals), f"95% CI {fmt_ci(low, high, decimals)}"


def hypothesis_in_words(row: HypothesisResult) -> str:
    """One sentence describing the estimate (not the verdict)."""
    if row.status != "ok" or not math.isfinite(row.estimate):
        return f"No estimate: {row.note or row.status}."
    est, ci = _estimate_and_ci(row.estimate, row.ci_low, row.ci_high, row.null_value == 1.0)
    if row.kind in ("correlation", "partial_correlation"):
        way = "lower" if row.estimate < 0 else "higher"
        if row.extra.get("outcome_binary"):
            return (
                f"{row.exposure_label[0].upper()}{row.exposure_label[1:]} was {way} in "
                f"participants for whom “{row.outcome_label.split(' (')[0]}” is yes than in the "
                f"others (rho {est}, {ci})."
            )
        return (
            f"Higher {row.exposure_label} went with {way} {row.outcome_label.split(' (')[0]} "
            f"(rho {est}, {ci})."
        )
    if row.kind == "group_comparison":
        extra = row.extra
        if "risk_exposed" in extra:
            return (
                f"{row.outcome_label}: {100 * extra['risk_exposed']:.0f}% with vs "
                f"{100 * extra['risk_other']:.0f}% without {row.exposure_label.split(' (')[0]} "
                f"({row.effect} {est}, {ci})."
            )
        return f"{row.effect} {est} ({ci})."
    if row.kind == "change":
        labels = row.extra.get("labels", {})
        more = "more" if row.estimate < 0 else "less"
        size, ci = _estimate_and_ci(abs(row.estimate), row.ci_low, row.ci_high, False)
        return (
            f"{row.outcome_label.split(' (')[0]} improved by {size} points "
            f"{more} with {labels.get('exposed', 'the exposure')} than with "
            f"{labels.get('comparator', 'the comparator')} ({ci})."
        )
    if row.kind == "discrimination":
        extra = row.extra
        text = (
            f"Adding the biomarkers changed the cross-validated AUC from "
            f"{_auc(extra.get('auc_base'))} to {_auc(extra.get('auc_full'))} "
            f"(gain {est}, {ci})."
        )
        return text + _levels_in_words(row)
    return f"{row.effect} {est} ({ci})."


def _auc(value: float | None) -> str:
    return format_number(math.nan if value is None else float(value), 3)


def _levels_in_words(row: HypothesisResult) -> str:
    levels = row.extra.get("panel_levels") or {}
    if levels.get("status") != "ok":
        return ""
    odds, ci = _estimate_and_ci(levels["estimate"], levels["ci_low"], levels["ci_high"], True)
    way = "lower" if levels["estimate"] < 1 else "higher"
    return (
        f" Biomarker levels were {way} in those with “{row.outcome_label.split(' (')[0]}” "
        f"(odds ratio {odds} per SD of the panel's mean level, {ci})."
    )


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
        undecided = sum("interval includes no effect" in r.note for r in rows)
        if undecided:
            text += (
                f" For {undecided} of them the p-value was small but the confidence interval "
                "still included no effect, so they decide nothing."
            )
        text += _mde_phrase(rows)
    return text
