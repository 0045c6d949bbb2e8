"""``format`` verdicts agree with schemathesis, which ``pym fuzz`` runs (issue 16).

A fuzz run failed with ``ST201 Schema-violating request accepted`` on ``format: uri``
(``"https://Ï"`` accepted by the old engine). pymacaron now checks formats with the engine
schemathesis itself uses to decide what violates a schema (jsonschema-rs, the same draft
per dialect). For every format pymacaron checks, in every dialect, schemathesis generates
bodies for an operation whose body is one string of that format:

- every body it generates as valid, pymacaron accepts (no false 400 in positive fuzzing);
- every body it generates as invalid (and still a JSON object with a string there, so only
  the format can be wrong), pymacaron rejects (no ST201 in negative fuzzing).

Formats pymacaron does not check (:data:`ANNOTATION_FORMATS`: int32, float, password,
binary...) are not asserted by schemathesis either: it fails only formats it checks.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from pymacaron.spec.validation import (
    CHECKED_FORMATS,
    SchemaViolation,
    compile_schema,
    to_json_schema,
)

SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _body(fmt: str) -> dict:
    return {
        "type": "object",
        "required": ["v"],
        "properties": {"v": {"type": "string", "format": fmt}},
        "additionalProperties": False,
    }


def _spec(dialect: str, body: dict) -> dict:
    info = {"title": "formats", "version": "1"}
    if dialect == "swagger2":
        return {
            "swagger": "2.0",
            "info": info,
            "paths": {
                "/f": {
                    "post": {
                        "consumes": ["application/json"],
                        "parameters": [
                            {"name": "b", "in": "body", "required": True, "schema": body}
                        ],
                        "responses": {"200": {"description": "ok"}},
                    }
                }
            },
        }
    return {
        "openapi": "3.0.3" if dialect == "oas30" else "3.1.0",
        "info": info,
        "paths": {
            "/f": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


def _ours(dialect: str, body: dict):
    return compile_schema(to_json_schema(body, dialect, "request"), dialect=dialect)


def _accepts(validator, value) -> bool:
    try:
        validator(value)
    except SchemaViolation:
        return False
    return True


CASES = [(d, f) for d in ("swagger2", "oas30", "oas31") for f in sorted(CHECKED_FORMATS[d])]


@pytest.mark.parametrize("dialect,fmt", CASES, ids=[f"{d}-{f}" for d, f in CASES])
def test_format_verdicts_agree_with_schemathesis(dialect, fmt):
    body = _body(fmt)
    ours = _ours(dialect, body)
    operation = schemathesis.openapi.from_dict(_spec(dialect, body))["/f"]["POST"]
    seen = {"positive": 0, "negative": 0}

    @given(operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @SETTINGS
    def positive(case):
        assert _accepts(ours, case.body), f"schemathesis generated {case.body!r} as valid"
        seen["positive"] += 1

    @given(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @SETTINGS
    def negative(case):
        value = case.body
        if not (isinstance(value, dict) and set(value) == {"v"} and isinstance(value["v"], str)):
            return  # another kind of violation (types, syntax): not this test's subject
        assert not _accepts(ours, value), f"schemathesis generated {value!r} as invalid"
        seen["negative"] += 1

    positive()
    negative()
    assert seen["positive"] > 0


# The values schemathesis found accepted (ST201) or that its engine reads a special way.
KNOWN = [
    ("uri", "https://Ï", False),
    ("uri", "https://example.com/a?b=c#d", True),
    ("uri", "example.com", False),
    ("email", "a@b", True),
    ("email", "a@", False),
    ("date", "2023-02-29", False),
    ("date", "2024-02-29", True),
    ("date-time", "2024-01-01T10:00:00Z", True),
    ("date-time", "2024-01-01 10:00:00", False),
    ("ipv4", "127.0.0.1", True),
    ("ipv4", "127.0.0.256", False),
    ("ipv6", "::1", True),
    ("ipv6", "1::2::3", False),
    ("hostname", "example.com", True),
    ("hostname", "-bad-.com", False),
    ("uuid", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", True),
    ("uuid", "1b4e28ba2fa111d2883f0016d3cca427", False),  # stricter than Python's uuid.UUID
    ("byte", "aGk=", True),
    ("byte", "aGk", False),
]


@pytest.mark.parametrize("dialect", ["swagger2", "oas30", "oas31"])
def test_known_values(dialect):
    for fmt, value, valid in KNOWN:
        ours = _ours(dialect, _body(fmt))
        assert _accepts(ours, {"v": value}) is valid, (dialect, fmt, value)


def test_the_uri_schemathesis_reported_is_invalid_for_its_own_engine_too():
    import jsonschema_rs
    from schemathesis.core.jsonschema import make_validator

    for cls in (jsonschema_rs.Draft4Validator, jsonschema_rs.Draft202012Validator):
        theirs = make_validator({"type": "string", "format": "uri"}, cls)
        assert not theirs.is_valid("https://Ï")
