"""A FHIR R4 Questionnaire from another SDC tool (LHC-Forms style) as an instrument definition.

What is read:

- every ``choice``/``open-choice``, ``boolean``, ``integer``, ``decimal``, ``string``/``text``
  (free text) and ``date`` question, at any
  depth of ``group`` items (groups and ``display`` items carry no answers and are left out);
  other item types are refused, naming the linkId;
- a question's id is its linkId in lower case with anything but letters and digits turned
  into ``_`` (LHC-Forms linkIds such as ``/44249-1/44250-9`` become ``44249_1_44250_9``;
  a leading ``<instrument>_``, as in fibrosurvey's own exports, is dropped), its column
  ``<instrument>_<id>``; the instrument id is the Questionnaire's ``name`` (or ``id``)
  in lower case letters and digits;
- answer codes: the option's ``ordinalValue`` extension (or R5 ``itemWeight``) when every
  option has a whole one, otherwise 1, 2, 3... in the order listed; ``boolean`` questions are
  0 = false, 1 = true;
- skip logic: ``enableWhen`` (the question's linkId mapped to its column, ``answerCoding``
  mapped to the option's code by system and code, ``answerBoolean``/``answerInteger``/
  ``answerDecimal`` as they are) and ``enableBehavior``; the SDC ``enableWhenExpression``
  extension is kept as FHIRPath text; a group's ``enableWhen`` joins the conditions of each
  question in it (all must hold; a question with ``enableBehavior: any`` of its own inside a
  gated group is refused).

The result is checked by the same rules as a definition file (:mod:`fibrosurvey.instruments.
registry`): unknown gates, answers that are not options and cycles are refused.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from fibrosurvey.fhir import urls
from fibrosurvey.instruments import DefinitionError, Instrument
from fibrosurvey.instruments.registry import check_definition

__all__ = ["instrument_from_questionnaire", "read_questionnaire"]

ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
QUESTION_TYPES = (
    "choice",
    "open-choice",
    "boolean",
    "integer",
    "decimal",
    "string",
    "text",
    "date",
)


def _identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "item"


def _text(element: dict[str, Any], key: str, language: str) -> dict[str, str]:
    texts = {language: str(element.get(key) or "")}
    for extension in (element.get(f"_{key}") or {}).get("extension", []):
        if extension.get("url") != urls.TRANSLATION:
            continue
        parts = {part.get("url"): part for part in extension.get("extension", [])}
        code = (parts.get("lang") or {}).get("valueCode", "")
        content = (parts.get("content") or {}).get("valueString", "")
        if re.fullmatch(r"[a-z]{2}", code) and content:
            texts[code] = content
    return texts


def _weight(option: dict[str, Any]) -> float | None:
    for extension in option.get("extension", []):
        if extension.get("url") in (urls.ORDINAL_VALUE, ITEM_WEIGHT):
            value = extension.get("valueDecimal", extension.get("valueInteger"))
            return None if value is None else float(value)
    return None


class _Reader:
    def __init__(self, resource: dict[str, Any], language: str) -> None:
        self.language = language
        name = resource.get("name") or resource.get("id") or "questionnaire"
        self.instrument_id = re.sub(r"[^a-z0-9]", "", str(name).lower()) or "questionnaire"
        self.items: list[dict[str, Any]] = []
        self.columns: dict[str, str] = {}  # linkId -> column
        self.codes: dict[str, dict[tuple[str | None, str], int]] = {}  # linkId -> coding -> code
        self.kinds: dict[str, str] = {}
        self.rules: list[tuple[dict[str, Any], list[dict[str, Any]], str, str | None]] = []
        self.problems: list[str] = []

    def read(self, items: list[dict[str, Any]], inherited: list[dict[str, Any]]) -> None:
        for element in items:
            link_id = str(element.get("linkId", ""))
            kind = element.get("type")
            rules = element.get("enableWhen") or []
            if kind == "group":
                if rules and inherited:
                    self.problems.append(f"item {link_id}: nested groups both have enableWhen")
                self.read(element.get("item") or [], rules or inherited)
                continue
            if kind == "display":
                continue
            if kind not in QUESTION_TYPES:
                allowed = ", ".join(QUESTION_TYPES)
                self.problems.append(f"item {link_id}: type {kind!r} is not read ({allowed})")
                continue
            behavior = str(element.get("enableBehavior", "all"))
            if rules and inherited and behavior == "any" and len(rules) > 1:
                self.problems.append(
                    f"item {link_id}: enableBehavior 'any' inside a group with enableWhen "
                    "cannot be read (one list of conditions per question)"
                )
                continue
            # A question in a disabled group is disabled: the group's conditions join its own.
            self._question(element, link_id, str(kind), [*rules, *inherited])

    def _question(
        self, element: dict[str, Any], link_id: str, kind: str, rules: list[dict[str, Any]]
    ) -> None:
        # fibrosurvey's own linkIds are columns: reading one back gives the same column.
        item_id = _identifier(link_id).removeprefix(f"{self.instrument_id}_")
        column = f"{self.instrument_id}_{item_id}"
        if column in self.columns.values():
            self.problems.append(f"item {link_id}: id {item_id!r} is taken by another linkId")
            return
        self.columns[link_id] = column
        self.kinds[link_id] = kind
        item: dict[str, Any] = {
            "id": item_id,
            "column": column,
            "text": _text(element, "text", self.language),
        }
        if kind == "boolean":
            no_yes = [("false", 0, "No"), ("true", 1, "Yes")]
            item["options"] = [
                {"code": code, "label": {self.language: label}} for _, code, label in no_yes
            ]
            self.codes[link_id] = {(None, text): code for text, code, _ in no_yes}
        elif kind in ("choice", "open-choice"):
            options = [o for o in element.get("answerOption") or [] if "valueCoding" in o]
            weights = [_weight(option) for option in options]
            use_weights = all(w is not None and float(w).is_integer() for w in weights) and len(
                set(weights)
            ) == len(weights)
            item["options"] = []
            self.codes[link_id] = {}
            for position, option in enumerate(options, start=1):
                coding = option["valueCoding"]
                weight = weights[position - 1]
                code = int(weight) if use_weights and weight is not None else position
                label = _text(coding, "display", self.language)
                if not label[self.language]:
                    label[self.language] = str(coding.get("code", code))
                item["options"].append({"code": code, "label": label})
                self.codes[link_id][(coding.get("system"), str(coding.get("code")))] = code
            if not options:
                self.problems.append(f"item {link_id}: a choice with no answerOption codings")
                return
        elif kind in ("string", "text", "date"):
            item["kind"] = "date" if kind == "date" else "text"
        else:
            item["kind"] = "integer" if kind == "integer" else "number"
            bounds = {
                e.get("url"): e.get("valueInteger", e.get("valueDecimal"))
                for e in element.get("extension", [])
            }
            item["minimum"] = bounds.get(urls.MIN_VALUE, -1e9)
            item["maximum"] = bounds.get(urls.MAX_VALUE, 1e9)
        item["required"] = bool(element.get("required", False))
        expression = next(
            (
                (e.get("valueExpression") or {}).get("expression")
                for e in element.get("extension", [])
                if e.get("url") == urls.ENABLE_WHEN_EXPRESSION
            ),
            None,
        )
        self.items.append(item)
        self.rules.append((item, rules, str(element.get("enableBehavior", "all")), expression))

    def _condition(self, rule: dict[str, Any], where: str) -> dict[str, Any] | None:
        question = str(rule.get("question", ""))
        if question not in self.columns:
            self.problems.append(f"{where}.question: unknown linkId {question!r}")
            return None
        condition: dict[str, Any] = {
            "question": self.columns[question],
            "operator": rule.get("operator"),
        }
        if "answerBoolean" in rule:
            answer = rule["answerBoolean"]
            if rule.get("operator") == "exists":
                condition["answer"] = bool(answer)
                return condition
            condition["answer"] = self.codes.get(question, {}).get((None, str(answer).lower()))
        elif "answerCoding" in rule:
            coding = rule["answerCoding"]
            codes = self.codes.get(question, {})
            key = (coding.get("system"), str(coding.get("code")))
            # A coding without a system matches by code alone, as LHC-Forms writes some.
            found = codes.get(key)
            if found is None and coding.get("system") is None:
                found = next((c for (_, code), c in codes.items() if code == key[1]), None)
            if found is None:
                self.problems.append(
                    f"{where}.answerCoding: {key[1]!r} is not an answerOption of {question}"
                )
                return None
            condition["answer"] = found
        else:
            value = rule.get("answerInteger", rule.get("answerDecimal"))
            if value is None:
                self.problems.append(f"{where}: no answerBoolean, answerCoding or number")
                return None
            condition["answer"] = value
        return condition

    def definition(self, resource: dict[str, Any]) -> dict[str, Any]:
        for item, rules, behavior, expression in self.rules:
            conditions = [
                self._condition(rule, f"item {item['id']}.enableWhen.{number}")
                for number, rule in enumerate(rules)
            ]
            # A condition that cannot be read leaves the question ungated (always shown) rather
            # than gated by the other conditions alone, which would change what they mean.
            if rules and all(c is not None for c in conditions):
                item["enable_when"] = conditions
                item["enable_behavior"] = behavior
            if expression:
                item["enable_when_expression"] = expression
        title = _text(resource, "title", self.language)
        if not title[self.language]:
            title[self.language] = self.instrument_id
        languages = {
            code: {"validated_translation": False, "note": "imported from FHIR"} for code in title
        }
        return {
            "pages": self._pages(),
            "id": self.instrument_id,
            "version": _version(resource.get("version")),
            "title": title,
            "languages": languages,
            "wording_verified": False,
            "recall_period": {code: "" for code in languages},
            "citation": str(resource.get("url") or resource.get("id") or "imported"),
            "licence": str(resource.get("copyright") or "see the source Questionnaire"),
            "items": self.items,
        }

    def _pages(self) -> list[list[str]]:
        """Questions in order, a new page before a question gated by one on the same page
        (the survey decides what a page shows before it is answered)."""
        pages: list[list[str]] = [[]]
        on_page: set[str] = set()
        for item in self.items:
            gates = {condition["question"] for condition in item.get("enable_when", [])}
            if gates & on_page:
                pages.append([])
                on_page = set()
            pages[-1].append(item["id"])
            on_page.add(item["column"])
        return pages


def _version(version: Any) -> str:
    parts = re.findall(r"\d+", str(version or ""))
    return ".".join([*parts, "0", "0", "0"][:3]) if parts else "1.0.0"


def read_questionnaire(
    resource: dict[str, Any], language: str = "en"
) -> tuple[Instrument | None, list[str]]:
    """What can be read of a Questionnaire, and what could not (one text per linkId/field).

    Questions that cannot be read are left out; a question whose enableWhen cannot be read is
    kept ungated. The instrument is None when nothing valid is left.
    """
    if resource.get("resourceType") != "Questionnaire":
        return None, ["not a Questionnaire (resourceType)"]
    reader = _Reader(resource, resource.get("language") or language)
    reader.read(resource.get("item") or [], [])
    raw = reader.definition(resource)
    if not reader.items:
        return None, [*reader.problems, "the Questionnaire has no question fibrosurvey can read"]
    try:
        instrument = Instrument.model_validate(raw)
        check_definition(instrument)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        return None, [*reader.problems, details]
    except DefinitionError as error:
        return None, [*reader.problems, str(error)]
    return instrument, reader.problems


def instrument_from_questionnaire(resource: dict[str, Any], language: str = "en") -> Instrument:
    """The instrument a Questionnaire (JSON data) describes, skip logic included.

    ``language`` is the language of the Questionnaire's own text. Raises DefinitionError
    naming each linkId or field that cannot be read.
    """
    if resource.get("resourceType") != "Questionnaire":
        raise DefinitionError("not a Questionnaire (resourceType)")
    reader = _Reader(resource, resource.get("language") or language)
    reader.read(resource.get("item") or [], [])
    raw = reader.definition(resource)
    if reader.problems:
        raise DefinitionError("; ".join(reader.problems))
    if not reader.items:
        raise DefinitionError("the Questionnaire has no question fibrosurvey can read")
    try:
        instrument = Instrument.model_validate(raw)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise DefinitionError(details) from error
    check_definition(instrument)
    return instrument
