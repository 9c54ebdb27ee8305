"""REDCap projects in and out: data dictionaries as instruments, flat records as a dataset.

- :func:`read_data_dictionary` reads a data dictionary CSV (or API metadata) robustly;
  :func:`dictionary_to_instruments` converts each form to an instrument definition, listing
  what was refused (:class:`ConversionResult`, :class:`Refusal`);
- :func:`instrument_to_data_dictionary` writes our instruments back as a dictionary (our
  instrument -> REDCap -> our instrument gives the same definition);
- :func:`parse_branching_logic` is the branching-logic parser (pyparsing).
"""

from fibrosurvey.redcap.convert import ConversionResult, Refusal, dictionary_to_instruments
from fibrosurvey.redcap.dictionary import (
    DataDictionary,
    DictionaryError,
    DictionaryField,
    read_data_dictionary,
)
from fibrosurvey.redcap.logic import LogicRefused, parse_branching_logic

__all__ = [
    "ConversionResult",
    "DataDictionary",
    "DictionaryError",
    "DictionaryField",
    "LogicRefused",
    "Refusal",
    "dictionary_to_instruments",
    "parse_branching_logic",
    "read_data_dictionary",
]
