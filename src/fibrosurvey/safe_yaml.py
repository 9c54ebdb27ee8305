"""The one YAML loader for text a user supplies (analysis plans, instrument definitions).

``yaml.safe_load`` refuses dangerous tags but still expands aliases: a 400-byte "billion
laughs" document (each level an alias list of the one before) becomes a graph whose every
traversal (our line map, pydantic validation) is exponential. Fibrosurvey's files never need
anchors or aliases, so :func:`load_untrusted` refuses both at the first one it meets, while
composing and before anything is expanded, and caps the node count and the nesting depth. It
costs one pass over the text.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["MAX_YAML_DEPTH", "MAX_YAML_NODES", "UnsafeYamlError", "load_untrusted"]

MAX_YAML_NODES = 50_000
MAX_YAML_DEPTH = 64


class UnsafeYamlError(ValueError):
    """The YAML uses a construct refused for user files (alias, anchor) or is too large."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader whose composer refuses anchors/aliases and counts nodes and depth."""

    def __init__(self, text: str, max_nodes: int, max_depth: int) -> None:
        super().__init__(text)
        self.max_nodes, self.max_depth = max_nodes, max_depth
        self.nodes = self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise UnsafeYamlError(
                line,
                "YAML anchors and aliases (&name, *name) are not accepted in this file; "
                "write each value out in full",
            )
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise UnsafeYamlError(line, f"more than {self.max_nodes} YAML values in one file")
        self.depth += 1
        if self.depth > self.max_depth:
            raise UnsafeYamlError(line, f"YAML nested deeper than {self.max_depth} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_untrusted(
    text: str, *, max_nodes: int = MAX_YAML_NODES, max_depth: int = MAX_YAML_DEPTH
) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document: its data and its root node (whose marks give line numbers).

    Raises :class:`UnsafeYamlError` for an anchor, an alias, more than ``max_nodes`` values or
    more than ``max_depth`` levels, and ``yaml.YAMLError`` for text that is not YAML.
    """
    loader = _BoundedLoader(text, max_nodes, max_depth)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        return loader.construct_document(node), node
    finally:
        loader.dispose()
