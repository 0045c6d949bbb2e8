"""Load a spec file (Swagger 2.0, OpenAPI 3.0.x or 3.1.x) into an :class:`ApiSpec`:
checked, resolved, ready to compile. One interface for every version: what serves a
request (server/operation.py), builds models (models.py) or calls a service (client/)
reads :class:`ApiSpec` / :class:`OperationSpec` and does not fork per version.

Loading is: parse YAML or JSON (errors name the line) -> which version (``dialect``) ->
check it: the official JSON Schema of its version (schema.py) and the specification's own
rules (checks.py for 2.0, oas3check.py for 3.x), errors naming the JSON path of the node
in the file and its line -> inline references to other files -> one
:class:`OperationSpec` per path and method.

- Swagger 2.0: ``#/parameters`` and ``#/responses`` references resolved; ``spec`` is the
  file as written; schemas keep their ``#/definitions/...`` references.
- OpenAPI 3.x: ``spec`` is the normalized view of openapi3.py: ``definitions`` are
  ``components/schemas`` and every ``#/components/schemas/X`` reference reads
  ``#/definitions/X``, so models, validators and clients work unchanged; parameters,
  requestBody and responses are normalized as that module's docstring says (the
  contract the server and the client build on). Schemas stay in their dialect.

``ApiSpec.document`` is the file as written (external refs inlined): what is published.
A successful check is recorded (cache.py), so a start with an unchanged spec skips it; a
failed check is never recorded.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
from dataclasses import dataclass, field

from ..exceptions import StartupError
from .yamlfile import display_path, forget_positions, line_of, load_document

log = logging.getLogger("pymacaron")

__all__ = ["ApiSpec", "OperationSpec", "load_spec", "HTTP_METHODS", "DIALECTS"]

#: what ``ApiSpec.dialect`` can be
DIALECTS = ("swagger2", "oas30", "oas31")

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


@dataclass
class OperationSpec:
    """One operation of a spec, with its parameters and responses resolved.

    ``parameters``: Swagger 2.0 Parameter Objects (``$ref`` resolved, path-level merged);
    for OpenAPI 3.x the normalized Parameter Objects of openapi3.py (``in`` path, query,
    header or cookie, always a ``schema``, ``style``/``explode`` filled, ``x-pym-oas``),
    the requestBody last as ``{"in": "body", "name": "body", "required", "schema",
    "x-pym-content"}``. ``responses``: ``{code: {"description", "schema"?, "headers",
    ...}}`` (3.x adds ``x-pym-content``). ``consumes``/``produces``: media types in order.
    """

    api: str
    method: str
    path: str  # as in the spec, without basePath: /pets/{pet_id}
    operation: dict
    parameters: list[dict]
    responses: dict[str, dict]
    consumes: list[str]
    produces: list[str]

    @property
    def operation_id(self) -> str | None:
        return self.operation.get("operationId")

    def x(self, name: str, default=None):
        """A vendor extension on the operation (``x('bind-server')``)."""
        return self.operation.get(f"x-{name}", default)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass
class ApiSpec:
    """A loaded API: the file, its dicts and its operations.

    ``dialect``: ``"swagger2"``, ``"oas30"`` or ``"oas31"``. ``document``: the spec as
    written in the file, external references inlined (what the served spec publishes).
    ``spec``: what the framework reads -- the document itself for 2.0, the normalized view
    (``definitions``, rewritten references) for 3.x.
    """

    name: str
    path: str
    spec: dict
    operations: list[OperationSpec] = field(default_factory=list)
    dialect: str = "swagger2"
    document: dict | None = None

    def __post_init__(self):
        if self.document is None:
            self.document = self.spec

    @property
    def base_path(self) -> str:
        """basePath (2.0) or the path of ``servers[0].url`` (3.x); ``""`` for ``/``."""
        if self.dialect != "swagger2":
            from .openapi3 import base_path_of

            return base_path_of(self.document)
        bp = self.spec.get("basePath") or ""
        return "" if bp == "/" else bp.rstrip("/")

    @property
    def host(self) -> str | None:
        """``host`` (2.0), or the host of an absolute ``servers[0].url`` (3.x)."""
        if self.dialect != "swagger2":
            from .openapi3 import host_and_scheme

            return host_and_scheme(self.document)[0]
        return self.spec.get("host")

    @property
    def schemes(self) -> list[str]:
        if self.dialect != "swagger2":
            from .openapi3 import host_and_scheme

            scheme = host_and_scheme(self.document)[1]
            return [scheme] if scheme in ("http", "https") else ["http"]
        return self.spec.get("schemes") or ["http"]

    @property
    def version(self) -> str:
        return str((self.spec.get("info") or {}).get("version", ""))

    @property
    def definitions(self) -> dict:
        return self.spec.get("definitions") or {}

    def line(self, json_path: list) -> int | None:
        """Line number of a node, for error messages."""
        return line_of(self.path, json_path)


def _stringify_keys(node):
    """JSON semantics: YAML's ``200:`` is the string "200"."""
    if isinstance(node, dict):
        return {str(k): _stringify_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_stringify_keys(v) for v in node]
    return node


def _json_path_text(parts) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or "(top level)"


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _checked(spec: dict, path: str, name: str, dialect: str) -> dict:
    """The check of its version, skipped when this exact spec already passed it (cache.py)."""
    from . import cache as speccache

    key = speccache.cache_key(path, spec)
    recorded = speccache.lookup(key)
    if not speccache.is_missing(recorded):
        return spec if recorded is None else recorded
    if dialect == "swagger2":
        checked = _validate_swagger(spec, path, name)
    else:
        checked = _validate_oas3(spec, path, name, dialect)
    speccache.store(key, None if checked is spec else checked)
    return checked


def _validate_oas3(spec: dict, path: str, name: str, dialect: str) -> dict:
    """Check an OpenAPI 3.x document (oas3check.py); returns it with external refs inlined."""
    from . import checks as specchecks
    from . import oas3check

    shown = display_path(path)
    if _has_external_refs(spec):
        spec = specchecks.inline_external_refs(spec, path, shown, dialect=dialect)
    for message, json_path in oas3check.check(spec, path, shown, dialect):
        log.warning("%s: %s: %s", shown, _located(path, json_path), message)
    return spec


def _refuse_unenforceable(schema, where: tuple, dialect: str, path: str, shown: str) -> None:
    """Raise StartupError when ``schema`` (at JSON path ``where`` in the file) uses a
    keyword the validation engine cannot enforce in ``dialect`` -- never ignore a
    constraint silently. Called by oas3check.py on every Schema Object of a 3.x document
    that is not inside another (components/schemas entries, the ``schema`` of parameters,
    headers and media types), on a check (cache miss) only. What the engine cannot enforce
    is the engine's to say: ``validation.unenforceable(schema, dialect, at)`` ->
    ``[(keyword, json_path)]`` (issue 16, the validation engine); refuses nothing where the
    engine does not offer it."""
    from . import validation

    finder = getattr(validation, "unenforceable", None)
    found = finder(schema, dialect, at=where) if finder is not None else None
    if not found:
        return
    keyword, json_path = found[0]
    version = "3.0" if dialect == "oas30" else "3.1"
    value = schema
    for part in list(json_path)[len(where) :]:
        value = value.get(part) if isinstance(value, dict) else None
    what = f"{keyword!r}" + (
        f" {value!r}" if keyword == "format" and isinstance(value, str) else ""
    )
    raise StartupError(
        f"OpenAPI {version} schema keyword {what} cannot be enforced by pymacaron's "
        "validation engine (remove it or express the constraint another way)",
        file=shown,
        location=_located(path, json_path),
    )


def _annotations(spec: dict, path: str, dialect: str) -> None:
    """Unknown formats (and 3.1's ``nullable``) are annotations: one warning per distinct
    value, naming where it is first used; with ``strict_formats: true`` an unknown format
    refuses the spec. Run at every load (the check's cache does not skip it)."""
    from .schemaroots import schema_roots
    from .validation import STRICT_FORMATS, annotations

    seen: dict = {}
    for where, schema in schema_roots(spec):
        for keyword, value, json_path in annotations(schema, dialect, at=where):
            key = (keyword, value if keyword == "format" else None)
            if key in seen:
                seen[key][1] += 1
            else:
                seen[key] = [json_path, 1]
    if not seen:
        return
    shown = display_path(path)
    version = "3.0" if dialect == "oas30" else "3.1"
    for (keyword, value), (json_path, count) in seen.items():
        more = f" (and {count - 1} more place{'s' if count > 2 else ''})" if count > 1 else ""
        if keyword == "format" and STRICT_FORMATS.get():
            raise StartupError(
                f"OpenAPI {version} schema format {value!r} cannot be enforced by pymacaron's "
                "validation engine (strict_formats: true; remove it, use a checked format, "
                "or set strict_formats: false to serve it as an annotation)",
                file=shown,
                location=_located(path, json_path),
            )
        if keyword == "format":
            message = (
                f"format {value!r} is not checked by pymacaron: served as an annotation"
                f"{more} (strict_formats: true refuses it)"
            )
        elif keyword == "nullable":
            message = (
                f"'nullable' is not an OpenAPI 3.1 keyword: ignored{more}; use `type: [T, 'null']`"
            )
        else:
            message = (
                f"{keyword!r} is JSON Schema 2019-09's, not a keyword of OpenAPI 3.1 (2020-12): "
                f"ignored{more}; use $ref / $dynamicRef"
            )
        log.warning("%s: %s: %s", shown, _located(path, json_path), message)


def _refuse_bad_pattern(spec: dict, path: str, dialect: str) -> None:
    """A ``pattern`` (or ``patternProperties`` key) the validation engine of ``dialect``
    cannot compile refuses the spec, naming where it is, the pattern and the engine's
    reason (validation/patterns.py: each distinct pattern compiled once). Run at every load:
    validators compile on first use, and a request must never meet the broken one (500)."""
    from .validation.patterns import ENGINE_NAMES, bad_pattern

    found = bad_pattern(spec, dialect)
    if found is None:
        return
    json_path, pattern, reason, key = found
    what = "patternProperties key" if key else "pattern"
    raise StartupError(
        f"{what} {pattern!r} cannot be compiled by pymacaron's validation engine "
        f"({ENGINE_NAMES[dialect]}): {reason}",
        file=display_path(path),
        location=_located(path, json_path),
    )


def _validate_swagger(spec: dict, path: str, name: str) -> dict:
    """Check the spec as Swagger 2.0 defines it; returns it with external refs inlined.

    Fatal: what the official Swagger 2.0 JSON Schema refuses (specschema.py), and the
    specification's own MUSTs that the schema cannot say (specchecks.py). Everything else
    bravado-core / swagger-spec-validator used to refuse is at most a warning naming the place.
    """
    from . import checks as specchecks
    from . import schema as specschema

    shown = display_path(path)
    specschema.check(spec, path, shown)
    if _has_external_refs(spec):
        spec = specchecks.inline_external_refs(spec, path, shown)
        specschema.check(spec, path, shown)  # what the referenced files brought in
    for message, json_path in specchecks.check(spec, path, shown):
        log.warning("%s: %s: %s", shown, _located(path, json_path), message)
    return spec


def _most_telling(errors):
    """Among a oneOf's sub-errors, the one a human wants: a wrong enum value ('integr' is
    not one of ...) over 'additional properties' noise; else jsonschema's best match."""
    from jsonschema.exceptions import best_match

    stack, enums = list(errors), []
    while stack:
        error = stack.pop()
        if error.validator == "enum":
            enums.append(error)
        stack.extend(error.context or [])
    if enums:
        return max(enums, key=lambda e: len(e.absolute_path))
    return best_match(errors)


def _located(path: str, json_path) -> str:
    line = line_of(path, list(json_path))
    return _json_path_text(list(json_path)) + (f" (line {line})" if line else "")


_LOCAL_ONLY: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "pym_local_only", default=None
)  # id() of the spec being loaded when its loader saw no $ref out of the file


def _has_external_refs(node) -> bool:
    if id(node) == _LOCAL_ONLY.get():
        return False
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(
            _has_external_refs(v)
            for k, v in node.items()
            if not (isinstance(k, str) and k.startswith("x-"))
        )
    if isinstance(node, list):
        return any(_has_external_refs(v) for v in node)
    return False


def _resolve(spec: dict, node: dict, section: str, shown: str, where: str) -> dict:
    ref = node.get("$ref") if isinstance(node, dict) else None
    if not ref:
        return node
    prefix = f"#/{section}/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in (spec.get(section) or {}):
        raise StartupError(f"unresolvable reference {ref!r}", file=shown, location=where)
    return spec[section][ref[len(prefix) :]]


def _check_persist(spec: dict, path: str, dialect: str = "swagger2") -> None:
    """x-persist on definitions (Swagger 2.0) or components.schemas (OpenAPI 3): a wrong one
    names its key (pymacaron.spec.persist)."""
    from .persist import PersistSpecError, persisted_specs

    if dialect == "swagger2":
        section = ["definitions"]
        schemas = spec.get("definitions") or {}
    else:
        section = ["components", "schemas"]
        schemas = spec.get("definitions") or {}  # the view: components.schemas, refs rewritten
    try:
        persisted_specs(schemas)
    except PersistSpecError as e:
        where = [*section, e.definition, "x-persist"]
        line = line_of(path, where + list(e.where)) or line_of(path, where)
        raise StartupError(
            f"x-persist: {e}",
            file=display_path(path),
            location=_json_path_text(where + list(e.where)) + (f" (line {line})" if line else ""),
        ) from None


_OAS_VERSION = re.compile(r"^3\.([01])\.\d+(-.+)?$")


def dialect_of(spec: dict, path: str) -> str:
    """``"swagger2"``, ``"oas30"`` or ``"oas31"``; anything else is a one-line StartupError."""
    shown = display_path(path)
    if "openapi" in spec:
        version = spec["openapi"]
        m = _OAS_VERSION.match(version) if isinstance(version, str) else None
        if m:
            return "oas30" if m.group(1) == "0" else "oas31"
        hint = ""
        if isinstance(version, float | int) and not isinstance(version, bool):
            hint = f' (write the full version as a string: openapi: "{version}.0")'
        raise StartupError(
            f'expected openapi: 3.0.x or 3.1.x (or swagger: "2.0"), got {version!r}{hint}',
            file=shown,
            location=_located(path, ["openapi"]),
        )
    version = spec.get("swagger")
    if version == "2.0":
        return "swagger2"
    raise StartupError(
        (
            f'expected swagger: "2.0", got {version!r} (or openapi: 3.0.x / 3.1.x)'
            if "swagger" in spec
            else 'expected swagger: "2.0" or openapi: 3.0.x / 3.1.x, got neither key'
        ),
        file=shown,
        location=_located(path, ["swagger"]) if "swagger" in spec else None,
    )


_PATH_PARAM = re.compile(r"{([^}/]+)}")


def load_spec(path: str, name: str | None = None, validate: bool = True) -> ApiSpec:
    """Load, check and resolve one spec file: Swagger 2.0, OpenAPI 3.0.x or 3.1.x.

    Raises StartupError naming the file and the location of the problem.
    """
    token = _LOCAL_ONLY.set(None)
    try:
        return _load_spec(path, name, validate)
    finally:
        _LOCAL_ONLY.reset(token)
        forget_positions()


def _load_spec(path: str, name: str | None, validate: bool) -> ApiSpec:
    shown = display_path(path)
    name = name or os.path.splitext(os.path.basename(path))[0]
    raw, info = load_document(path, str_keys=True)
    if not isinstance(raw, dict):
        raise StartupError(
            "expected a Swagger 2.0 document or an OpenAPI 3.x one (a mapping at the top)",
            file=shown,
        )
    spec = raw if info.str_keys else _stringify_keys(raw)
    if info.local_refs:  # the loader saw every $ref: no walk to find one out of the file
        _LOCAL_ONLY.set(id(spec))
    dialect = dialect_of(spec, path)
    if validate:
        spec = _checked(spec, path, name, dialect)
    _refuse_bad_pattern(spec, path, dialect)
    if dialect != "swagger2":
        _annotations(spec, path, dialect)
        from .openapi3 import normalize

        view, operations = normalize(spec, name, path, shown, dialect)
        _check_persist(view, path, dialect)
        return ApiSpec(
            name=name,
            path=path,
            spec=view,
            operations=operations,
            dialect=dialect,
            document=spec,
        )
    _check_persist(spec, path)
    api = ApiSpec(name=name, path=path, spec=spec)
    global_consumes = spec.get("consumes") or ["application/json"]
    global_produces = spec.get("produces") or ["application/json"]
    for p, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        common = [
            _resolve(spec, prm, "parameters", shown, f"paths.{p}.parameters")
            for prm in item.get("parameters") or []
        ]
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            where = f"paths.{p}.{method}"
            own = [
                _resolve(spec, prm, "parameters", shown, f"{where}.parameters")
                for prm in op.get("parameters") or []
            ]
            merged = {(x.get("in"), x.get("name")): x for x in common}
            merged.update({(x.get("in"), x.get("name")): x for x in own})
            responses = {
                str(code): _resolve(spec, r, "responses", shown, f"{where}.responses.{code}")
                for code, r in (op.get("responses") or {}).items()
                if not str(code).startswith("x-")
            }
            bodies = [x for x in merged.values() if x.get("in") == "body"]
            forms = [x for x in merged.values() if x.get("in") == "formData"]
            if len(bodies) > 1 or (bodies and forms):
                names = ", ".join(repr(x.get("name")) for x in bodies + forms)
                raise StartupError(
                    f"an operation takes at most one body parameter, and no body with formData "
                    f"parameters (got {names})",
                    file=shown,
                    location=_located(path, ("paths", p, method, "parameters")),
                )
            declared = {x.get("name") for x in merged.values() if x.get("in") == "path"}
            for used in _PATH_PARAM.findall(p):
                if used not in declared:
                    raise StartupError(
                        f"Path parameter {used!r} used is not documented on {p!r} "
                        f"(declare it in the parameters of {method.upper()})",
                        file=shown,
                        location=_located(path, ("paths", p)),
                    )
            api.operations.append(
                OperationSpec(
                    api=name,
                    method=method,
                    path=p,
                    operation=op,
                    parameters=list(merged.values()),
                    responses=responses,
                    consumes=op.get("consumes") or global_consumes,
                    produces=op.get("produces") or global_produces,
                )
            )
    return api
