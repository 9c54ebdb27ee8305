"""An instrument as a study in one country asks it: its regions and its wording.

The stored instrument lists every country's regions (codes never collide); a study shows, and
accepts, only its own country's, and words drug examples and units as people there know them.
Scoring and flat files are unchanged: the columns and their meaning are the same everywhere.
"""

from __future__ import annotations

from functools import cache

from fibrosurvey.countries import REGION_COLUMN, get_country
from fibrosurvey.instruments.extra import definition_key, instrument_id_of
from fibrosurvey.instruments.registry import get_instrument
from fibrosurvey.instruments.schema import Instrument, Item

__all__ = ["for_country"]


def _localized_item(item: Item, region_codes: frozenset[int], text: dict[str, str] | None) -> Item:
    update: dict[str, object] = {}
    if item.column == REGION_COLUMN:
        update["options"] = tuple(o for o in item.options if o.code in region_codes)
    if text:
        update["text"] = {**item.text, **text}
    return item.model_copy(update=update) if update else item


def for_country(instrument_id: str, country: str) -> Instrument:
    """``instrument_id`` as asked in a study in ``country`` (ISO 3166-1 alpha-2)."""
    return _for_country(definition_key(instrument_id), country)


@cache
def _for_country(key: str, country: str) -> Instrument:
    instrument = get_instrument(instrument_id_of(key))
    place = get_country(country)
    codes = frozenset(place.region_codes)
    items = tuple(
        _localized_item(item, codes, place.item_text.get(item.column)) for item in instrument.items
    )
    if items == instrument.items:
        return instrument
    return instrument.model_copy(update={"items": items})
