"""Read YAML files (specs, pym-config) with errors that name the file and the line."""

from __future__ import annotations

import functools
import os

import yaml

from ..exceptions import StartupError
from . import yamlevents

try:  # the C loader is ~10x faster on large specs
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader


class _StrictLoader(_Loader):
    """A YAML loader refusing duplicate keys (YAML says they are an error; PyYAML keeps the last)."""


def _construct_mapping(loader, node, deep=False):
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the base constructor explains it
            break
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {first})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str) -> object:
    """Parse a YAML file; a syntax error is a StartupError naming file and line."""
    return load_document(path)[0]


class DocumentInfo:
    """What building a spec's document learnt on the way, so the loader need not walk it
    again: ``str_keys`` (every mapping key is already a str, JSON's semantics: YAML's
    ``200:`` is "200"; no subtree shared by an alias) and ``local_refs`` (no ``$ref`` names
    another file); each False when not known."""

    __slots__ = ("str_keys", "local_refs")

    def __init__(self, str_keys: bool = False, local_refs: bool = False):
        self.str_keys, self.local_refs = str_keys, local_refs


def load_document(path: str, str_keys: bool = False) -> tuple[object, DocumentInfo]:
    """(the parsed file, :class:`DocumentInfo`); with ``str_keys`` the mapping keys of a
    YAML file are made strings while it is built (a spec: one pass, not two)."""
    info = DocumentInfo()
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise StartupError(f"cannot read file: {e.strerror}", file=path) from None
    if path.endswith(".json"):
        return _load_json(text, path), DocumentInfo(str_keys=True)
    node = None
    try:
        loader = _StrictLoader(text)
        try:  # the common case: straight from the events, no node tree (yamlevents.py)
            data, local = yamlevents.build(loader, str_keys)
            info.str_keys, info.local_refs = str_keys, local
            _remember(path, None, text=text, lazy=True)  # positions: when first asked
        except yamlevents.Unusual:
            loader.dispose()
            loader = _StrictLoader(text)
            node = loader.get_single_node()  # the node tree is the position index too
            data = _construct(loader, node, info, str_keys) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = " ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        raise StartupError(f"malformed YAML: {problem}", file=path, location=line) from None
    except yaml.YAMLError as e:
        raise StartupError(f"malformed YAML: {e}", file=path) from None
    if node is not None:
        _remember(path, node)
    return data, info


_STR = "tag:yaml.org,2002:str"
_PLAIN = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", _STR}


def _construct(loader, root, info: DocumentInfo | None = None, str_keys: bool = False):
    """The document of ``root``: plain mappings, sequences and strings built directly (the
    bulk of a spec), every other node (ints, bools, merges, anchors reused...) by the strict
    loader's constructors, so the result and the errors are those of ``construct_document``.
    With ``str_keys``, a key that is not a string becomes one (as ``str()`` makes it)."""
    seen: dict[int, object] = {}  # aliases: a node reused is built once, as PyYAML does
    exact = [True, True]  # [keys all str and nothing shared, no $ref out of the file]

    def build(node):
        known = seen.get(id(node))
        if known is not None:
            if isinstance(known, dict | list):
                exact[0] = False  # a shared subtree: the loader copies it
            return known
        tag = node.tag
        if tag not in _PLAIN:
            value = loader.construct_object(node, deep=True)
            if isinstance(value, dict | list | set | tuple):
                exact[0] = exact[1] = False  # built by PyYAML: keys and refs unknown
        elif tag == _STR:
            value = node.value
        elif isinstance(node, yaml.MappingNode):
            if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
                value = loader.construct_object(node, deep=True)
                exact[0] = exact[1] = False
            else:
                value = {}
                lines: dict = {}
                for key_node, value_node in node.value:
                    key = build(key_node)
                    try:
                        first = lines.get(key)
                    except TypeError:  # an unhashable key: the base constructor explains it
                        exact[0] = exact[1] = False
                        return loader.construct_object(node, deep=True)
                    if first is not None:
                        raise yamlevents.duplicate_key(key, first, key_node.start_mark)
                    lines[key] = key_node.start_mark.line + 1
                    item = build(value_node)
                    if key == "$ref" and not (isinstance(item, str) and item.startswith("#")):
                        exact[1] = False
                    value[key if not str_keys or isinstance(key, str) else str(key)] = item
        else:
            value = [build(item) for item in node.value]
        seen[id(node)] = value
        return value

    document = build(root)
    if info is not None:
        info.str_keys, info.local_refs = str_keys and exact[0], exact[1]
    return document


def _load_json(text: bytes, path: str):
    import json

    from .jsondoc import reject_duplicates

    try:
        return json.loads(text, object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as e:
        raise StartupError(
            f"malformed JSON: {e.msg}", file=path, location=f"line {e.lineno}, column {e.colno}"
        ) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise StartupError(f"malformed JSON: {e}", file=path) from None


class _Positions:
    """A file's node tree (one compose, C loader when there is one), with a key index per
    mapping built on first use: every lookup walks the path, never the file again."""

    def __init__(self, root):
        self.root = root
        self._keys: dict[int, dict] = {}

    def line(self, json_path) -> int | None:
        found = self.root
        for part in json_path:
            if isinstance(found, yaml.MappingNode):
                keys = self._keys.get(id(found))
                if keys is None:
                    keys = self._keys[id(found)] = {}
                    for k, v in found.value:
                        keys.setdefault(str(k.value), v)
                sub = keys.get(str(part))
                if sub is None:
                    break
                found = sub
            elif (
                isinstance(found, yaml.SequenceNode)
                and isinstance(part, int)
                and part < len(found.value)
            ):
                found = found.value[part]
            else:
                break
        return found.start_mark.line + 1 if found is not None else None


_positions: dict[str, tuple] = {}  # path -> (stamp, _Positions): the last file asked about


def _stamp(path: str):
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size)


def _positions_of(path: str) -> _Positions | None:
    try:
        stamp = _stamp(path)
    except OSError:
        return None
    cached = _positions.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    if cached is not None and cached[0] == (stamp, "text"):
        index = _index_of(cached[1])
        if index is not None:
            _positions[path] = (stamp, index)
        return index
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        return None
    if path.endswith(".json"):  # JSON is YAML, but for tabs (only ever whitespace)
        text = text.replace(b"\t", b" ")
    return _remember(path, None, stamp, text=text)


def _index_of(text: bytes):
    """The position index of ``text``: from its events, else its node tree (anchors...)."""
    loader = _Loader(text)
    try:
        return yamlevents.positions(loader)
    except yamlevents.Unusual:
        pass
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    try:
        node = yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):  # nested deeper than Python recurses: no lines
        return None
    return _Positions(node) if node is not None else None


def _remember(path: str, node, stamp=None, text: bytes | None = None, lazy: bool = False):
    """Keep ``path``'s position index: its node tree, or one made from ``text`` (``lazy``:
    on the first line asked, so a spec without warnings never pays for it)."""
    if stamp is None:
        try:
            stamp = _stamp(path)
        except OSError:
            stamp = None
    _positions.clear()  # one file's tree at a time: specs are checked one after another
    if text is not None:
        if lazy and stamp is not None:
            _positions[path] = ((stamp, "text"), text)
            return None
        index = _index_of(text)
    else:
        index = _Positions(node)
    _positions[path] = (stamp, index)
    return index


def line_of(path: str, json_path: list) -> int | None:
    """Best-effort line number (1-based) of the node at ``json_path`` in a YAML file.

    The file is composed once into a position index (kept for the last file asked about,
    until it changes on disk), so N warnings cost one parse, not N.
    """
    index = _positions_of(path)
    return index.line(json_path) if index is not None else None


def forget_positions() -> None:
    """Drop the position index (a big spec's node tree) once its file is loaded."""
    _positions.clear()


def display_path(path: str) -> str:
    """A path relative to the working directory when that is shorter."""
    try:
        return _display_path(path, os.getcwd())
    except (ValueError, OSError):  # another drive; no working directory any more
        return path


@functools.lru_cache(maxsize=256)
def _display_path(path: str, cwd: str) -> str:
    # every operation's messages name its spec file: one relpath per file and directory
    rel = os.path.relpath(path, cwd)
    return rel if len(rel) < len(path) else path
