"""Instruments beside the built-in ones (a study's own), for the code running now.

The web app loads a study's own instruments from its database and makes them visible to the
core with :func:`extra_instruments` for the length of one request or job; the core then
validates, scores and exports them like the built-in ones. A context variable, not a global
registry: two studies may each have an instrument called ``mood``, and a study's second
version of it must not be served from a cache filled by the first.

Caches keyed by instrument id use :func:`definition_key` instead, which names the exact
definition (the id for a built-in instrument, ``id@key`` for an added one).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fibrosurvey.instruments.schema import Instrument

__all__ = ["definition_key", "extra_instrument", "extra_instruments", "instrument_id_of"]

# id -> (definition, a key naming this exact definition, e.g. its content digest)
_EXTRA: ContextVar[Mapping[str, tuple[Instrument, str]] | None] = ContextVar(
    "fibrosurvey_extra_instruments", default=None
)


@contextmanager
def extra_instruments(added: Mapping[str, tuple[Instrument, str]]) -> Iterator[None]:
    """Make ``added`` ({id: (definition, key)}) resolvable by id inside the block."""
    token = _EXTRA.set(dict(added))
    try:
        yield
    finally:
        _EXTRA.reset(token)


def extra_instrument(instrument_id: str) -> Instrument | None:
    found = (_EXTRA.get() or {}).get(instrument_id)
    return None if found is None else found[0]


def definition_key(instrument_id: str) -> str:
    """A cache key for the definition ``instrument_id`` resolves to now."""
    found = (_EXTRA.get() or {}).get(instrument_id)
    return instrument_id if found is None else f"{instrument_id}@{found[1]}"


def instrument_id_of(key: str) -> str:
    """The instrument id inside a :func:`definition_key`."""
    return key.split("@", 1)[0]
