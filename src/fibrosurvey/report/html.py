"""The self-contained HTML report: one file, inline CSS and SVG, no scripts, no network."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2

from fibrosurvey.analysis.design_models import MODEL_LABEL
from fibrosurvey.analysis.numbers import (
    MISSING,
    format_estimate,
    format_number,
    interval_decimals,
)
from fibrosurvey.analysis.results import HypothesisResult, Results
from fibrosurvey.recruitment.quality import FlowStage, flow_diagram_svg
from fibrosurvey.report import figures

__all__ = ["render_html", "write_report"]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(float(value))


def _thousands(value: Any) -> str:
    return f"{int(value):,}" if _is_number(value) else MISSING


def _float(value: Any) -> float:
    return float(value) if _is_number(value) else math.nan


def _estimate_ci(record: Any, row: HypothesisResult | None = None) -> str:
    """A hypothesis's (or a sensitivity record's) estimate and interval, by the one rule."""
    row = row or record
    get = record.get if isinstance(record, dict) else lambda key: getattr(record, key)
    return format_estimate(
        _float(get("estimate")),
        _float(get("ci_low")),
        _float(get("ci_high")),
        ratio=row.null_value == 1.0,
    )


def _mde(row: HypothesisResult) -> str:
    """The minimal detectable effect at the precision of the row's interval."""
    decimals = interval_decimals(row.estimate, row.ci_low, row.ci_high, ratio=row.null_value == 1)
    return format_number(_float(row.mde), decimals)


def _mean_ci(record: dict[str, Any]) -> str:
    return format_estimate(
        _float(record["estimate"]), _float(record["ci_low"]), _float(record["ci_high"])
    )


def _unweighted_mean(record: dict[str, Any]) -> str:
    """The unweighted mean at the precision of the weighted estimate beside it."""
    decimals = interval_decimals(
        _float(record["estimate"]), _float(record["ci_low"]), _float(record["ci_high"])
    )
    return format_number(_float(record["unweighted"]), decimals)


def _pval(value: Any) -> str:
    if not _is_number(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if _is_number(value) else MISSING


def _slug(text: str) -> str:
    return text.replace(" ", "-")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fibrosurvey.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        thousands=_thousands,
        estimate_ci=_estimate_ci,
        mde=_mde,
        mean_ci=_mean_ci,
        unweighted_mean=_unweighted_mean,
        pval=_pval,
        pct=_pct,
        slug=_slug,
        short=lambda text: str(text).split(" (")[0],
    )
    return env


def _claim_figures(results: Results) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for claim in results.claims:
        rows = results.hypotheses_of(claim.id)
        made: list[dict[str, str]] = []
        by_kind: dict[str, list[HypothesisResult]] = {}
        for row in rows:
            key = "correlation" if row.kind in ("correlation", "partial_correlation") else row.kind
            by_kind.setdefault(key, []).append(row)
        if "correlation" in by_kind:
            made.append(
                {
                    "svg": figures.forest_plot(by_kind["correlation"], f"{claim.id}: correlations"),
                    "caption": (
                        "Each dot is a (partial) Spearman correlation with its 95% confidence "
                        "interval; colour gives the verdict. Left of the dashed line: higher "
                        "levels go with lower scores (or, for a yes/no outcome, lower levels in "
                        "those with a 'yes'). Where a higher score means better health, the "
                        "claim predicts a correlation right of the line."
                    ),
                }
            )
        if "group_comparison" in by_kind:
            made.append(
                {
                    "svg": figures.prevalence_plot(
                        by_kind["group_comparison"], f"{claim.id}: how common each condition is"
                    ),
                    "caption": (
                        "Bars: share of participants with each condition, with 95% (Wilson) "
                        "confidence intervals. OR: odds ratio adjusted for the covariates named "
                        "in the methods."
                    ),
                }
            )
        if "change" in by_kind:
            made.append(
                {
                    "svg": figures.change_plot(
                        by_kind["change"], f"{claim.id}: change over 3 months"
                    ),
                    "caption": (
                        "Left: average change from baseline to 3 months in each group (raw, "
                        "not adjusted; everyone tends to improve because high scores drift back "
                        "towards average). Right: the adjusted difference between the groups, "
                        "which is what the verdict uses."
                    ),
                }
            )
        if "discrimination" in by_kind:
            made.append(
                {
                    "svg": figures.roc_plot(by_kind["discrimination"], f"{claim.id}: ROC curves"),
                    "caption": (
                        "Cross-validated ROC curves. An AUC of 0.5 is no better than chance and 1 "
                        "is perfect; the verdict rests on the gain from adding the biomarkers."
                    ),
                }
            )
        out[claim.id] = made
    return out


def _sensitivity_rows(results: Results) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for claim in results.claims:
        rows = []
        for h in results.hypotheses_of(claim.id):
            for record in h.sensitivity.values():
                estimate = record.get("estimate")
                rows.append(
                    {
                        "h": h,
                        "label": record.get("label", record.get("status", "")),
                        "n": record.get("n"),
                        "estimate": estimate if _is_number(estimate) else None,
                        "ci_low": record.get("ci_low"),
                        "ci_high": record.get("ci_high"),
                        "p": record.get("p"),
                        "status": record.get("status", ""),
                    }
                )
        out[claim.id] = rows
    return out


def _flow_svg(results: Results) -> str:
    """The participant-flow diagram (STROBE item 13), or "" when the results carry no flow."""
    if not results.flow:
        return ""
    stages = [FlowStage(**stage) for stage in results.flow["stages"]]
    return flow_diagram_svg(stages, results.flow.get("excluded_by_reason", {}))


def _analysis_rows(results: Results) -> dict[str, list[dict[str, Any]]]:
    """Model-based and design-based analyses of each hypothesis, the primary one first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for claim in results.claims:
        rows = []
        for h in results.hypotheses_of(claim.id):
            design_primary = "model_based" in h.extra
            other = h.extra.get("model_based" if design_primary else "design_based")
            if other is None:
                continue
            primary = {
                "label": h.extra["design_based"]["label"] if design_primary else MODEL_LABEL,
                "effect": h.effect,
                "n": h.n,
                "estimate": h.estimate,
                "ci_low": h.ci_low,
                "ci_high": h.ci_high,
                "p": h.p,
                "status": h.status,
                "null_value": h.null_value,
            }
            for role, record in (("primary", primary), ("secondary", other)):
                rows.append(
                    {
                        "h": h,
                        "role": role,
                        "design_primary": design_primary,
                        "label": record["label"],
                        "effect": record.get("effect", ""),
                        "n": record.get("n"),
                        "p": record.get("p"),
                        "status": record.get("status", ""),
                        "note": record.get("note", "") if role == "secondary" else "",
                        "shown": format_estimate(
                            _float(record.get("estimate")),
                            _float(record.get("ci_low")),
                            _float(record.get("ci_high")),
                            ratio=record.get("null_value", h.null_value) == 1.0,
                        ),
                    }
                )
        out[claim.id] = rows
    return out


def render_html(results: Results) -> str:
    """The report as one HTML string."""
    asked = [m for m in results.quality.get("missingness", []) if m["not_started_pct"] < 100]
    figure_set = {
        "claims": _claim_figures(results),
        "distributions": figures.distributions_plot(results.distributions),
        "missingness": figures.missingness_plot(asked),
    }
    registered = ""
    for line in results.plan_text.splitlines():
        if line.startswith("registered:"):
            registered = line.split(":", 1)[1].strip().strip("\"'")
    template = _environment().get_template("report.html")
    return template.render(
        r=results,
        flow_svg=_flow_svg(results),
        figures=figure_set,
        hypotheses={c.id: results.hypotheses_of(c.id) for c in results.claims},
        sensitivity=_sensitivity_rows(results),
        analyses=_analysis_rows(results),
        registered=registered,
    )


def write_report(results: Results, path: str | Path) -> Path:
    """Write the report to ``path`` (directories created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(results), encoding="utf-8")
    return target
