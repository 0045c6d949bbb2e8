"""YAML reading: errors name the file and the line; duplicate keys are refused."""

import pytest

from pymacaron.exceptions import StartupError
from pymacaron.spec.yamlfile import line_of, load_yaml


def test_malformed_yaml_names_line_and_column(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(StartupError, match=r"x.yaml: line \d+, column \d+: malformed YAML"):
        load_yaml(str(path))


def test_duplicate_keys_name_both_lines(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nnested:\n  k: 1\n  k: 2\n")
    with pytest.raises(StartupError) as e:
        load_yaml(str(path))
    assert "line 4" in str(e.value) and "duplicate key 'k' (first at line 3)" in str(e.value)


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n")
    assert load_yaml(str(path))["derived"] == {"x": 1, "y": 2}


def test_missing_file(tmp_path):
    with pytest.raises(StartupError, match="cannot read file"):
        load_yaml(str(tmp_path / "nope.yaml"))


def test_line_of_finds_nested_nodes(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(
        "paths:\n  /a:\n    get:\n      parameters:\n        - name: x\n          type: integr\n"
    )
    assert line_of(str(path), ["paths", "/a", "get", "parameters", 0, "type"]) == 6
