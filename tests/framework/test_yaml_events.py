"""A YAML spec is built from libyaml's events, no node tree (spec/yamlevents.py): the same
document and errors as the node-tree path on every fixture, the unusual files (anchors,
merges, tags, several documents) through the node tree, positions only when asked."""

from __future__ import annotations

import glob
import os

import pytest
import yaml

from pymacaron.exceptions import StartupError
from pymacaron.spec import yamlevents, yamlfile
from tests.conftest import FIXTURES


def _by_nodes(text, str_keys=True):
    loader = yamlfile._StrictLoader(text)
    node = loader.get_single_node()
    return yamlfile._construct(loader, node, None, str_keys) if node is not None else None


def _by_events(text, str_keys=True):
    return yamlevents.build(yamlfile._StrictLoader(text), str_keys)[0]


def _paths(doc, where=()):
    yield list(where)
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*where, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*where, i))


def test_every_fixture_spec_is_the_same_document_with_the_same_lines():
    files = sorted(glob.glob(os.path.join(FIXTURES, "**", "*.yaml"), recursive=True))
    assert len(files) > 40
    for path in files:
        with open(path, "rb") as f:
            text = f.read()
        try:
            expected = _by_nodes(text)
        except yaml.YAMLError as e:
            with pytest.raises(type(e)) as got:
                _by_events(text)
            assert str(got.value) == str(e), path
            continue
        assert repr(_by_events(text)) == repr(expected), path
        node = yaml.compose(text, Loader=yamlfile._Loader)
        if node is None:
            continue
        by_nodes = yamlfile._Positions(node)
        by_events = yamlevents.positions(yamlfile._Loader(text))
        for json_path in [*list(_paths(expected))[:400], ["nope"], ["paths", "/nope", 1]]:
            assert by_events.line(json_path) == by_nodes.line(json_path), (path, json_path)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: 1\na: 2\n", "duplicate key 'a' (first at line 1)"),
        ("x: {1: a, 1.0: b}\n", "duplicate key 1.0 (first at line 1)"),
        ("a: !custom 3\n", "could not determine a constructor for the tag '!custom'"),
        ("a: {b: 1\n", "while parsing a flow mapping"),
    ],
)
def test_errors_are_the_node_paths(text, expected):
    with pytest.raises(yaml.YAMLError) as by_nodes:
        _by_nodes(text)
    with pytest.raises(yaml.YAMLError) as by_events:
        _by_events(text)
    assert expected in str(by_events.value) and str(by_events.value) == str(by_nodes.value)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x {b: 1}\nc: *x\n",
        "<<: {a: 1}\nb: 2\n",
        "--- a\n--- b\n",
        "? [a]\n: 1\n",
        "a: !!set {b}\n",
    ],
)
def test_unusual_files_take_the_node_tree(tmp_path, text):
    with pytest.raises(yamlevents.Unusual):
        _by_events(text)
    path = tmp_path / "f.yaml"
    path.write_text(text)
    try:
        expected = _by_nodes(text)
    except yaml.YAMLError:
        with pytest.raises(StartupError, match="malformed YAML"):
            yamlfile.load_yaml(str(path))
        return
    assert yamlfile.load_yaml(str(path)) == expected


def test_a_spec_loads_without_a_node_tree_and_warnings_still_name_lines(tmp_path, monkeypatch):
    path = tmp_path / "api.yaml"
    path.write_text("a:\n  b:\n    - {c: 1}\n    - d: [x, y]\n  200: ok\n")
    composed = []
    real = yamlfile._StrictLoader.get_single_node
    monkeypatch.setattr(
        yamlfile._StrictLoader, "get_single_node", lambda s: composed.append(1) or real(s)
    )
    doc, info = yamlfile.load_document(str(path), str_keys=True)
    assert doc == {"a": {"b": [{"c": 1}, {"d": ["x", "y"]}], "200": "ok"}}
    assert info.str_keys and info.local_refs and not composed
    assert yamlfile.line_of(str(path), ["a", "b", 1, "d", 1]) == 4
    assert yamlfile.line_of(str(path), ["a", "200"]) == 5
    assert not composed  # the positions came from the events too


def test_a_file_nested_deeper_than_python_recurses_gets_no_line_and_no_crash(tmp_path):
    depth = 1200  # libyaml reads it; a recursive reader of its events cannot
    text = "".join(" " * i + "k:\n" for i in range(depth)) + " " * depth + "v\n"
    with pytest.raises(yamlevents.Unusual, match="nested deeper"):
        yamlevents.positions(yamlfile._Loader(text.encode()))
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    assert yamlfile.line_of(str(path), ["k", "k"]) is None
    shallow = tmp_path / "shallow.yaml"
    shallow.write_text("a:\n  b: [1, {c: 2}]\n  b: 3\nd: x\n")
    assert yamlfile.line_of(str(shallow), ["a", "b", 1, "c"]) == 2  # the first b
    assert yamlfile.line_of(str(shallow), ["d"]) == 4
