"""A YAML spec built straight from libyaml's event stream: no node tree.

Composing a node tree costs libyaml's C loader ~5x what reading its events does (a 4 MB
spec: ~2.5 s against ~0.5 s), and a spec is mostly plain mappings, sequences and strings.
:func:`build` makes the document from the events, every scalar resolved and constructed
by the strict loader itself (ints, floats, bools, dates: the same values and the same
errors), duplicate keys refused with the message of yamlfile.py. Anything less common
(anchors, aliases, explicit tags on collections, merge keys, a collection as a key, more
than one document) raises :class:`Unusual`: the caller then composes the file as before.
:func:`positions` builds the position index (line of every node) the same way, when a
message first needs a line.
"""

from __future__ import annotations

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode


def duplicate_key(key, first: int, mark) -> yaml.constructor.ConstructorError:
    """The error of a key given twice in one mapping (this module's reader and yamlfile.py's)."""
    return yaml.constructor.ConstructorError(
        None, None, f"duplicate key {key!r} (first at line {first})", mark
    )


__all__ = ["Unusual", "build", "duplicate_key", "positions"]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
# tags whose values are immutable: the same text is the same value (built once per file)
_CONSTANT = frozenset(f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null"))
_NO_KEY = object()


class Unusual(Exception):
    """The file uses what only the node-tree path builds (anchors, tags, merges...)."""


def _open(loader):
    if type(loader.get_event()) is not StreamStartEvent:
        raise Unusual("no stream start")
    event = loader.get_event()
    if type(event) is StreamEndEvent:
        return None
    if type(event) is not DocumentStartEvent:
        raise Unusual("no document start")
    return event


def _close(loader) -> None:
    if type(loader.get_event()) is not DocumentEndEvent:
        raise Unusual("no document end")
    if type(loader.get_event()) is not StreamEndEvent:
        raise Unusual("more than one document")  # the composer's own error, then


def build(loader, str_keys: bool = False) -> tuple[object, bool]:
    """(the document, whether every ``$ref`` stays in the file) from ``loader``'s events."""
    if _open(loader) is None:
        return None, True
    get = loader.get_event
    resolve = loader.resolve
    tags: dict = {}  # plain scalar -> its resolved tag (a spec repeats its words)
    constants: dict = {}  # (tag, text) -> (value,): an int, float, bool or null made once
    local = True
    root = None
    # one frame per open collection: [container, is_mapping, pending key, key lines]
    stack: list = []
    while True:
        event = get()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None:
                raise Unusual("anchor")
            tag = event.tag
            value = event.value
            if tag is None or tag == "!":
                if event.implicit[0]:
                    tag = tags.get(value)
                    if tag is None:
                        tag = tags[value] = resolve(ScalarNode, value, event.implicit)
                else:
                    tag = _STR
            if tag != _STR:
                if tag == _MERGE:
                    raise Unusual("merge key")
                known = constants.get((tag, value)) if tag in _CONSTANT else None
                if known is not None:
                    value = known[0]
                else:
                    text = value
                    node = ScalarNode(
                        tag, text, event.start_mark, event.end_mark, style=event.style
                    )
                    value = loader.construct_object(node, deep=True)
                    if tag in _CONSTANT:
                        constants[(tag, text)] = (value,)
            container = None
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise Unusual("anchor or tag on a collection")
            value = container = {} if kind is MappingStartEvent else []
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()
            if not stack:
                break
            continue
        elif kind is AliasEvent:
            raise Unusual("alias")
        else:
            raise Unusual(f"unexpected {kind.__name__}")
        if not stack:
            root = value
        else:
            frame = stack[-1]
            if not frame[1]:
                frame[0].append(value)
            elif frame[2] is _NO_KEY:  # this value is a key
                if container is not None:
                    raise Unusual("a collection as a key")
                try:
                    first = frame[3].get(value)
                except TypeError:
                    raise Unusual("unhashable key") from None
                if first is not None:
                    raise duplicate_key(value, first, event.start_mark)
                frame[3][value] = event.start_mark.line + 1
                frame[2] = value if not str_keys or isinstance(value, str) else str(value)
            else:
                key = frame[2]
                frame[0][key] = value
                frame[2] = _NO_KEY
                if key == "$ref" and not (isinstance(value, str) and value.startswith("#")):
                    local = False
        if container is not None:
            stack.append([container, kind is MappingStartEvent, _NO_KEY, {}])
        elif root is value and not stack:
            break  # a document that is one scalar
    _close(loader)
    return root, local


class Positions:
    """The line of every node of a file, from its events: ``line(json_path)`` walks the path
    as far as it exists and answers the line of the last node reached."""

    __slots__ = ("root",)

    def __init__(self, root):
        self.root = root  # (line, {key: child} | [child] | None)

    def line(self, json_path) -> int | None:
        found = self.root
        for part in json_path:
            children = found[1]
            if isinstance(children, dict):
                sub = children.get(str(part))
            elif isinstance(children, list) and isinstance(part, int) and part < len(children):
                sub = children[part]
            else:
                break
            if sub is None:
                break
            found = sub
        return found[0]


def positions(loader) -> Positions | None:
    """The :class:`Positions` of ``loader``'s document (None: an empty file)."""
    if _open(loader) is None:
        return None
    get = loader.get_event

    def node(event) -> tuple:
        """(line, children) of the node ``event`` starts, its events read to its end."""
        kind = type(event)
        line = event.start_mark.line + 1
        if kind is ScalarEvent:
            return (line, None)
        if kind is MappingStartEvent:
            members: dict = {}
            key = get()
            while type(key) is ScalarEvent:
                members.setdefault(key.value, node(get()))  # the first of a key given twice
                key = get()
            if type(key) is not MappingEndEvent:
                raise Unusual("alias" if type(key) is AliasEvent else "a collection as a key")
            return (line, members)
        if kind is SequenceStartEvent:
            items = []
            item = get()
            while type(item) is not SequenceEndEvent:
                items.append(node(item))
                item = get()
            return (line, items)
        raise Unusual("alias" if kind is AliasEvent else f"unexpected {kind.__name__}")

    try:
        return Positions(node(get()))
    except RecursionError:
        raise Unusual("nested deeper than the interpreter recurses") from None
