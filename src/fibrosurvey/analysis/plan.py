"""The analysis plan: a YAML file fixed before the data are seen, validated here.

A plan names derived variables (log transforms, thresholds, exposure groups), covariate sets
and claims; each claim holds analyses that expand into hypotheses (one per exposure x outcome).
Errors name the file, the line and the key, e.g.
``plans/x.yaml line 31 (claims[0].analyses[0].kind): Input should be 'correlation', ...``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from fibrosurvey.analysis.yaml_lines import LineMap, line_for, load_with_lines
from fibrosurvey.dataset import MAX_MINUTES_TO_CENTRIFUGE
from fibrosurvey.safe_yaml import UnsafeYamlError

if TYPE_CHECKING:
    from fibrosurvey.recruitment.quality import ExclusionRule

__all__ = [
    "DEFAULT_PLAN",
    "Analysis",
    "CategoryDerive",
    "Claim",
    "Derivation",
    "Outcome",
    "Plan",
    "PlanError",
    "Rule",
    "default_plan_text",
    "load_plan",
    "parse_plan",
]

DEFAULT_PLAN = "ced-claims.yaml"
Direction = Literal["positive", "negative"]
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class PlanError(ValueError):
    """A plan that cannot be used; the message names the file, line and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """A condition on columns: a comparison, or ``any``/``all`` of nested rules.

    Missing values follow Kleene logic: ``any`` is true when one part is true even if others
    are missing; otherwise missing parts make the result missing.
    """

    column: str | None = None
    op: Op | None = None
    value: float | list[float] | None = None
    any: list[Rule] | None = None
    all: list[Rule] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Rule:
        comparison = self.column is not None or self.op is not None or self.value is not None
        forms = [comparison, self.any is not None, self.all is not None]
        if sum(forms) != 1:
            raise ValueError("a rule is either {column, op, value} or {any: [...]} or {all: [...]}")
        if comparison and (self.column is None or self.op is None or self.value is None):
            raise ValueError("a comparison rule needs column, op and value")
        if comparison and (self.op == "in") != isinstance(self.value, list):
            raise ValueError("op 'in' takes a list value; other operators take one number")
        return self

    def columns(self) -> Iterator[str]:
        if self.column is not None:
            yield self.column
        for part in (self.any or []) + (self.all or []):
            yield from part.columns()

    def describe(self) -> str:
        """The rule in words, for the report."""
        if self.column is not None:
            value = self.value
            if isinstance(value, list):
                shown = "{" + ", ".join(_number(v) for v in value) + "}"
            else:
                shown = _number(float(value))  # type: ignore[arg-type]
            op = "is one of" if self.op == "in" else self.op
            return f"{self.column} {op} {shown}"
        joiner, parts = (" or ", self.any) if self.any is not None else (" and ", self.all or [])
        return "(" + joiner.join(part.describe() for part in parts) + ")"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class _DeriveBase(_Strict):
    name: Name
    label: str = ""


class LogDerive(_DeriveBase):
    """Natural log of a strictly positive column."""

    kind: Literal["log"]
    column: str


class QuantileDerive(_DeriveBase):
    """1 when the column is below (above) its sample quantile at the reference event."""

    kind: Literal["below_quantile", "above_quantile"]
    column: str
    quantile: float = Field(gt=0, lt=1)
    reference_event: str = "baseline"


class CategoryDerive(_DeriveBase):
    """A text column (e.g. ``lab_matrix``) as integer codes 0, 1, ... in the order of ``levels``
    (the first level is the reference when the code is a categorical covariate); a value not
    in ``levels``, or missing, gives a missing code."""

    kind: Literal["category"]
    column: str
    levels: list[str] = Field(min_length=2)


class ConditionDerive(_DeriveBase):
    """1 when the rule holds, 0 when it does not, missing when it cannot be decided."""

    kind: Literal["condition"]
    rule: Rule


class GroupsDerive(_DeriveBase):
    """1 for the exposed group, 0 for the comparator, missing for everyone else."""

    kind: Literal["groups"]
    exposed: Rule
    comparator: Rule
    exposed_label: str = "exposed"
    comparator_label: str = "comparator"


Derivation = Annotated[
    LogDerive | QuantileDerive | CategoryDerive | ConditionDerive | GroupsDerive,
    Field(discriminator="kind"),
]


class Outcome(_Strict):
    column: str
    label: str = ""
    # The sign the claim predicts for this outcome; overrides the analysis default.
    expected: Direction | None = None
    note: str = ""

    @classmethod
    def coerce(cls, value: Any) -> Any:
        return {"column": value} if isinstance(value, str) else value


class _AnalysisBase(_Strict):
    label: str = ""
    event: str = "baseline"
    covariates: list[str] | str = Field(default_factory=list)


class CorrelationAnalysis(_AnalysisBase):
    """Spearman (or partial Spearman given covariates) of each exposure with each outcome."""

    kind: Literal["correlation", "partial_correlation"]
    exposures: list[str] = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=1)
    expected: Direction

    _coerce = field_validator("outcomes", mode="before")(
        lambda v: [Outcome.coerce(x) for x in v] if isinstance(v, list) else v
    )


class GroupComparison(_AnalysisBase):
    """Binary outcomes compared between a binary group (1) and the rest (0)."""

    kind: Literal["group_comparison"]
    group: str
    group_label: str = ""
    outcomes: list[Outcome] = Field(min_length=1)
    expected: Direction = "positive"
    # Which effect is tested and carries the verdict; the others are reported alongside.
    effect: Literal["adjusted_or", "odds_ratio", "risk_difference"] = "adjusted_or"

    _coerce = field_validator("outcomes", mode="before")(
        lambda v: [Outcome.coerce(x) for x in v] if isinstance(v, list) else v
    )


class ChangeAnalysis(_AnalysisBase):
    """Follow-up outcome by exposure group, adjusted for baseline (ANCOVA), IPW sensitivity."""

    kind: Literal["change"]
    outcome: str
    outcome_label: str = ""
    exposures: list[str] = Field(min_length=1)
    baseline_event: str = "baseline"
    followup_event: str = "followup_3m"
    exposure_event: str = "followup_3m"
    expected: Direction = "negative"
    ipw: bool = True
    # Heteroskedasticity-consistent (HC3) interval and p for the group effect.
    robust: bool = True


class Discrimination(_AnalysisBase):
    """Cross-validated AUC of panel + covariates vs covariates alone, per target."""

    kind: Literal["discrimination"]
    targets: list[Outcome] = Field(min_length=1)
    panel: list[str] = Field(min_length=1)
    folds: int = Field(default=5, ge=2, le=20)
    expected: Direction = "positive"
    # The levels the claim says identify the target: "lower" (a deficiency) or "higher". A
    # panel that adds discrimination through levels the other way contradicts such a claim;
    # None: any gain in discrimination counts.
    panel_levels: Literal["lower", "higher"] | None = None

    _coerce = field_validator("targets", mode="before")(
        lambda v: [Outcome.coerce(x) for x in v] if isinstance(v, list) else v
    )


Analysis = Annotated[
    CorrelationAnalysis | GroupComparison | ChangeAnalysis | Discrimination,
    Field(discriminator="kind"),
]


class DesignEstimate(_Strict):
    """Design-based (Taylor linearisation) means or proportions; descriptive, no verdict."""

    kind: Literal["design_mean", "design_proportion"]
    variables: list[str] = Field(min_length=1)
    by: str | None = None
    event: str = "baseline"
    label: str = ""
    # Proportion interval (R svyciprop method); logit, R's default, stays inside (0, 1).
    ci: Literal["logit", "xlogit", "wald", "mean", "asin", "beta"] = "logit"


class Claim(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    statement: str
    family: str | None = None
    # How the claim-level verdict follows from the hypotheses' verdicts (see verdicts.py).
    verdict_rule: Literal["any", "all", "majority"] = "any"
    causal_note: str = ""
    analyses: list[Analysis] = Field(min_length=1)

    @property
    def family_name(self) -> str:
        return self.family or self.id


class Design(_Strict):
    """Survey design columns; strata, psu and fpc take a list (one per stage) for multi-stage."""

    weights: str | None = None
    strata: str | list[str] | None = None
    psu: str | list[str] | None = None
    fpc: str | list[str] | None = None
    # Which analysis of the correlation, group and change models carries the verdict:
    # "model" (complete cases, unweighted) or "design" (survey-weighted GLMs, R svyglm).
    # The other one is reported beside it.
    primary: Literal["model", "design"] = "model"

    @model_validator(mode="after")
    def _design_primary_needs_a_design(self) -> Design:
        if self.primary == "design" and not any((self.weights, self.strata, self.psu)):
            raise ValueError(
                "primary: design needs a design: name weights, strata or psu in the design "
                "block, or set primary: model"
            )
        return self


# Participants sampled (seeded) for the analyses that do not reduce to sums when a plan runs out
# of core (`analyze --engine duckdb|spark`): about a minute of primary analyses on 2 cores.
OUT_OF_CORE_SAMPLE = 100_000


class MissingPolicy(_Strict):
    primary: Literal["complete_case"] = "complete_case"
    sensitivity: Literal["multiple_imputation", "none"] = "multiple_imputation"
    imputations: int = Field(default=5, ge=2, le=200)


class QualityRules(_Strict):
    max_minutes_to_centrifuge: float = MAX_MINUTES_TO_CENTRIFUGE


class QualityExclusion(_Strict):
    """Which participants flagged for response quality (open recruitment) the analysis leaves
    out: every flagged one (``reasons`` unset), those with one of ``reasons``, or none
    (``exclude_flagged: false``). Data without quality flags are analysed whole."""

    exclude_flagged: bool = True
    reasons: list[str] | None = None

    @field_validator("reasons")
    @classmethod
    def _known_reasons(cls, value: list[str] | None) -> list[str] | None:
        from fibrosurvey.recruitment.quality import QUALITY_REASONS

        unknown = sorted(set(value or ()) - set(QUALITY_REASONS))
        if unknown:
            raise ValueError(f"unknown reasons {unknown}; allowed: {sorted(QUALITY_REASONS)}")
        return value

    def rule(self) -> ExclusionRule:
        from fibrosurvey.recruitment.quality import ExclusionRule

        reasons = frozenset(self.reasons) if self.reasons is not None else None
        return ExclusionRule(self.exclude_flagged, reasons)


class Plan(_Strict):
    plan_version: Literal[1]
    title: str
    registered: str
    description: str = ""
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    power: float = Field(default=0.8, gt=0.5, lt=1)
    seed: int = 20261123
    missing: MissingPolicy = MissingPolicy()
    design: Design | None = None
    quality: QualityRules = QualityRules()
    quality_exclusion: QualityExclusion = QualityExclusion()
    covariate_sets: dict[str, list[str]] = Field(default_factory=dict)
    # Covariates entered as indicator (dummy) columns rather than as numbers, e.g. demo_sex.
    categorical: list[str] = Field(default_factory=list)
    # Categorical covariates whose rare levels (fewer than 30 rows) are left out of each model,
    # restricting it to the common levels, instead of joining the reference level (pooling).
    restrict_rare_levels: list[str] = Field(default_factory=list)
    derive: list[Derivation] = Field(default_factory=list)
    claims: list[Claim] = Field(min_length=1)
    descriptive: list[DesignEstimate] = Field(default_factory=list)

    _source: str = PrivateAttr(default="<plan>")
    _text: str = PrivateAttr(default="")
    _lines: LineMap = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _names_are_consistent(self) -> Plan:
        names = [d.name for d in self.derive]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"derived names must be unique; repeated: {duplicates}")
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"claim ids must be unique; got {ids}")
        for claim in self.claims:
            for analysis in claim.analyses:
                if isinstance(analysis.covariates, str) and (
                    analysis.covariates not in self.covariate_sets
                ):
                    raise ValueError(
                        f"claim {claim.id}: covariate set {analysis.covariates!r} is not defined; "
                        f"defined sets: {sorted(self.covariate_sets)}"
                    )
        return self

    # -- provenance -------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self._source

    @property
    def text(self) -> str:
        """The plan exactly as fixed (printed in the report)."""
        return self._text

    def where(self, path: tuple[str | int, ...]) -> str:
        """``file line N (key.path)`` for messages."""
        line = line_for(self._lines, path)
        at = f" line {line}" if line is not None else ""
        return f"{self._source}{at} ({_format_path(path)})"

    def covariates_of(self, analysis: Any) -> list[str]:
        covariates = analysis.covariates
        return list(self.covariate_sets[covariates]) if isinstance(covariates, str) else covariates

    def column_references(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Every column the plan reads, with the key path that names it (for errors)."""
        derived: set[str] = set()
        for i, d in enumerate(self.derive):
            base: tuple[str | int, ...] = ("derive", i)
            if isinstance(d, LogDerive | QuantileDerive | CategoryDerive):
                if d.column not in derived:
                    yield (*base, "column"), d.column
            elif isinstance(d, ConditionDerive):
                yield from (((*base, "rule"), c) for c in d.rule.columns() if c not in derived)
            else:
                for key in ("exposed", "comparator"):
                    rule: Rule = getattr(d, key)
                    yield from (((*base, key), c) for c in rule.columns() if c not in derived)
            derived.add(d.name)
        for name, columns in self.covariate_sets.items():
            for j, column in enumerate(columns):
                if column not in derived:
                    yield ("covariate_sets", name, j), column
        for i, claim in enumerate(self.claims):
            for j, analysis in enumerate(claim.analyses):
                where: tuple[str | int, ...] = ("claims", i, "analyses", j)
                for keys, column in _analysis_columns(analysis):
                    if column not in derived:
                        yield (*where, *keys), column
        for i, estimate in enumerate(self.descriptive):
            for j, column in enumerate(estimate.variables):
                if column not in derived:
                    yield ("descriptive", i, "variables", j), column
            if estimate.by is not None and estimate.by not in derived:
                yield ("descriptive", i, "by"), estimate.by
        if self.design is not None:
            for key in ("weights", "strata", "psu", "fpc"):
                column = getattr(self.design, key)
                if isinstance(column, list):
                    for k, name in enumerate(column):
                        yield ("design", key, k), name
                elif column is not None:
                    yield ("design", key), column


def _analysis_columns(analysis: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(analysis.covariates, list):
        for k, column in enumerate(analysis.covariates):
            yield ("covariates", k), column
    if isinstance(analysis, CorrelationAnalysis):
        for k, column in enumerate(analysis.exposures):
            yield ("exposures", k), column
        for k, outcome in enumerate(analysis.outcomes):
            yield ("outcomes", k), outcome.column
    elif isinstance(analysis, GroupComparison):
        yield ("group",), analysis.group
        for k, outcome in enumerate(analysis.outcomes):
            yield ("outcomes", k), outcome.column
    elif isinstance(analysis, ChangeAnalysis):
        yield ("outcome",), analysis.outcome
        for k, column in enumerate(analysis.exposures):
            yield ("exposures", k), column
    elif isinstance(analysis, Discrimination):
        for k, target in enumerate(analysis.targets):
            yield ("targets", k), target.column
        for k, column in enumerate(analysis.panel):
            yield ("panel", k), column


def _format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top>"


# Each message costs a line lookup and a spelling hint: a hostile plan can hold thousands.
_SHOWN_ERRORS = 20


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Validate plan text; raise :class:`PlanError` naming the line and key on any problem."""
    try:
        data, lines = load_with_lines(text)
    except UnsafeYamlError as exc:
        raise PlanError(f"{source} {exc}") from None
    except Exception as exc:  # yaml.YAMLError carries its own line/column
        raise PlanError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PlanError(f"{source}: a plan is a YAML mapping with plan_version, title, claims")
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        messages = []
        errors = exc.errors()
        for error in errors[:_SHOWN_ERRORS]:
            path = _clean_loc(error["loc"])
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = (*path, "kind")
            line = line_for(lines, path)
            at = f" line {line}" if line is not None else ""
            hint = _hint(error, path)
            messages.append(f"{source}{at} ({_format_path(path)}): {error['msg']}{hint}")
        if len(errors) > _SHOWN_ERRORS:
            messages.append(f"... and {len(errors) - _SHOWN_ERRORS} more problems")
        raise PlanError("invalid analysis plan:\n  " + "\n  ".join(messages)) from None
    plan._source = source
    plan._text = text
    plan._lines = lines
    return plan


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union-tag parts (e.g. 'partial_correlation') that are not YAML keys."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and (
            part in _KIND_TAGS or part.startswith("function-") or part.endswith("]")
        ):
            continue
        else:
            out.append(part)
    return tuple(out)


_KIND_TAGS = {
    "log",
    "below_quantile",
    "above_quantile",
    "category",
    "condition",
    "groups",
    "correlation",
    "partial_correlation",
    "group_comparison",
    "change",
    "discrimination",
}


def _hint(error: Any, path: tuple[str | int, ...]) -> str:
    if error["type"] == "extra_forbidden" and path:
        key = str(path[-1])
        known = [
            *Plan.model_fields,
            *Claim.model_fields,
            *CorrelationAnalysis.model_fields,
            *GroupComparison.model_fields,
            *ChangeAnalysis.model_fields,
            *Discrimination.model_fields,
        ]
        close = difflib.get_close_matches(key, known, n=1)
        return f"; did you mean {close[0]!r}?" if close else ""
    return ""


def load_plan(path: str | Path | None = None) -> Plan:
    """Load a plan file; ``None`` loads the default plan shipped with the package."""
    if path is None:
        return parse_plan(default_plan_text(), f"fibrosurvey/analysis/plans/{DEFAULT_PLAN}")
    file = Path(path)
    if not file.is_file():
        raise PlanError(f"analysis plan {file} does not exist; pass --plan with a YAML file")
    return parse_plan(file.read_text(encoding="utf-8"), str(file))


def default_plan_text() -> str:
    return (
        resources.files("fibrosurvey.analysis")
        .joinpath("plans", DEFAULT_PLAN)
        .read_text(encoding="utf-8")
    )
