"""A Swagger 2.0 number parameter with only bounds is checked inline
(spec/parameters.py ``Param.bounds``); outside them the validator runs, so the 400's words
are the validator's, exactly as without the inline check."""

from __future__ import annotations

import pytest

from pymacaron.exceptions import InvalidParameterError
from pymacaron.spec.parameters import Param

SPECS = [
    {"name": "limit", "in": "query", "type": "integer", "minimum": 1, "maximum": 100},
    {"name": "id", "in": "path", "type": "integer", "format": "int64", "minimum": 1},
    {"name": "n", "in": "query", "type": "integer", "format": "int32"},
    {"name": "x", "in": "query", "type": "number", "minimum": 0.5, "maximum": 2},
]
RAWS = ["1", "0", "100", "101", "-5", "2147483647", "2147483648", "0.5", "0.4", "2", "2.5", "x"]


def _outcome(param: Param, raw: str):
    try:
        return ("ok", param.parse(raw))
    except InvalidParameterError as e:
        return ("400", str(e))


@pytest.mark.parametrize("spec", SPECS, ids=[s["name"] for s in SPECS])
def test_inline_bounds_answer_as_the_validator(spec):
    inline = Param(spec, spec["name"])
    assert inline.bounds is not None
    plain = Param(spec, spec["name"])
    plain.bounds = None  # the validator for every value
    for raw in RAWS:
        assert _outcome(inline, raw) == _outcome(plain, raw), raw


def test_within_bounds_the_validator_is_not_called():
    param = Param(SPECS[0], "limit")
    calls = []
    validator = param.validator
    param.validator = lambda value: calls.append(value) or validator(value)
    assert param.parse("20") == 20 and calls == []
    with pytest.raises(InvalidParameterError, match="limit"):
        param.parse("200")
    assert calls == [200]


def test_other_constraints_keep_the_validator_only():
    spec = {"name": "s", "in": "query", "type": "integer", "minimum": 1, "exclusiveMinimum": True}
    assert Param(spec, "s").bounds is None
    assert (
        Param({"name": "e", "in": "query", "type": "integer", "enum": [1, 2]}, "e").bounds is None
    )
