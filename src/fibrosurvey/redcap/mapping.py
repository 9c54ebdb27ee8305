"""The mapping file: which REDCap fields are which items of our instruments, and event names.

.. code-block:: yaml

    events:                      # REDCap unique event name -> our event
      baseline_arm_1: baseline
      month_3_arm_1: followup_3m
    forms:
      depression_screen:         # a REDCap form
        instrument: phq9         # one of our built-in instruments
        recode: {1: 0, 2: 1, 3: 2, 4: 3}   # REDCap code -> our code, for every field below
        fields:
          dep_1: phq9_1          # REDCap field -> our item column
          dep_9: {column: phq9_9, recode: {1: 0, 2: 1, 3: 2, 4: 3}}   # a field's own recode

With it, the mapped columns are our items (validated and scored by our definitions) and the
form's status is that instrument's. Fields a mapping does not name come through under the
form's own converted instrument.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fibrosurvey.instruments import get_instrument
from fibrosurvey.problems import Problem
from fibrosurvey.safe_yaml import UnsafeYamlError, load_untrusted

__all__ = ["FieldMapping", "FormMapping", "MappingError", "RecordMapping", "read_mapping"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMapping(_Strict):
    column: str
    recode: dict[str, int] | None = None


class FormMapping(_Strict):
    instrument: str
    recode: dict[str, int] | None = None
    fields: dict[str, str | FieldMapping]

    def field_mappings(self) -> dict[str, FieldMapping]:
        """Each REDCap field's column and recode (its own, or the form's)."""
        return {
            name: (
                FieldMapping(column=target, recode=self.recode)
                if isinstance(target, str)
                else target
                if target.recode is not None
                else FieldMapping(column=target.column, recode=self.recode)
            )
            for name, target in self.fields.items()
        }


class RecordMapping(_Strict):
    events: dict[str, str] = Field(default_factory=dict)
    forms: dict[str, FormMapping] = Field(default_factory=dict)


class MappingError(ValueError):
    """A mapping file that cannot be used; ``problems`` name each key."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


def _stringify_codes(raw: object) -> object:
    """YAML reads ``{1: 0}`` with integer keys; REDCap codes (and every key here) are text."""
    if isinstance(raw, dict):
        return {str(key): _stringify_codes(value) for key, value in raw.items()}
    return raw


def read_mapping(source: Path | str) -> RecordMapping:
    """Read and check a mapping file (path or YAML text): instruments and columns must exist."""
    where = str(source) if isinstance(source, Path) else "mapping"
    try:
        text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
        raw, _nodes = load_untrusted(text)
    except (OSError, UnsafeYamlError, yaml.YAMLError) as error:
        raise MappingError([Problem(None, where, "", "", f"cannot read: {error}")]) from error
    try:
        mapping = RecordMapping.model_validate(_stringify_codes(raw or {}))
    except ValidationError as error:
        raise MappingError(
            [
                Problem(
                    None,
                    ".".join(str(part) for part in problem["loc"]),
                    str(problem.get("input", ""))[:60],
                    "events: {redcap event: our event}; forms: {form: {instrument, recode, "
                    "fields}}",
                    problem["msg"],
                )
                for problem in error.errors()
            ]
        ) from error
    problems: list[Problem] = []
    for form, form_mapping in mapping.forms.items():
        try:
            instrument = get_instrument(form_mapping.instrument)
        except KeyError as error:
            problems.append(
                Problem(None, f"forms.{form}.instrument", form_mapping.instrument, "", str(error))
            )
            continue
        columns = instrument.item_columns()
        for name, target in form_mapping.field_mappings().items():
            if target.column not in columns:
                problems.append(
                    Problem(
                        None,
                        f"forms.{form}.fields.{name}",
                        target.column,
                        ", ".join(columns),
                        f"not an item of {instrument.id}",
                    )
                )
                continue
            item = instrument.items[columns.index(target.column)]
            for code, ours in (target.recode or {}).items():
                if item.kind == "choice" and ours not in item.codes:
                    problems.append(
                        Problem(
                            None,
                            f"forms.{form}.fields.{name}.recode.{code}",
                            str(ours),
                            item.allowed(),
                            f"not an answer code of {target.column}",
                        )
                    )
    if problems:
        raise MappingError(problems)
    return mapping
