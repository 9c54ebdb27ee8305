"""Design-based versions of the plan's models (R ``svyglm``), beside the model-based ones.

When the plan names a survey design, every correlation, group comparison and change
hypothesis is also estimated by the survey-weighted estimating equations of R ``svyglm``
with Taylor-linearisation standard errors (:meth:`SurveyDesign.glm`):

* correlation / partial correlation: ``svyglm(outcome ~ exposure + covariates)``; the
  exposure's coefficient (a slope; for a 0/1 outcome a quasibinomial model and its odds
  ratio);
* group comparison: ``svyglm(outcome ~ group + covariates, family = quasibinomial())`` and
  the group's odds ratio (``adjusted_or``); without covariates for ``odds_ratio``; a linear
  probability model (difference in weighted proportions) for ``risk_difference``;
* change: ``svyglm(follow-up ~ group + baseline + covariates)`` on one row per participant,
  with the baseline row's design columns.

Each model uses the same complete cases and the same covariate columns (rare levels merged
per model) as the model-based analysis; rows outside them stay in the design with zero
weight, as R's subsetting of a design does (domain estimation). ``design.primary`` in the
plan chooses which analysis carries the verdict; the other one is reported beside it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from fibrosurvey.analysis.design import survey_design_for
from fibrosurvey.analysis.frames import (
    at_event,
    change_frame,
    covariate_matrix,
    model_covariates,
    vector,
)
from fibrosurvey.analysis.plan import (
    ChangeAnalysis,
    CorrelationAnalysis,
    Design,
    GroupComparison,
    Plan,
)
from fibrosurvey.analysis.results import HypothesisResult
from fibrosurvey.stats._result import Array, complete_cases
from fibrosurvey.stats.survey_design import SurveyDesign

__all__ = ["DESIGN_LABEL", "MODEL_LABEL", "add_design_models", "design_columns"]

DESIGN_LABEL = "design-based (survey-weighted GLM, linearisation SE)"
MODEL_LABEL = "model-based (complete cases, unweighted)"

# The fields of a hypothesis that belong to one analysis (swapped when the design is primary).
_ANALYSIS_FIELDS = ("method", "effect", "n", "estimate", "ci_low", "ci_high", "p", "status")


def design_columns(design: Design) -> list[str]:
    """Every column the design names, once."""
    columns: list[str] = []
    for value in (design.weights, design.strata, design.psu, design.fpc):
        if isinstance(value, str):
            columns.append(value)
        elif value is not None:
            columns.extend(value)
    return list(dict.fromkeys(columns))


def _is_binary(y: Array) -> bool:
    seen = y[~np.isnan(y)]
    return bool(seen.size) and bool(np.isin(seen, (0.0, 1.0)).all())


def _fit(
    data: pl.DataFrame,
    survey: SurveyDesign,
    y: Array,
    exposure: Array,
    others: list[Array],
    covariates: list[str],
    plan: Plan,
    family: str,
    exposure_name: str,
) -> dict[str, Any]:
    """svyglm of ``y`` on the exposure, ``others`` and the plan's covariates (one model)."""
    z, names = covariate_matrix(data, covariates, plan.categorical)
    keep = complete_cases(y, exposure, *others, z)
    z_kept, names = model_covariates(z[keep], names)
    predictors = np.full((data.height, 1 + len(others) + z_kept.shape[1]), np.nan)
    predictors[keep] = np.column_stack([exposure[keep], *(o[keep] for o in others), z_kept])
    labels = [exposure_name, *(f"_other{k}" for k in range(len(others))), *names]
    result = survey.glm(
        np.where(keep, y, np.nan), predictors, family, names=labels, alpha=1 - plan.confidence
    )
    coefficient = result.coefficient(exposure_name)
    ratio = family == "binomial"
    transform = math.exp if ratio else float
    return {
        "label": DESIGN_LABEL,
        "method": f"svyglm_{'quasibinomial' if ratio else 'gaussian'}_linearisation",
        "family": family,
        "n": int(result.n),
        "estimate": transform(coefficient.estimate),
        "ci_low": transform(coefficient.ci_low),
        "ci_high": transform(coefficient.ci_high),
        "p": float(coefficient.p),
        "coefficient": float(coefficient.estimate),
        "se": float(coefficient.se),
        "df": int(result.df),
        # The whole coefficient table (the baseline score of a change model is "_other0").
        "terms": {
            "names": list(result.names),
            "estimate": list(result.params),
            "se": list(result.se),
        },
        "null_value": 1.0 if ratio else 0.0,
        "status": "ok",
        "note": "",
    }


def _failed(error: Exception) -> dict[str, Any]:
    return {
        "label": DESIGN_LABEL,
        "method": "svyglm_linearisation",
        "n": 0,
        "estimate": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p": math.nan,
        "status": "not estimable",
        "note": f"design-based model could not be fitted: {error}",
    }


def _correlation_record(
    analysis: CorrelationAnalysis, plan: Plan, survey: SurveyDesign, data: pl.DataFrame, row: Any
) -> dict[str, Any]:
    y, x = vector(data, row.outcome), vector(data, row.exposure)
    family = "binomial" if _is_binary(y) else "gaussian"
    record = _fit(data, survey, y, x, [], plan.covariates_of(analysis), plan, family, row.exposure)
    record["effect"] = (
        "design-based odds ratio per unit of exposure"
        if family == "binomial"
        else "design-based slope (outcome units per unit of exposure)"
    )
    return record


def _group_record(
    analysis: GroupComparison, plan: Plan, survey: SurveyDesign, data: pl.DataFrame, row: Any
) -> dict[str, Any]:
    y, g = vector(data, row.outcome), vector(data, analysis.group)
    covariates = plan.covariates_of(analysis) if analysis.effect == "adjusted_or" else []
    family = "gaussian" if analysis.effect == "risk_difference" else "binomial"
    record = _fit(data, survey, y, g, [], covariates, plan, family, analysis.group)
    record["effect"] = {
        "adjusted_or": "design-based adjusted odds ratio",
        "odds_ratio": "design-based odds ratio",
        "risk_difference": "design-based risk difference",
    }[analysis.effect]
    return record


def _change_record(
    analysis: ChangeAnalysis, plan: Plan, survey: SurveyDesign, wide: pl.DataFrame, row: Any
) -> dict[str, Any]:
    post, pre = vector(wide, "_follow"), vector(wide, "_base")
    group = vector(wide, f"_exp_{row.exposure}")
    record = _fit(
        wide, survey, post, group, [pre], plan.covariates_of(analysis), plan, "gaussian",
        row.exposure,
    )  # fmt: skip
    record["effect"] = "design-based adjusted difference in follow-up score (points)"
    return record


def add_design_models(
    rows: list[HypothesisResult], analysis: Any, plan: Plan, frame: pl.DataFrame
) -> None:
    """Attach the design-based estimate to each of ``analysis``'s rows (no-op without a
    design or for discrimination); when the plan makes it primary, it carries the verdict."""
    design = plan.design
    if design is None or not design_columns(design):
        return
    if isinstance(analysis, ChangeAnalysis):
        data = change_frame(
            frame,
            outcome=analysis.outcome,
            exposures=analysis.exposures,
            covariates=[*plan.covariates_of(analysis), *design_columns(design)],
            baseline_event=analysis.baseline_event,
            followup_event=analysis.followup_event,
            exposure_event=analysis.exposure_event,
        )
    elif isinstance(analysis, CorrelationAnalysis | GroupComparison):
        data = at_event(frame, analysis.event)
    else:
        return
    # One design for all the analysis's models (each model's complete cases are its domain).
    survey = survey_design_for(data, design.weights, design.strata, design.psu, design.fpc)
    for row in rows:
        try:
            if isinstance(analysis, CorrelationAnalysis):
                record = _correlation_record(analysis, plan, survey, data, row)
            elif isinstance(analysis, GroupComparison):
                record = _group_record(analysis, plan, survey, data, row)
            else:
                record = _change_record(analysis, plan, survey, data, row)
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as error:
            record = _failed(error)
            record["effect"] = row.effect
        record["primary"] = design.primary == "design"
        if design.primary == "design":
            _make_primary(row, record)
        else:
            row.extra["design_based"] = record


def _make_primary(row: HypothesisResult, record: dict[str, Any]) -> None:
    """The design-based analysis carries the verdict; the model-based one is kept beside it."""
    model = {key: getattr(row, key) for key in _ANALYSIS_FIELDS}
    model.update(label=MODEL_LABEL, note=row.note, null_value=row.null_value, primary=False)
    row.extra["model_based"] = model
    for key in _ANALYSIS_FIELDS:
        setattr(row, key, record[key])
    row.null_value = float(record.get("null_value", row.null_value))
    row.note = record["note"]
    row.extra["design_based"] = record
