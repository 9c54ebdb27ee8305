"""The one YAML loader for text a user supplies (analysis plans, instrument definitions).

``yaml.safe_load`` refuses dangerous tags but still expands aliases: a 400-byte "billion
laughs" document (each level an alias list of the one before) becomes a graph whose every
traversal (our line map, pydantic validation) is exponential. Fibrosurvey's files never need
anchors or aliases, so :func:`load_untrusted` refuses both at the first one it meets in the
parser's event stream, before any node is built, and caps the node count and the nesting
depth. It costs one extra pass of the (C) parser over the text.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_YAML_DEPTH", "MAX_YAML_NODES", "UnsafeYamlError", "load_untrusted"]

MAX_YAML_NODES = 10_000  # the default plan has ~900 values, the largest instrument ~1,600
MAX_YAML_DEPTH = 64
# libyaml when present: its parser and composer are C, ten times faster than PyYAML's.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
_OPENING = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSING = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class UnsafeYamlError(ValueError):
    """The YAML uses a construct refused for user files (alias, anchor) or is too large."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


def _check_events(text: str, max_nodes: int, max_depth: int) -> None:
    """One pass over the parser's events (no node is built yet): refuse at the first anchor
    or alias, past ``max_nodes`` values or past ``max_depth`` levels."""
    nodes = depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise UnsafeYamlError(
                line,
                "YAML anchors and aliases (&name, *name) are not accepted in this file; "
                "write each value out in full",
            )
        if isinstance(event, _NODE_EVENTS):
            nodes += 1
            if nodes > max_nodes:
                raise UnsafeYamlError(line, f"more than {max_nodes} YAML values in one file")
        if isinstance(event, _OPENING):
            depth += 1
            if depth > max_depth:
                raise UnsafeYamlError(line, f"YAML nested deeper than {max_depth} levels")
        elif isinstance(event, _CLOSING):
            depth -= 1


def load_untrusted(
    text: str, *, max_nodes: int = MAX_YAML_NODES, max_depth: int = MAX_YAML_DEPTH
) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document: its data and its root node (whose marks give line numbers).

    Raises :class:`UnsafeYamlError` for an anchor, an alias, more than ``max_nodes`` values or
    more than ``max_depth`` levels, and ``yaml.YAMLError`` for text that is not YAML.
    """
    _check_events(text, max_nodes, max_depth)
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        return loader.construct_document(node), node
    finally:
        loader.dispose()
