"""The eligibility screener of an open recruitment link: questions, rules and quotas as data.

A screener is a plain mapping (stored as JSON, written as YAML by hand)::

    questions:
      - {id: age, type: integer, label: {en: ..., es: ...}, min: 18, plausible: [12, 110]}
      - id: diagnosis
        type: choice
        label: {en: ...}
        options: [{value: "yes", label: {en: "Yes"}}, {value: "no", label: {en: "No"}}]
        eligible: ["yes"]
      - {id: years_with_pain, type: integer, required: false, at_most: age, label: {...}}
      - {id: attention, type: choice, options: [...], attention_answer: sometimes, label: {...}}
    rules: [[age], [diagnosis, pain_3_months], [country]]
    quotas: [{name: women, question: sex, values: [female], limit: 300},
             {name: age 18-39, question: age, min: 18, max: 39, limit: 100}]

Each inner list of ``rules`` is met when ANY of its questions passes its own criterion
(``eligible`` values, or ``min``/``max``); the visitor is eligible when EVERY list is met.
``plausible`` and ``at_most`` do not decide eligibility: an answer outside them is an
impossible answer, flagged (kept, like every flagged response) rather than refused, so a bot
learns nothing from the page it gets. ``attention_answer`` makes the question an attention check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_SCREENER",
    "Question",
    "Quota",
    "ScreenOutcome",
    "Screener",
    "ScreenerError",
    "parse_screener",
]

Answer = int | str | None
_KINDS = ("integer", "choice")
_QUESTION_KEYS = {
    "id",
    "type",
    "label",
    "help",
    "options",
    "eligible",
    "min",
    "max",
    "plausible",
    "at_most",
    "attention_answer",
    "required",
}


class ScreenerError(ValueError):
    """An invalid screener configuration; the message names the place and the allowed values."""


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    label: Mapping[str, str]
    help: Mapping[str, str] = field(default_factory=dict)
    options: tuple[tuple[str, Mapping[str, str]], ...] = ()
    eligible: frozenset[str] | None = None
    min: int | None = None
    max: int | None = None
    plausible: tuple[int, int] | None = None
    at_most: str | None = None
    attention_answer: str | None = None
    required: bool = True

    @property
    def decides_eligibility(self) -> bool:
        return self.eligible is not None or self.min is not None or self.max is not None

    def text(self, language: str) -> str:
        return self.label.get(language) or self.label.get("en") or self.id

    def help_text(self, language: str) -> str:
        return self.help.get(language) or self.help.get("en") or ""

    def choices(self, language: str) -> list[tuple[str, str]]:
        return [
            (value, label.get(language) or label.get("en") or value)
            for value, label in self.options
        ]

    def passes(self, answer: Answer) -> bool:
        if answer is None:
            return False
        if self.kind == "choice":
            return self.eligible is None or str(answer) in self.eligible
        number = int(answer)
        return (self.min is None or number >= self.min) and (self.max is None or number <= self.max)


@dataclass(frozen=True)
class Quota:
    name: str
    question: str
    limit: int
    values: frozenset[str] | None = None
    min: int | None = None
    max: int | None = None

    def contains(self, answers: Mapping[str, Answer]) -> bool:
        answer = answers.get(self.question)
        if answer is None:
            return False
        if self.values is not None:
            return str(answer) in self.values
        number = int(answer)
        return (self.min is None or number >= self.min) and (self.max is None or number <= self.max)


@dataclass(frozen=True)
class ScreenOutcome:
    eligible: bool
    # The first question id of every rule the answers did not meet (why not eligible).
    unmet_rules: tuple[str, ...]
    # Question ids whose answers cannot be true (outside ``plausible``, above ``at_most``).
    impossible: tuple[str, ...]
    attention_failed: bool


@dataclass(frozen=True)
class Screener:
    questions: tuple[Question, ...]
    rules: tuple[tuple[str, ...], ...]
    quotas: tuple[Quota, ...] = ()

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def parse_answers(self, data: Mapping[str, Any]) -> tuple[dict[str, Answer], dict[str, str]]:
        """Typed answers from form values, and problems per question id: ``required``,
        ``not_a_whole_number`` or ``not_an_option`` (the page words them in its language)."""
        answers: dict[str, Answer] = {}
        problems: dict[str, str] = {}
        for question in self.questions:
            raw = str(data.get(question.id) or "").strip()
            if not raw:
                answers[question.id] = None
                if question.required:
                    problems[question.id] = "required"
                continue
            if question.kind == "integer":
                # Six digits at most: no real answer is longer, and the analysis column is Int64.
                try:
                    number = int(raw) if len(raw.lstrip("+-")) <= 6 else None
                except ValueError:
                    number = None
                answers[question.id] = number
                if number is None:
                    problems[question.id] = "not_a_whole_number"
            elif raw in {value for value, _ in question.options}:
                answers[question.id] = raw
            else:
                problems[question.id] = "not_an_option"
                answers[question.id] = None
        return answers, problems

    def screen(self, answers: Mapping[str, Answer]) -> ScreenOutcome:
        by_id = {question.id: question for question in self.questions}
        unmet = tuple(
            rule[0] for rule in self.rules if not any(by_id[q].passes(answers.get(q)) for q in rule)
        )
        impossible = []
        for question in self.questions:
            answer = answers.get(question.id)
            if answer is None or question.kind != "integer":
                continue
            low_high = question.plausible
            if low_high is not None and not low_high[0] <= int(answer) <= low_high[1]:
                impossible.append(question.id)
                continue
            limit = answers.get(question.at_most) if question.at_most else None
            if limit is not None and int(answer) > int(limit):
                impossible.append(question.id)
        attention_failed = any(
            question.attention_answer is not None
            and answers.get(question.id) is not None
            and answers.get(question.id) != question.attention_answer
            for question in self.questions
        )
        return ScreenOutcome(
            eligible=not unmet,
            unmet_rules=unmet,
            impossible=tuple(impossible),
            attention_failed=attention_failed,
        )

    def quota_cells(self, answers: Mapping[str, Answer]) -> list[str]:
        """Names of the quota cells these answers fall into."""
        return [quota.name for quota in self.quotas if quota.contains(answers)]


def _labels(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if (
        not isinstance(value, Mapping)
        or not value
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        raise ScreenerError(f"{where}: a text, or a mapping language -> text such as {{en: ...}}")
    return dict(value)


def _int_or_none(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScreenerError(f"{where}: a whole number, got {value!r}")
    return value


def _question(raw: Any, index: int, earlier: set[str]) -> Question:
    where = f"questions[{index}]"
    if not isinstance(raw, Mapping):
        raise ScreenerError(f"{where}: a mapping with id, type and label")
    unknown = sorted(set(raw) - _QUESTION_KEYS)
    if unknown:
        raise ScreenerError(f"{where}: unknown keys {unknown}; allowed: {sorted(_QUESTION_KEYS)}")
    question_id = raw.get("id")
    if not isinstance(question_id, str) or not question_id.isidentifier():
        raise ScreenerError(f"{where}.id: a name of letters, digits and _, got {question_id!r}")
    if question_id in earlier:
        raise ScreenerError(f"{where}.id: {question_id!r} is used twice")
    kind = raw.get("type")
    if kind not in _KINDS:
        raise ScreenerError(f"{where}.type: one of {list(_KINDS)}, got {kind!r}")
    options: list[tuple[str, dict[str, str]]] = []
    if kind == "choice":
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            raise ScreenerError(f"{where}.options: a list of at least two {{value, label}}")
        for n, option in enumerate(raw_options):
            if not isinstance(option, Mapping) or not isinstance(option.get("value"), str):
                raise ScreenerError(f"{where}.options[{n}]: a mapping with a text value and label")
            options.append((option["value"], _labels(option.get("label"), f"{where}.options[{n}]")))
    values = [value for value, _ in options]
    eligible = raw.get("eligible")
    if eligible is not None and (
        kind != "choice" or not isinstance(eligible, list) or not set(eligible) <= set(values)
    ):
        raise ScreenerError(f"{where}.eligible: a list of option values from {values}")
    attention = raw.get("attention_answer")
    if attention is not None and attention not in values:
        raise ScreenerError(f"{where}.attention_answer: one of {values}, got {attention!r}")
    plausible = raw.get("plausible")
    if plausible is not None and (
        kind != "integer"
        or not isinstance(plausible, list)
        or len(plausible) != 2
        or not all(isinstance(v, int) for v in plausible)
        or plausible[0] > plausible[1]
    ):
        raise ScreenerError(f"{where}.plausible: [lowest, highest] whole numbers (integer only)")
    at_most = raw.get("at_most")
    if at_most is not None and at_most not in earlier:
        raise ScreenerError(
            f"{where}.at_most: the id of an earlier question, one of {sorted(earlier)}"
        )
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise ScreenerError(f"{where}.required: true or false")
    return Question(
        id=question_id,
        kind=kind,
        label=_labels(raw.get("label"), f"{where}.label"),
        help=_labels(raw["help"], f"{where}.help") if raw.get("help") else {},
        options=tuple(options),
        eligible=frozenset(eligible) if eligible is not None else None,
        min=_int_or_none(raw.get("min"), f"{where}.min"),
        max=_int_or_none(raw.get("max"), f"{where}.max"),
        plausible=(plausible[0], plausible[1]) if plausible else None,
        at_most=at_most,
        attention_answer=attention,
        required=required,
    )


def _quota(raw: Any, index: int, questions: Mapping[str, Question]) -> Quota:
    where = f"quotas[{index}]"
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise ScreenerError(f"{where}: a mapping with name, question, limit and values or min/max")
    question = questions.get(raw.get("question", ""))
    if question is None:
        raise ScreenerError(f"{where}.question: one of {sorted(questions)}")
    limit = _int_or_none(raw.get("limit"), f"{where}.limit")
    if limit is None or limit < 0:
        raise ScreenerError(f"{where}.limit: a whole number 0 or more")
    values = raw.get("values")
    allowed = [value for value, _ in question.options]
    if question.kind == "choice":
        if not isinstance(values, list) or not values or not set(values) <= set(allowed):
            raise ScreenerError(f"{where}.values: a list of option values from {allowed}")
        return Quota(raw["name"], question.id, limit, values=frozenset(values))
    low = _int_or_none(raw.get("min"), f"{where}.min")
    high = _int_or_none(raw.get("max"), f"{where}.max")
    if low is None and high is None:
        raise ScreenerError(f"{where}: min and/or max (an age band, for example)")
    return Quota(raw["name"], question.id, limit, min=low, max=high)


def parse_screener(config: Any) -> Screener:
    """A :class:`Screener` from its mapping form; :class:`ScreenerError` names what is wrong."""
    if not isinstance(config, Mapping):
        raise ScreenerError("the screener: a mapping with questions, rules and optional quotas")
    raw_questions = config.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise ScreenerError("questions: a non-empty list")
    questions: list[Question] = []
    for index, raw in enumerate(raw_questions):
        questions.append(_question(raw, index, {q.id for q in questions}))
    by_id = {question.id: question for question in questions}
    deciding = sorted(q.id for q in questions if q.decides_eligibility)
    raw_rules = config.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ScreenerError(f"rules: a non-empty list of lists of question ids from {deciding}")
    rules: list[tuple[str, ...]] = []
    for index, rule in enumerate(raw_rules):
        if not isinstance(rule, list) or not rule or not set(rule) <= set(deciding):
            raise ScreenerError(
                f"rules[{index}]: a list of ids of questions with eligible/min/max, from {deciding}"
            )
        rules.append(tuple(rule))
    raw_quotas = config.get("quotas") or []
    if not isinstance(raw_quotas, list):
        raise ScreenerError("quotas: a list")
    quotas = tuple(_quota(raw, index, by_id) for index, raw in enumerate(raw_quotas))
    if len({quota.name for quota in quotas}) != len(quotas):
        raise ScreenerError("quotas: every quota needs its own name")
    return Screener(questions=tuple(questions), rules=tuple(rules), quotas=quotas)


def _yes_no(en_yes: str = "Yes", es_yes: str = "Sí") -> list[dict[str, Any]]:
    return [
        {"value": "yes", "label": {"en": en_yes, "es": es_yes}},
        {"value": "no", "label": {"en": "No", "es": "No"}},
    ]


# Adults with a physician's diagnosis of fibromyalgia OR pain for 3 months or more, living in
# one of the study's countries. Sex and age feed the optional quotas.
DEFAULT_SCREENER: dict[str, Any] = {
    "questions": [
        {
            "id": "age",
            "type": "integer",
            "label": {"en": "How old are you (in years)?", "es": "¿Qué edad tiene (en años)?"},
            "min": 18,
            "plausible": [10, 110],
        },
        {
            "id": "diagnosis",
            "type": "choice",
            "label": {
                "en": "Has a doctor told you that you have fibromyalgia?",
                "es": "¿Le ha dicho un médico que tiene fibromialgia?",
            },
            "options": _yes_no(),
            "eligible": ["yes"],
        },
        {
            "id": "pain_3_months",
            "type": "choice",
            "label": {
                "en": "Have you had pain in many parts of your body for 3 months or more?",
                "es": "¿Ha tenido dolor en muchas partes del cuerpo durante 3 meses o más?",
            },
            "options": _yes_no(),
            "eligible": ["yes"],
        },
        {
            "id": "years_with_pain",
            "type": "integer",
            "required": False,
            "label": {
                "en": "For how many years have you had this pain? (optional)",
                "es": "¿Desde hace cuántos años tiene este dolor? (opcional)",
            },
            "plausible": [0, 100],
            "at_most": "age",
        },
        {
            "id": "country",
            "type": "choice",
            "label": {"en": "Which country do you live in?", "es": "¿En qué país vive?"},
            "options": [
                {"value": "ES", "label": {"en": "Spain", "es": "España"}},
                {"value": "MX", "label": {"en": "Mexico", "es": "México"}},
                {"value": "GB", "label": {"en": "United Kingdom", "es": "Reino Unido"}},
                {"value": "US", "label": {"en": "United States", "es": "Estados Unidos"}},
                {"value": "other", "label": {"en": "Another country", "es": "Otro país"}},
            ],
            "eligible": ["ES", "MX", "GB", "US"],
        },
        {
            "id": "sex",
            "type": "choice",
            "label": {"en": "What is your sex?", "es": "¿Cuál es su sexo?"},
            "options": [
                {"value": "female", "label": {"en": "Female", "es": "Mujer"}},
                {"value": "male", "label": {"en": "Male", "es": "Hombre"}},
                {"value": "other", "label": {"en": "Other", "es": "Otro"}},
                {
                    "value": "not_said",
                    "label": {"en": "I prefer not to say", "es": "Prefiero no decirlo"},
                },
            ],
        },
    ],
    "rules": [["age"], ["diagnosis", "pain_3_months"], ["country"]],
    "quotas": [],
}
