"""REDCap projects in and out: data dictionaries as instruments, flat records as a dataset.

- :func:`read_data_dictionary` reads a data dictionary CSV (or API metadata) robustly;
  :func:`dictionary_to_instruments` converts each form to an instrument definition, listing
  what was refused (:class:`ConversionResult`, :class:`Refusal`);
- :func:`convert_instrument_file` takes an uploaded file of any of the three kinds (our YAML,
  REDCap dictionary, FHIR Questionnaire) and returns the same :class:`ConversionResult`;
- :func:`instrument_to_data_dictionary` writes our instruments back as a dictionary (our
  instrument -> REDCap -> our instrument gives the same definition);
- :func:`import_records` reads a flat record export (with an optional :func:`read_mapping`
  onto our instruments) as the analysis dataset (:class:`RedcapDataset`);
- :func:`parse_branching_logic` is the branching-logic parser (pyparsing).
"""

from fibrosurvey.redcap.convert import ConversionResult, Refusal, dictionary_to_instruments
from fibrosurvey.redcap.dictionary import (
    DataDictionary,
    DictionaryError,
    DictionaryField,
    read_data_dictionary,
)
from fibrosurvey.redcap.export import dataset_to_records, instrument_to_data_dictionary
from fibrosurvey.redcap.logic import LogicRefused, parse_branching_logic
from fibrosurvey.redcap.mapping import MappingError, RecordMapping, read_mapping
from fibrosurvey.redcap.records import (
    MISSING_DATA_CODES,
    RecordsError,
    RedcapDataset,
    import_records,
    repeating_table_path,
)
from fibrosurvey.redcap.sources import UnreadableSource, convert_instrument_file

__all__ = [
    "MISSING_DATA_CODES",
    "ConversionResult",
    "DataDictionary",
    "DictionaryError",
    "DictionaryField",
    "LogicRefused",
    "MappingError",
    "RecordMapping",
    "RecordsError",
    "RedcapDataset",
    "Refusal",
    "UnreadableSource",
    "convert_instrument_file",
    "dataset_to_records",
    "dictionary_to_instruments",
    "import_records",
    "instrument_to_data_dictionary",
    "parse_branching_logic",
    "read_data_dictionary",
    "read_mapping",
    "repeating_table_path",
]
