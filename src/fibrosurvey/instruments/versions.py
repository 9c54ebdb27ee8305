"""Versions of one instrument: what changed, what may not change, and the columns an export
keeps across all of them.

Answers are stored by column (``<instrument>_<item>``) and choice answers by option code, so
a later version can drop an option or an item without moving anyone's data: the export
keeps every column any version had, in the order the columns first appeared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

from fibrosurvey.instruments.schema import Instrument, Item

__all__ = [
    "Change",
    "changes_between",
    "definition_yaml",
    "merged_versions",
    "refused_changes",
    "scored_as",
]


@dataclass(frozen=True)
class Change:
    kind: Literal["added", "removed", "changed"]
    column: str
    detail: str


def _options(item: Item) -> dict[int, str]:
    return {option.code: option.label.get("en", "") for option in item.options}


def _item_changes(old: Item, new: Item) -> list[str]:
    details: list[str] = []
    if old.kind != new.kind:
        details.append(f"kind {old.kind} -> {new.kind}")
    if old.text != new.text:
        details.append("question text")
    before, after = _options(old), _options(new)
    if removed := sorted(set(before) - set(after)):
        details.append(f"options removed: {', '.join(map(str, removed))}")
    if added := sorted(set(after) - set(before)):
        details.append(f"options added: {', '.join(map(str, added))}")
    relabelled = sorted(code for code in set(before) & set(after) if before[code] != after[code])
    if relabelled:
        details.append(f"option labels: {', '.join(map(str, relabelled))}")
    if (old.minimum, old.maximum) != (new.minimum, new.maximum):
        details.append(
            f"range {old.minimum:g}-{old.maximum:g} -> {new.minimum:g}-{new.maximum:g}"
            if None not in (old.minimum, old.maximum, new.minimum, new.maximum)
            else "range"
        )
    if (old.enable_when, old.enable_behavior, old.enable_when_expression) != (
        new.enable_when,
        new.enable_behavior,
        new.enable_when_expression,
    ):
        details.append("skip logic")
    return details


def changes_between(old: Instrument, new: Instrument) -> list[Change]:
    """Item by item, what ``new`` adds, removes and changes compared with ``old``."""
    before = {item.column: item for item in old.items}
    after = {item.column: item for item in new.items}
    changes: list[Change] = []
    for column, item in before.items():
        if column not in after:
            changes.append(Change("removed", column, "its column stays in exports"))
        elif details := _item_changes(item, after[column]):
            changes.append(Change("changed", column, "; ".join(details)))
    changes += [
        Change("added", column, item.kind) for column, item in after.items() if column not in before
    ]
    old_rules = {f"{old.id}_{rule.id}": rule for rule in old.scores}
    new_rules = {f"{new.id}_{rule.id}": rule for rule in new.scores}
    changes += [Change("removed", c, "score") for c in old_rules if c not in new_rules]
    changes += [
        Change("changed", c, "score rule")
        for c, rule in new_rules.items()
        if c in old_rules and old_rules[c] != rule
    ]
    changes += [Change("added", c, "score") for c in new_rules if c not in old_rules]
    return changes


def refused_changes(old: Instrument, new: Instrument) -> list[str]:
    """Changes that would alter collected answers, so a new version may not make them.

    An item keeps its kind: a stored answer 2.5 cannot become a choice code, nor a choice
    code a measurement.
    """
    before = {item.column: item for item in old.items}
    return [
        f"{item.column}: the kind cannot change from {before[item.column].kind} to {item.kind} "
        "(stored answers would change meaning); add a new item with another id instead"
        for item in new.items
        if item.column in before and before[item.column].kind != item.kind
    ]


def merged_versions(versions: Sequence[Instrument]) -> Instrument:
    """The newest version, with every item an older version had and the newest dropped
    (its column keeps its place for exports); columns in order of first appearance.

    Scores: the newest version's rules, then those of older versions the newest dropped
    (their columns stay too). ``versions`` runs oldest to newest.
    """
    newest = versions[-1]
    latest: dict[str, Item] = {}
    for version in versions:
        for item in version.items:
            latest[item.column] = item
    current = {item.column for item in newest.items}
    order: list[str] = []
    for version in versions:
        order += [item.column for item in version.items if item.column not in order]
    items = tuple(
        latest[column]
        if column in current
        # A dropped item is asked nowhere now: no page, no skip logic to evaluate.
        else latest[column].model_copy(
            update={"enable_when": (), "enable_when_expression": None, "required": False}
        )
        for column in order
    )
    rules = {rule.id: rule for rule in newest.scores}
    for version in reversed(versions[:-1]):
        for rule in version.scores:
            rules.setdefault(rule.id, rule)
    return newest.model_copy(
        update={
            "items": items,
            "pages": (),
            "page_instructions": (),
            "scores": tuple(rules.values()),
        }
    )


def scored_as(merged: Instrument, version: Instrument) -> Instrument:
    """``merged`` (see :func:`merged_versions`) scored by the rules of one ``version``: a
    response keeps the version it was given, its scores too."""
    return merged.model_copy(update={"scores": version.scores, "version": version.version})


def definition_yaml(instrument: Instrument) -> str:
    """A definition as YAML in our schema, loadable again (what a study's library stores)."""
    data = instrument.model_dump(mode="json", exclude_defaults=True)
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return text
