"""Load YAML while remembering the line of every key, so plan errors can name it.

PyYAML's composer keeps a start mark on each node; we walk the node tree once and record the
1-based line of every path (a tuple of mapping keys and sequence indexes).
"""

from __future__ import annotations

from typing import Any

import yaml

from fibrosurvey.safe_yaml import load_untrusted

__all__ = ["LineMap", "line_for", "load_with_lines"]

LineMap = dict[tuple[str | int, ...], int]


def load_with_lines(text: str) -> tuple[Any, LineMap]:
    """Parse ``text`` and return the data and a path -> line map.

    The text comes from users: :func:`fibrosurvey.safe_yaml.load_untrusted` refuses aliases
    (so the walk below is linear) and caps size and depth (UnsafeYamlError).
    """
    data, node = load_untrusted(text)
    if node is None:
        return None, {}
    lines: LineMap = {}
    _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: LineMap) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
            # The key's own line is the most useful pointer for "this key is wrong".
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def line_for(lines: LineMap, path: tuple[str | int, ...]) -> int | None:
    """The line of ``path`` or of its nearest ancestor that exists in the file."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())
