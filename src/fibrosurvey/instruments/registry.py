"""Loading instrument definitions from their YAML files, with loud, precise errors."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fibrosurvey.countries import region_options
from fibrosurvey.instruments.extra import extra_instrument
from fibrosurvey.instruments.schema import (
    BandsRule,
    Condition,
    CountRegionsRule,
    CriteriaRule,
    FlagRule,
    Instrument,
    Item,
    ThresholdRule,
)
from fibrosurvey.safe_yaml import MAX_YAML_NODES, UnsafeYamlError, load_untrusted

__all__ = [
    "DefinitionError",
    "check_definition",
    "check_extra_definition",
    "check_instrument_set",
    "get_instrument",
    "load_definition",
    "load_instruments",
    "parse_definition",
]

# The option set a file names to list every country's regions (fibrosurvey.countries).
COUNTRY_REGIONS = "country_regions"

# The order instruments appear in a battery, a template and an export.
INSTRUMENT_ORDER = (
    "fsq",
    "fiqr",
    "phq9",
    "gad7",
    "jss",
    "peg",
    "nrs",
    "migraine",
    "ibs",
    "dx",
    "tx",
    "demo",
    "pgic",
)


class DefinitionError(ValueError):
    """An instrument file does not satisfy the schema; the message names the file and field."""


def _definitions_dir() -> Path:
    return Path(str(resources.files("fibrosurvey.instruments") / "definitions"))


def _page_rules(
    raw: dict[str, Any],
) -> tuple[list[Any], dict[str, dict[str, Any]], list[Any]]:
    """Pages as lists of item ids, the skip logic a page carries by item id, and each page's
    display.

    A page may be a mapping ``{items: [...], enable_when: [...], enable_behavior: ...,
    display: ...}``; its rule applies to each of its items (which then carry no rule of their
    own), so it maps onto FHIR item by item.
    """
    pages: list[Any] = []
    rules: dict[str, dict[str, Any]] = {}
    displays: list[Any] = []
    for number, page in enumerate(raw.get("pages") or []):
        if not isinstance(page, dict):
            pages.append(page)
            displays.append("questions")
            continue
        unknown = set(page) - {
            "items",
            "enable_when",
            "enable_behavior",
            "enable_when_expression",
            "display",
        }
        if unknown or not isinstance(page.get("items"), list):
            raise KeyError(
                f"pages.{number}: a page mapping has items and enable_when, enable_behavior, "
                f"enable_when_expression or display (got {sorted(page)})"
            )
        pages.append(page["items"])
        displays.append(page.get("display", "questions"))
        rule = {key: value for key, value in page.items() if key not in ("items", "display")}
        if rule:
            for item_id in page["items"]:
                rules[str(item_id)] = rule
    return pages, rules, displays


def _expand(raw: dict[str, Any]) -> dict[str, Any]:
    """Fill in each item's column, its options from a named option set and its page's rule."""
    option_sets = raw.get("option_sets") or {}
    pages, page_rules, displays = _page_rules(raw)
    items = []
    expanded_options = 0
    for item in raw.get("items") or []:
        if not isinstance(item, dict):
            items.append(item)
            continue
        item = dict(item)
        name = item.get("option_set")
        if name == COUNTRY_REGIONS and name not in option_sets and "options" not in item:
            # Every supported country's regions (codes never collide); a study shows its own.
            item["options"] = region_options()
        elif name is not None and "options" not in item:
            if name not in option_sets:
                raise KeyError(f"items.{item.get('id')}.option_set: no option set {name!r}")
            item["options"] = option_sets[name]
            # Sharing an option set multiplies values: cap the expansion like the YAML itself.
            expanded_options += len(item["options"]) if isinstance(item["options"], list) else 0
            if expanded_options > MAX_YAML_NODES:
                raise KeyError(
                    f"items: option sets expand to more than {MAX_YAML_NODES} options in all"
                )
        item.setdefault("column", f"{raw.get('id')}_{item.get('id')}")
        page_rule = page_rules.get(str(item.get("id")))
        if page_rule is not None:
            if set(page_rule) & set(item):
                raise KeyError(
                    f"items.{item.get('id')}.enable_when: its page has a rule already; "
                    "put the rule on the page or on each item, not both"
                )
            item.update(page_rule)
        items.append(item)
    expanded = {**raw, "items": items}
    if "pages" in raw:
        expanded["pages"] = pages
    if any(display != "questions" for display in displays):
        expanded["page_displays"] = displays
    return expanded


def _check_references(instrument: Instrument) -> None:
    """Every name a score, page or language refers to must exist."""
    item_ids = {item.id for item in instrument.items}
    problems: list[str] = []
    languages = set(instrument.languages)
    for item in instrument.items:
        missing = languages - set(item.text)
        if missing:
            problems.append(f"items.{item.id}.text: no text for {sorted(missing)}")
        for option in item.options:
            if languages - set(option.label):
                problems.append(f"items.{item.id}.options.{option.code}.label: missing language")
    if languages - set(instrument.recall_period):
        problems.append("recall_period: missing language")
    if instrument.participant_title and languages - set(instrument.participant_title):
        problems.append("participant_title: missing language")
    known = set(item_ids)
    for rule in instrument.scores:
        for name in names_read_by(rule):
            if name not in known:
                problems.append(f"scores.{rule.id}: refers to unknown item or score {name!r}")
        known.add(rule.id)
    for number, page in enumerate(instrument.pages):
        for item_id in page:
            if item_id not in item_ids:
                problems.append(f"pages.{number}: unknown item {item_id!r}")
    if instrument.page_instructions:
        if len(instrument.page_instructions) != len(instrument.pages):
            problems.append("page_instructions: one entry per page is needed")
        for number, text in enumerate(instrument.page_instructions):
            if languages - set(text):
                problems.append(f"page_instructions.{number}: missing language")
    for number, page in enumerate(instrument.pages):
        if instrument.page_display(number) != "checklist":
            continue
        for item_id in page:
            item = instrument.item(item_id)
            if item.kind != "choice" or sorted(item.codes) != [0, 1]:
                problems.append(
                    f"pages.{number}: a checklist page holds only no/yes items (codes 0 and 1); "
                    f"{item_id!r} is not one"
                )
    if instrument.pages:
        paged = [item_id for page in instrument.pages for item_id in page]
        if sorted(paged) != sorted(item_ids):
            problems.append("pages: every item must appear on exactly one page")
    problems += _logic_problems(instrument, {item.column: item for item in instrument.items})
    if problems:
        raise DefinitionError("; ".join(problems))


def _page_of(instrument: Instrument) -> dict[str, int]:
    """Each item column's 0-based page (unknown page entries are reported elsewhere)."""
    if not instrument.pages:
        return {item.column: 0 for item in instrument.items}
    return {
        f"{instrument.id}_{item_id}": page
        for page, item_ids in enumerate(instrument.pages)
        for item_id in item_ids
    }


def _logic_problems(
    instrument: Instrument, known: dict[str, Item], *, other_instruments: bool = False
) -> list[str]:
    """Skip-logic rules of ``instrument`` that name unknown items or impossible answers.

    Rules naming another instrument's column are checked only with ``other_instruments``
    (when the whole registry is loaded); within the instrument, a gate must be on an earlier
    page than the items it gates, since the survey decides what a page shows before it is
    answered.
    """
    problems: list[str] = []
    pages = _page_of(instrument)
    own_prefix = f"{instrument.id}_"
    for item in instrument.items:
        for number, condition in enumerate(item.enable_when):
            field = f"items.{item.id}.enable_when.{number}"
            own = condition.question in pages and item.column in pages
            if not own and (condition.question.startswith(own_prefix) or other_instruments):
                gate = (
                    None
                    if condition.question.startswith(own_prefix)
                    else known.get(condition.question)
                )
            elif not own:
                continue  # another instrument's item: checked when the registry is loaded
            else:
                gate = known.get(condition.question)
            if gate is None:
                problems.append(f"{field}.question: unknown item {condition.question!r}")
                continue
            if own and pages[condition.question] >= pages[item.column]:
                problems.append(
                    f"{field}.question: the gate {condition.question!r} must be on an earlier "
                    "page than the item it gates"
                )
            if gate.kind == "choice" and condition.operator not in ("exists", "=", "!="):
                problems.append(
                    f"{field}.operator: {condition.operator!r} on the choice item "
                    f"{condition.question} (allowed: exists, =, !=; answer codes are FHIR "
                    "Codings, which have no order)"
                )
            elif (
                gate.kind == "choice"
                and condition.operator != "exists"
                and condition.answer not in gate.codes
            ):
                problems.append(
                    f"{field}.answer: {condition.answer:g} is not an answer code of "
                    f"{condition.question} (allowed: {gate.allowed()})"
                )
    return problems


def logic_cycle(items: dict[str, Item]) -> list[str] | None:
    """A cycle of gates (columns, first repeated last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(column: str, path: list[str]) -> list[str] | None:
        state[column] = 1
        for condition in items[column].enable_when:
            gate = condition.question
            if gate not in items:
                continue
            if state.get(gate) == 1:
                return [*path[path.index(gate) :], gate] if gate in path else [column, gate]
            if state.get(gate) is None:
                found = visit(gate, [*path, gate])
                if found is not None:
                    return found
        state[column] = 2
        return None

    for column in items:
        if state.get(column) is None:
            found = visit(column, [column])
            if found is not None:
                return found
    return None


def names_read_by(rule: object) -> list[str]:
    if isinstance(rule, BandsRule | ThresholdRule):
        return [rule.score]
    if isinstance(rule, FlagRule):
        return [rule.item]
    if isinstance(rule, CountRegionsRule):
        return [name for names in rule.regions.values() for name in names]
    if isinstance(rule, CriteriaRule):
        return _condition_vars(rule.condition)
    for attribute in ("items", "scores"):
        names = getattr(rule, attribute, None)
        if names is not None:
            return list(names)
    return [getattr(rule, "weight_kg", ""), getattr(rule, "height_cm", "")]


def _condition_vars(condition: Condition) -> list[str]:
    names = [condition.var] if condition.var is not None else []
    for child in (*condition.all_of, *condition.any_of):
        names += _condition_vars(child)
    return names


def load_definition(path: Path) -> Instrument:
    """Read and validate one definition file. Raises DefinitionError naming file and field."""
    instrument = parse_definition(path.read_text(encoding="utf-8"), str(path))
    if instrument.id != path.stem:
        raise DefinitionError(f"{path}: id {instrument.id!r} must match the file name")
    return instrument


def parse_definition(text: str, source: str = "definition") -> Instrument:
    """Validate a definition given as YAML text (an uploaded file); errors start with
    ``source`` and name the field."""
    try:
        raw, _node = load_untrusted(text)
    except UnsafeYamlError as error:
        raise DefinitionError(f"{source} {error}") from None
    except yaml.YAMLError as error:
        raise DefinitionError(f"{source}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise DefinitionError(f"{source}: the file must hold a mapping of fields")
    try:
        instrument = Instrument.model_validate(_expand(raw))
    except KeyError as error:
        raise DefinitionError(f"{source}: {error.args[0]}") from error
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise DefinitionError(f"{source}: {details}") from error
    try:
        check_definition(instrument)
    except DefinitionError as error:
        raise DefinitionError(f"{source}: {error}") from error
    return instrument


def check_definition(instrument: Instrument) -> None:
    """The checks beyond the schema: references, skip logic within the instrument, cycles."""
    _check_references(instrument)
    cycle = logic_cycle({item.column: item for item in instrument.items})
    if cycle is not None:
        raise DefinitionError(f"enable_when: the gates form a cycle: {' -> '.join(cycle)}")


def check_instrument_set(instruments: dict[str, Instrument], paths: dict[str, Path]) -> None:
    """Skip logic across instruments: every gate exists, answers are its codes, no cycles."""
    items = {item.column: item for i in instruments.values() for item in i.items}
    for instrument_id, instrument in instruments.items():
        problems = _logic_problems(instrument, items, other_instruments=True)
        if problems:
            raise DefinitionError(f"{paths[instrument_id]}: {'; '.join(problems)}")
    cycle = logic_cycle(items)
    if cycle is not None:
        first = cycle[0].split("_", 1)[0]
        raise DefinitionError(
            f"{paths.get(first, first)}: enable_when: the gates form a cycle: {' -> '.join(cycle)}"
        )


def check_extra_definition(instrument: Instrument) -> None:
    """An instrument a team brings, beside the built-in ones: a new id, and gates into
    other instruments name built-in items with their answer codes."""
    builtin = load_instruments()
    if instrument.id in builtin:
        raise DefinitionError(
            f"id: {instrument.id!r} is a built-in instrument; give your instrument another id"
        )
    items = {item.column: item for i in builtin.values() for item in i.items}
    items |= {item.column: item for item in instrument.items}
    problems = _logic_problems(instrument, items, other_instruments=True)
    if problems:
        raise DefinitionError("; ".join(problems))


@cache
def load_instruments() -> dict[str, Instrument]:
    """All shipped instruments, by id, in battery order."""
    paths = {path.stem: path for path in sorted(_definitions_dir().glob("*.yaml"))}
    found = {name: load_definition(path) for name, path in paths.items()}
    ordered = [name for name in INSTRUMENT_ORDER if name in found]
    ordered += sorted(set(found) - set(ordered))
    check_instrument_set(found, paths)
    return {name: found[name] for name in ordered}


def get_instrument(instrument_id: str) -> Instrument:
    """A built-in instrument, or one of the instruments :func:`extra_instruments` added."""
    added = extra_instrument(instrument_id)
    if added is not None:
        return added
    instruments = load_instruments()
    if instrument_id not in instruments:
        known = ", ".join(instruments)
        raise KeyError(f"unknown instrument {instrument_id!r}; known instruments: {known}")
    return instruments[instrument_id]
