"""Loading instrument definitions from their YAML files, with loud, precise errors."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fibrosurvey.instruments.schema import (
    BandsRule,
    Condition,
    CountRegionsRule,
    CriteriaRule,
    FlagRule,
    Instrument,
    ThresholdRule,
)
from fibrosurvey.safe_yaml import MAX_YAML_NODES, UnsafeYamlError, load_untrusted

__all__ = ["DefinitionError", "get_instrument", "load_definition", "load_instruments"]

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


def _expand(raw: dict[str, Any]) -> dict[str, Any]:
    """Fill in each item's column and options from a named option set."""
    option_sets = raw.get("option_sets") or {}
    items = []
    expanded = 0
    for item in raw.get("items") or []:
        if not isinstance(item, dict):
            items.append(item)
            continue
        item = dict(item)
        name = item.get("option_set")
        if name is not None and "options" not in item:
            if name not in option_sets:
                raise KeyError(f"items.{item.get('id')}.option_set: no option set {name!r}")
            item["options"] = option_sets[name]
            # Sharing an option set multiplies values: cap the expansion like the YAML itself.
            expanded += len(item["options"]) if isinstance(item["options"], list) else 0
            if expanded > MAX_YAML_NODES:
                raise KeyError(
                    f"items: option sets expand to more than {MAX_YAML_NODES} options in all"
                )
        item.setdefault("column", f"{raw.get('id')}_{item.get('id')}")
        items.append(item)
    return {**raw, "items": items}


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
    known = set(item_ids)
    for rule in instrument.scores:
        for name in _names_read_by(rule):
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
    if instrument.pages:
        paged = [item_id for page in instrument.pages for item_id in page]
        if sorted(paged) != sorted(item_ids):
            problems.append("pages: every item must appear on exactly one page")
    if problems:
        raise DefinitionError("; ".join(problems))


def _names_read_by(rule: object) -> list[str]:
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
    try:
        raw, _node = load_untrusted(path.read_text(encoding="utf-8"))
    except UnsafeYamlError as error:
        raise DefinitionError(f"{path} {error}") from None
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: the file must hold a mapping of fields")
    try:
        instrument = Instrument.model_validate(_expand(raw))
    except KeyError as error:
        raise DefinitionError(f"{path}: {error.args[0]}") from error
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise DefinitionError(f"{path}: {details}") from error
    if instrument.id != path.stem:
        raise DefinitionError(f"{path}: id {instrument.id!r} must match the file name")
    try:
        _check_references(instrument)
    except DefinitionError as error:
        raise DefinitionError(f"{path}: {error}") from error
    return instrument


@cache
def load_instruments() -> dict[str, Instrument]:
    """All shipped instruments, by id, in battery order."""
    found = {path.stem: load_definition(path) for path in sorted(_definitions_dir().glob("*.yaml"))}
    ordered = [name for name in INSTRUMENT_ORDER if name in found]
    ordered += sorted(set(found) - set(ordered))
    return {name: found[name] for name in ordered}


def get_instrument(instrument_id: str) -> Instrument:
    instruments = load_instruments()
    if instrument_id not in instruments:
        known = ", ".join(instruments)
        raise KeyError(f"unknown instrument {instrument_id!r}; known instruments: {known}")
    return instruments[instrument_id]
