"""Design-based descriptive estimates (weights, strata, PSUs, fpc; Taylor linearisation)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from fibrosurvey.analysis.frames import at_event, vector
from fibrosurvey.analysis.labels import label_of
from fibrosurvey.analysis.plan import Design, Plan, PlanError
from fibrosurvey.stats.survey_design import SurveyDesign, SurveyEstimate

__all__ = ["design_estimates", "design_in_words", "survey_design_for"]


def design_in_words(design: Design | None) -> str:
    """The design elements a plan names, in words ("" when it names none).

    >>> design_in_words(Design(weights="w", psu="county"))
    'sampling weights (w) and clusters (county)'
    >>> design_in_words(None)
    ''
    """
    if design is None:
        return ""
    parts = [
        f"{what} ({column})"
        for what, column in (
            ("sampling weights", design.weights),
            ("strata", design.strata),
            ("clusters", design.psu),
            ("a finite population correction", design.fpc),
        )
        if column
    ]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def survey_design_for(
    data: pl.DataFrame,
    weights: str | None,
    strata: str | list[str] | None = None,
    psu: str | list[str] | None = None,
    fpc: str | list[str] | None = None,
    lonely_psu: str = "adjust",
) -> SurveyDesign:
    """A :class:`SurveyDesign` from column names (no weights = equal weights).

    ``strata``, ``psu`` and ``fpc`` take one column or a list, one per sampling stage.
    """
    w = np.ones(data.height) if weights is None else vector(data, weights)
    if weights is not None and np.isnan(w).any():
        row = int(np.flatnonzero(np.isnan(w))[0])
        raise PlanError(
            f"design weights column {weights!r} is missing at row {row}; every analysed row "
            "needs a weight (fill it in or drop the design from the plan)"
        )

    def labels(names: str | list[str] | None) -> list[object] | None:
        if names is None:
            return None
        return [
            data.get_column(c).to_numpy() for c in ([names] if isinstance(names, str) else names)
        ]

    return SurveyDesign(
        w,
        strata=labels(strata),
        psu=labels(psu),
        fpc=None
        if fpc is None
        else [vector(data, c) for c in ([fpc] if isinstance(fpc, str) else fpc)],
        lonely_psu=lonely_psu,
    )


def _record(
    variable: str, label: str, group: str, result: SurveyEstimate, raw: float
) -> dict[str, Any]:
    return {
        "variable": variable,
        "label": label,
        "group": group,
        "estimate": float(result.estimate),
        "ci_low": float(result.ci_low),
        "ci_high": float(result.ci_high),
        "se": float(result.se),
        "n": int(result.n),
        "unweighted": raw,
        "method": result.method,
    }


def design_estimates(plan: Plan, frame: pl.DataFrame) -> list[dict[str, Any]]:
    """One record per variable (and group) for each ``descriptive`` entry of the plan."""
    design_spec = plan.design
    alpha = 1 - plan.confidence
    out: list[dict[str, Any]] = []
    for spec in plan.descriptive:
        data = at_event(frame, spec.event)
        if design_spec is None:
            design = survey_design_for(data, None)
        else:
            design = survey_design_for(
                data, design_spec.weights, design_spec.strata, design_spec.psu, design_spec.fpc
            )
        records: list[dict[str, Any]] = []
        for variable in spec.variables:
            y = vector(data, variable)
            label = label_of(plan, variable)
            if spec.by is None:
                result = (
                    design.proportion(y, alpha, ci=spec.ci)
                    if spec.kind == "design_proportion"
                    else design.mean(y, alpha)
                )
                raw = float(np.nanmean(y)) if np.isfinite(y).any() else math.nan
                records.append(_record(variable, label, "", result, raw))
            else:
                groups = data.get_column(spec.by).cast(pl.Float64).to_numpy()
                by = design.mean_by(y, groups, alpha)
                for key, result in sorted(by.items()):
                    mask = groups == float(key)
                    raw = float(np.nanmean(y[mask])) if np.isfinite(y[mask]).any() else math.nan
                    group_label = f"{label_of(plan, spec.by).split(' (')[0]}: {_level(key)}"
                    records.append(_record(variable, label, group_label, result, raw))
        out.append(
            {
                "label": spec.label or spec.kind,
                "kind": spec.kind,
                "by": spec.by,
                "event": spec.event,
                "design": None if design_spec is None else design_spec.model_dump(),
                "design_text": design_in_words(design_spec),
                "estimates": records,
            }
        )
    return out


def _level(key: str) -> str:
    """0/1 group codes read as no/yes; other codes as they are."""
    try:
        value = float(key)
    except ValueError:
        return key
    return {0.0: "no", 1.0: "yes"}.get(value, f"{value:g}")
