"""Instruments as data: one versioned YAML file per questionnaire, validated at load time."""

from fibrosurvey.instruments.registry import (
    INSTRUMENT_ORDER,
    DefinitionError,
    get_instrument,
    load_definition,
    load_instruments,
)
from fibrosurvey.instruments.safety import SafetyItem, safety_item
from fibrosurvey.instruments.schema import Instrument, Item, Option

__all__ = [
    "INSTRUMENT_ORDER",
    "DefinitionError",
    "Instrument",
    "Item",
    "Option",
    "SafetyItem",
    "get_instrument",
    "load_definition",
    "load_instruments",
    "safety_item",
]
