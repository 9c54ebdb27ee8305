"""The schema every instrument definition file must satisfy.

A definition is data (YAML), validated here at load time so a broken file fails loudly,
naming the file and the field, before anything is scored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BandsRule",
    "BmiRule",
    "CheckboxChoice",
    "Condition",
    "CountRegionsRule",
    "CriteriaRule",
    "EnableWhen",
    "FlagRule",
    "Instrument",
    "Item",
    "LanguageInfo",
    "MeanRule",
    "Option",
    "ScoreRule",
    "SumOfScoresRule",
    "SumRule",
    "ThresholdRule",
]

LANGUAGE_CODE = r"^[a-z]{2}$"
Text = dict[Annotated[str, Field(pattern=LANGUAGE_CODE)], str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanguageInfo(_Strict):
    validated_translation: bool
    note: str = ""


class Option(_Strict):
    code: int
    label: Text
    loinc: str | None = None
    # "Prefer not to answer": stored as given, but never a value (empty in flat files, missing
    # in scores); its own status for analysts.
    prefer_not_to_answer: bool = False


Operator = Literal["exists", "=", "!=", ">", "<", ">=", "<="]


class EnableWhen(_Strict):
    """One condition of skip logic, as FHIR ``Questionnaire.item.enableWhen``.

    ``question`` is the gate item's column (``tx_cbd_product``, or ``demo_sex`` from another
    instrument of the same event). ``answer`` is a number (an answer code for choice items), or
    true/false for ``exists``. A gate that is itself disabled counts as not answered.
    """

    question: Annotated[str, Field(pattern=r"^[a-z0-9]+_[a-z0-9_]+$")]
    operator: Operator
    answer: float | bool

    @model_validator(mode="after")
    def _answer_fits_operator(self) -> EnableWhen:
        if (self.operator == "exists") != isinstance(self.answer, bool):
            raise ValueError(
                f"enable_when on {self.question!r}: 'exists' takes true or false, "
                "every other operator a number"
            )
        return self


class CheckboxChoice(_Strict):
    """One box of a multiple-answer question (a REDCap checkbox field), answered 0 or 1.

    Each box is its own item (column ``<instrument>_<field>___<code>``, as REDCap names the
    export column); ``field`` and ``question`` keep the question the boxes belong to, the
    item's text is the box's label.
    """

    field: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    code: Annotated[str, Field(pattern=r"^-?[A-Za-z0-9_.]+$")]
    question: Text


class Item(_Strict):
    """One question. Its flat-file column is ``<instrument>_<id>``."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    text: Text
    # text: free text (names, notes); date: an ISO date YYYY-MM-DD. Neither is scored.
    kind: Literal["choice", "integer", "number", "text", "date"] = "choice"
    option_set: str | None = None
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    loinc: str | None = None
    # A required item must be answered before the participant may move on; items can still be
    # skipped in imported data, where scoring rules decide what missing means.
    required: bool = False
    column: str = ""
    # A direct identifier (name, e-mail, date of birth...): stored apart and encrypted like
    # contact details, and never written to a de-identified export.
    identifier: bool = False
    checkbox: CheckboxChoice | None = None
    # Skip logic: the item is asked only when these conditions hold (all of them, or any with
    # enable_behavior "any"); or, where enableWhen cannot say it, when a FHIRPath expression
    # (SDC enableWhenExpression) is true. Not both.
    enable_when: tuple[EnableWhen, ...] = ()
    enable_behavior: Literal["all", "any"] = "all"
    enable_when_expression: str | None = None

    @model_validator(mode="after")
    def _numeric_items_have_bounds(self) -> Item:
        if self.kind in ("integer", "number") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"item {self.id!r}: numeric items need minimum and maximum")
        if self.kind == "choice" and not (self.options or self.option_set):
            raise ValueError(f"item {self.id!r}: choice items need options or option_set")
        if self.enable_when and self.enable_when_expression is not None:
            raise ValueError(
                f"item {self.id!r}: use enable_when or enable_when_expression, not both"
            )
        return self

    @property
    def gated(self) -> bool:
        """Whether skip logic may hide this item."""
        return bool(self.enable_when) or self.enable_when_expression is not None

    @property
    def codes(self) -> tuple[int, ...]:
        return tuple(option.code for option in self.options)

    @property
    def prefer_not_to_answer_codes(self) -> tuple[int, ...]:
        return tuple(option.code for option in self.options if option.prefer_not_to_answer)

    def allowed(self) -> str:
        """Human-readable allowed values, for error messages."""
        if self.kind == "choice":
            return ", ".join(str(code) for code in self.codes)
        if self.kind == "text":
            return "any text"
        if self.kind == "date":
            return "a date YYYY-MM-DD"
        kind = "whole number" if self.kind == "integer" else "number"
        return f"{kind} from {self.minimum:g} to {self.maximum:g}"


class _Rule(_Strict):
    # The score when every item it reads is not applicable (hidden by skip logic), where the
    # instrument says what that means (ID Migraine: no headaches -> not positive). Without it
    # such a score is missing.
    when_not_applicable: float | None = None


class SumRule(_Rule):
    """Sum of items, optionally prorated when some are missing, then divided and rounded."""

    rule: Literal["sum"]
    id: str
    items: tuple[str, ...]
    # Fewer answered than this -> missing. Between this and all -> prorated: sum * k / answered.
    min_answered: int | None = None
    divide_by: float = 1.0
    rounding: Literal["none", "half_up"] = "none"
    minimum: float
    maximum: float


class MeanRule(_Rule):
    rule: Literal["mean"]
    id: str
    items: tuple[str, ...]
    min_answered: int | None = None
    minimum: float
    maximum: float


class SumOfScoresRule(_Rule):
    """Sum of earlier scores; missing when any of them is missing."""

    rule: Literal["sum_of_scores"]
    id: str
    scores: tuple[str, ...]
    minimum: float
    maximum: float


class Band(_Strict):
    minimum: float
    maximum: float
    label: str


class BandsRule(_Rule):
    rule: Literal["bands"]
    id: str
    score: str
    bands: tuple[Band, ...]


class FlagRule(_Rule):
    """1 when an item is at least a value, 0 when below, missing when the item is missing."""

    rule: Literal["flag"]
    id: str
    item: str
    at_least: float


class ThresholdRule(_Rule):
    """1 when an earlier score is at least a value, 0 when below, missing when it is missing."""

    rule: Literal["threshold"]
    id: str
    score: str
    at_least: float


class CountRegionsRule(_Rule):
    """Number of regions in which at least one listed item is 1."""

    rule: Literal["count_regions"]
    id: str
    regions: dict[str, tuple[str, ...]]


class Condition(_Strict):
    """A condition on an item or an earlier score (``var``), or a combination of conditions."""

    var: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()

    @model_validator(mode="after")
    def _exactly_one_form(self) -> Condition:
        forms = [self.var is not None, bool(self.all_of), bool(self.any_of)]
        if sum(forms) != 1:
            raise ValueError("a condition has exactly one of var, all_of or any_of")
        if self.var is not None and self.minimum is None and self.maximum is None:
            raise ValueError(f"condition on {self.var!r} needs minimum or maximum")
        return self


class CriteriaRule(_Rule):
    """1 when the condition holds, else 0; missing when any variable it reads is missing."""

    rule: Literal["criteria"]
    id: str
    condition: Condition


class BmiRule(_Rule):
    rule: Literal["bmi"]
    id: str
    weight_kg: str
    height_cm: str
    minimum: float
    maximum: float


ScoreRule = Annotated[
    SumRule
    | MeanRule
    | SumOfScoresRule
    | BandsRule
    | FlagRule
    | ThresholdRule
    | CountRegionsRule
    | CriteriaRule
    | BmiRule,
    Field(discriminator="rule"),
]


class Instrument(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9]+$")]
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    title: Text
    description: Text = Field(default_factory=dict)
    languages: dict[Annotated[str, Field(pattern=LANGUAGE_CODE)], LanguageInfo]
    wording_verified: bool
    recall_period: Text
    citation: str
    licence: str
    loinc: str | None = None
    # Every score is missing when any item is missing (as for the ACR criteria).
    all_items_required: bool = False
    option_sets: dict[str, tuple[Option, ...]] = Field(default_factory=dict)
    items: tuple[Item, ...]
    scores: tuple[ScoreRule, ...] = ()
    # Items shown together on one page of the web survey (item ids); default: one page.
    pages: tuple[tuple[str, ...], ...] = ()
    # Shown above each page's items (the question stem, e.g. "In the past 7 days, have you had
    # pain or tenderness in..."): one entry per page, or none at all.
    page_instructions: tuple[Text, ...] = ()

    def page_instruction(self, page: int, language: str) -> str:
        """Instructions for the 0-based ``page`` in ``language`` (English if not translated)."""
        if page >= len(self.page_instructions):
            return ""
        text = self.page_instructions[page]
        return text.get(language) or text.get("en", "")

    def item_columns(self) -> list[str]:
        return [item.column for item in self.items]

    def score_columns(self) -> list[str]:
        return [f"{self.id}_{rule.id}" for rule in self.scores]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"{self.id} has no item {item_id!r}")

    def page_groups(self) -> list[list[Item]]:
        """Items grouped as the survey shows them, one instrument page at a time."""
        if not self.pages:
            return [list(self.items)]
        return [[self.item(item_id) for item_id in page] for page in self.pages]
