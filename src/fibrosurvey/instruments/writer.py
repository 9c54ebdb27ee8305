"""Writing an instrument definition as the YAML file :func:`load_definition` reads back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fibrosurvey.instruments.schema import Instrument

__all__ = ["definition_yaml", "write_definition"]


def _item_data(instrument: Instrument) -> list[dict[str, Any]]:
    items = []
    for item in instrument.items:
        data = item.model_dump(mode="json", exclude_defaults=True)
        if item.column == f"{instrument.id}_{item.id}":
            data.pop("column", None)  # the loader fills in the default column
        if item.option_set is not None and item.options == instrument.option_sets.get(
            item.option_set
        ):
            data.pop("options", None)
        items.append(data)
    return items


def definition_yaml(instrument: Instrument) -> str:
    """The definition as YAML text; loading it gives back an equal :class:`Instrument`."""
    data = instrument.model_dump(mode="json", exclude_defaults=True)
    data["items"] = _item_data(instrument)
    # Keys in the order the shipped files use, so a diff against them reads naturally.
    order = [
        "id",
        "version",
        "title",
        "description",
        "languages",
        "wording_verified",
        "recall_period",
        "citation",
        "licence",
        "loinc",
        "all_items_required",
        "option_sets",
        "items",
        "scores",
        "pages",
        "page_instructions",
    ]
    ordered = {key: data[key] for key in order if key in data}
    ordered.update({key: value for key, value in data.items() if key not in ordered})
    text: str = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)
    return text


def write_definition(instrument: Instrument, directory: Path) -> Path:
    """Write ``<directory>/<id>.yaml`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{instrument.id}.yaml"
    path.write_text(definition_yaml(instrument), encoding="utf-8")
    return path
