"""Schema validation: OpenAPI schemas -> JSON Schema -> a compiled validator.

A package by concern: :mod:`.formats` (which formats are checked, how),
:mod:`.translate` (dialects -> JSON Schema), :mod:`.enforce` (what the engines cannot
enforce), :mod:`.compile` (the two engines, lazy validators), :mod:`.messages` (one
:class:`SchemaViolation` and its words for both engines). This module re-exports their
public names.

Three dialects, two engines (chosen by measurement: bench/validators.py, bench/worker_rss.py,
docs/performance.md):

- ``swagger2``: Swagger 2.0 schemas, run as JSON Schema draft 4 (``x-nullable``, int32/int64
  bounds, ``type: file``, the ``discriminator`` string);
- ``oas30``: OpenAPI 3.0 schemas, draft 4 as well (``nullable``, boolean
  ``exclusiveMinimum``), with ``readOnly``/``writeOnly`` by direction and the
  ``discriminator`` object (with or without ``mapping``);
- ``oas31``: OpenAPI 3.1 schemas, JSON Schema 2020-12, plus OpenAPI's ``discriminator`` and
  ``readOnly``/``writeOnly``.

:func:`to_json_schema` translates one schema, :func:`json_definitions` a spec's
definitions, :func:`compile_schema` / :func:`validator_for` compile; a validator returns
the data or raises :class:`SchemaViolation`, whose :func:`describe_violation` names the
field (``body.owner.name``) and says what was expected. :func:`unenforceable` lists what a
schema asks for that the engine cannot enforce, so a spec that uses it is refused at start.

Engines: draft 4 (``swagger2``, ``oas30``) runs on fastjsonschema (pure Python, generated
code) behind :mod:`.fastcheck`'s pre-check, so a worker serving only those never loads
jsonschema-rs (a 14.8 MB extension, ~5-10 MiB of a worker's RSS); 2020-12 (``oas31``) runs
on jsonschema-rs, imported on the first 2020-12 compile. Both give the same
:class:`SchemaViolation` for the same failure (the words of jsonschema-rs' errors as
:func:`_convert` maps them). When a document has several errors the engines may name a
different one first (fastjsonschema: keywords in its order, properties in the schema's).

``format`` is checked as schemathesis checks it (the same engine and version, the same
draft per dialect, tests/framework/test_formats.py): :data:`CHECKED_FORMATS` per dialect.
In draft 4, ``byte``, ``uuid``, ``ipv4`` and ``ipv6`` are checked in Python; every other
checked format (:data:`RS_FORMATS_DRAFT4`: date, time, date-time, duration, email,
idn-email, hostname, idn-hostname, uri, uri-reference, uri-template, iri, iri-reference,
json-pointer, relative-json-pointer, regex) by jsonschema-rs' own check for it, which is
imported when a schema using one of them is compiled;
:data:`ANNOTATION_FORMATS` are OpenAPI's own names that constrain nothing (or become
bounds); any other format is refused at start in 3.x specs and ignored in Swagger 2.0 ones
(as bravado-core does).
"""

from __future__ import annotations

from .compile import EAGER as EAGER  # noqa: F401 - app.py: pym check compiles eagerly
from .compile import LazyValidator, compile_schema, validator_for
from .compile import eager as eager  # noqa: F401
from .compile import proving as proving  # noqa: F401 - app.py: pym check proves in bulk
from .enforce import STRICT_FORMATS, annotations, unenforceable, unknown_format
from .formats import (
    ANNOTATION_FORMATS,
    CHECKED_FORMATS,
    RS_FORMATS_DRAFT4,
    SWAGGER_FORMATS,
    _format_checks,  # noqa: F401 - bench/validators.py, tests
)
from .messages import (
    JsonSchemaValueException,
    SchemaViolation,
    _json_type,  # noqa: F401 - server/bodies.py, server/operation.py
    all_violations,
    describe_violation,
    violation_text,
)
from .translate import DIALECTS, DRAFT4, DRAFT2020, json_definitions, to_json_schema

__all__ = [
    "ANNOTATION_FORMATS",
    "CHECKED_FORMATS",
    "DIALECTS",
    "DRAFT4",
    "DRAFT2020",
    "JsonSchemaValueException",
    "LazyValidator",
    "RS_FORMATS_DRAFT4",
    "SWAGGER_FORMATS",
    "SchemaViolation",
    "compile_schema",
    "describe_violation",
    "all_violations",
    "json_definitions",
    "to_json_schema",
    "unenforceable",
    "annotations",
    "unknown_format",
    "STRICT_FORMATS",
    "validator_for",
    "violation_text",
]
