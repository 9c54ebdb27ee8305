"""Turning instrument items into what the page template renders (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fibrosurvey.instruments import Item
from fibrosurvey.validation import Problem
from fibrosurvey.web.survey.pages import SurveyPage
from fibrosurvey.web.survey.units import Entry, entry_for, imperial_range, imperial_values

__all__ = ["MAX_TEXT_LENGTH", "FieldView", "page_fields", "problem_message"]

# The longest free-text answer the survey takes (the input's maxlength, checked again on save).
MAX_TEXT_LENGTH = 500


@dataclass(frozen=True)
class OptionView:
    code: str  # text already: the template then skips number localisation
    label: str
    checked: bool


@dataclass(frozen=True)
class FieldView:
    column: str
    number: int  # question number on the page
    text: str
    kind: str  # "choice" | "integer" | "number"
    # "scale" (0-10 numbers on one row), "pair" (yes/no side by side), "list", "input",
    # "check" (one box of a checklist page: ticked = 1, unticked = 0)
    layout: str
    options: tuple[OptionView, ...]
    anchors: tuple[str, str] | None  # scale end labels
    value: str
    error: str
    unit: str
    minimum: Any
    maximum: Any
    step: str
    # Said above a scale that runs the other way from the scales around it (sleep quality:
    # 0 = very poor, beside pain and fatigue: 0 = none).
    reversed_cue: str = ""
    # "number": one box in the item's unit; "feet_inches" / "pounds": a US study's boxes
    # (``imperial`` holds their values: ft and in, or lb), converted to cm / kg when read.
    entry: Entry = "number"
    imperial: dict[str, str] | None = None
    range_hint: str = ""
    maxlength: int = MAX_TEXT_LENGTH  # a text item's longest answer


# Units in the instrument files are written in English; participants read them translated.
UNIT_LABELS = {
    "cm": gettext_lazy("cm"),
    "kg": gettext_lazy("kg"),
    "years": gettext_lazy("years"),
    "days": gettext_lazy("days"),
    "days/week": gettext_lazy("days a week"),
    "mg/day": gettext_lazy("mg a day"),
    "min/week": gettext_lazy("minutes a week"),
    "servings/week": gettext_lazy("servings a week"),
    "sessions/week": gettext_lazy("sessions a week"),
}


def _label(labels: dict[str, str], language: str) -> str:
    return labels.get(language) or labels.get("en") or ""


def _plain(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _imperial_hint(entry: Entry, item: Item) -> str:
    bounds = imperial_range(entry, item)
    if entry == "feet_inches":
        return _("From %(min_ft)s ft %(min_in)s in to %(max_ft)s ft %(max_in)s in") % bounds
    return _("From %(min_lb)s to %(max_lb)s lb") % bounds


def problem_message(
    item: Item, problem: Problem, entry: Entry = "number", *, every_answer_counts: bool = False
) -> str:
    """The core found this answer invalid; say so in the participant's language.

    ``every_answer_counts``: the instrument is scored only when every item is answered (the
    FSQ), so a blank is explained, kindly, instead of merely refused.
    """
    if problem.message == "an answer is needed":
        if every_answer_counts:
            return _(
                "This questionnaire needs every answer to be counted. Please choose the "
                "answer closest to how things are for you."
            )
        return _("Please answer this question.")
    if item.kind == "choice":
        return _("Please choose one of the answers.")
    if item.kind == "date":
        return _("Please enter a date as year-month-day, for example 2024-03-31.")
    if item.kind == "text":
        return _("Please shorten this answer to at most %(maximum)s characters.") % {
            "maximum": MAX_TEXT_LENGTH
        }
    if entry != "number":
        hint = _imperial_hint(entry, item)
        return _("Please enter a number. %(range)s.") % {"range": hint}
    context = {"minimum": _plain(item.minimum), "maximum": _plain(item.maximum)}
    if item.kind == "integer":
        return _("Please enter a whole number from %(minimum)s to %(maximum)s.") % context
    return _("Please enter a number from %(minimum)s to %(maximum)s.") % context


def _layout(item: Item, language: str) -> tuple[str, tuple[str, str] | None]:
    if item.kind != "choice":
        return "input", None
    labels = [_label(o.label, language) for o in item.options]
    # A 0-10 rating: the middle labels are just the numbers; show a grid of number buttons
    # with the end labels (anchors) spelled out.
    if len(labels) >= 7 and all(
        label == str(o.code) for label, o in zip(labels[1:-1], item.options[1:-1], strict=True)
    ):
        return "scale", (labels[0], labels[-1])
    if len(labels) == 2 and all(len(label) <= 12 for label in labels):
        return "pair", None
    return "list", None


def _reversed_scales(page: SurveyPage, language: str) -> set[str]:
    """Scale items whose direction differs from most scales on the page."""
    scales = [item for item in page.items if _layout(item, language)[0] == "scale"]
    better = [item for item in scales if item.higher_is_better]
    if not better or len(better) * 2 == len(scales):
        return set()
    minority = better if len(better) * 2 < len(scales) else set(scales) - set(better)
    return {item.column for item in minority}


def _question_text(item: Item, language: str) -> str:
    """The question; for one box of a checkbox question, the question and the box."""
    if item.checkbox is None:
        return _label(item.text, language)
    return f"{_label(item.checkbox.question, language)} — {_label(item.text, language)}"


def page_fields(
    page: SurveyPage, language: str, values: dict[str, str], problems: dict[str, Problem]
) -> list[FieldView]:
    fields = []
    checklist = page.display == "checklist"
    every_answer_counts = page.instrument.all_items_required
    reversed_scales = _reversed_scales(page, language)
    for number, item in enumerate(page.items, start=1):
        layout, anchors = ("check", None) if checklist else _layout(item, language)
        value = values.get(item.column, "")
        options = tuple(
            OptionView(
                code=str(o.code),
                # On a scale the buttons show the number; the anchors carry the words.
                label=str(o.code) if layout == "scale" else _label(o.label, language),
                checked=value == str(o.code),
            )
            for o in item.options
        )
        problem = problems.get(item.column)
        entry = entry_for(item, page.country)
        fields.append(
            FieldView(
                column=item.column,
                number=number,
                text=_question_text(item, language),
                kind=item.kind,
                layout=layout,
                options=options,
                anchors=anchors,
                value=value,
                error=problem_message(item, problem, entry, every_answer_counts=every_answer_counts)
                if problem
                else "",
                unit=str(UNIT_LABELS.get(item.unit, item.unit)) if item.unit else "",
                minimum=_plain(item.minimum),
                maximum=_plain(item.maximum),
                step="1" if item.kind == "integer" else "any",
                reversed_cue=_(
                    "This scale runs the other way from the ones around it: %(low)s … %(high)s."
                )
                % {"low": anchors[0], "high": anchors[1]}
                if anchors and item.column in reversed_scales
                else "",
                entry=entry,
                imperial=imperial_values(entry, value) if entry != "number" else None,
                range_hint=_imperial_hint(entry, item) if entry != "number" else "",
            )
        )
    return fields
