"""The Swagger 2.0 reader decodes only the declared query parameters
(server/request_reader.py ``declared_query``), each exactly as werkzeug's ``request.args``
decodes it: the same values, in the same order, for every name."""

from __future__ import annotations

import random

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from pymacaron.server.request_reader import declared_query

CASES = [
    "",
    "limit=20",
    "limit=20&limit=30",
    "limit=&offset",
    "limit",
    "&&limit=1&&",
    "l%69mit=5",
    "li+mit=5&li%20mit=6",
    "q=a+b%20c%2Bd",
    "q=%zz&q=%e2%82%ac&q=%ff%fe",
    "%ff=1&q=%",
    "q=a=b=c",
    "tags=a,b,c&tags=d",
    "=x&q=1",
    "caf%C3%A9=1&q=%C3%A9t%C3%A9",
    "q;x=1&q=2",
]


def _args(query: str):
    environ = EnvironBuilder(path="/", query_string=query).get_environ()
    environ["QUERY_STRING"] = query  # as given, not re-encoded
    return Request(environ).args


def _check(query: str) -> None:
    args = _args(query)
    names = set(args) | {"limit", "q", "tags", "li mit", "café", "absent"}
    found = declared_query(query.encode("latin-1"), names)
    assert set(found) == set(args), query
    for name in args:
        assert found[name] == args.getlist(name), (query, name)
    # one name declared: the same values for it, nothing decoded for the others
    for name in names:
        alone = declared_query(query.encode("latin-1"), {name})
        assert alone.get(name, []) == args.getlist(name), (query, name)
        assert set(alone) <= {name}


@pytest.mark.parametrize("query", CASES)
def test_declared_values_are_requests_args(query):
    _check(query)


def test_random_query_strings_decode_as_request_args():
    rng = random.Random(30)
    alphabet = ["a", "b", "q", "=", "&", "+", "%", "2", "0", "e", "f", "%41", "%zz", "%c3%a9"]
    for _ in range(2000):
        _check("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
