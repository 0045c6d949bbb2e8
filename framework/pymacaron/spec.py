"""Load a Swagger 2.0 file into an :class:`ApiSpec`: checked, resolved, ready to compile.

Loading is: parse YAML (errors name the line) -> check it is Swagger 2.0 with bravado-core
and swagger-spec-validator (errors name the JSON path of the node and its line) ->
resolve ``#/parameters`` and ``#/responses`` references -> one :class:`OperationSpec`
per path and method. Schemas keep their ``#/definitions/...`` references: validators
and models are built from them (see validation.py, models.py).
A successful bravado-core check is recorded (speccache.py), so a start with an unchanged
spec does not import bravado-core at all; a failed check is never recorded.
"""

from __future__ import annotations

import copy
import os
import re
import warnings
from dataclasses import dataclass, field

from .exceptions import StartupError
from .yamlfile import display_path, line_of, load_yaml

__all__ = ["ApiSpec", "OperationSpec", "load_spec", "HTTP_METHODS"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


@dataclass
class OperationSpec:
    """One operation of a spec, with its parameters and responses resolved."""

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
    """A loaded API: the file, its raw dict and its operations."""

    name: str
    path: str
    spec: dict
    operations: list[OperationSpec] = field(default_factory=list)

    @property
    def base_path(self) -> str:
        bp = self.spec.get("basePath") or ""
        return "" if bp == "/" else bp.rstrip("/")

    @property
    def host(self) -> str | None:
        return self.spec.get("host")

    @property
    def schemes(self) -> list[str]:
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


def _checked_swagger(spec: dict, path: str, name: str) -> dict:
    """:func:`_validate_swagger`, skipped when this exact spec already passed it (speccache)."""
    from . import speccache

    key = speccache.cache_key(path, spec)
    recorded = speccache.lookup(key)
    if not speccache.is_missing(recorded):
        return spec if recorded is None else recorded
    checked = _validate_swagger(spec, path, name)
    speccache.store(key, None if checked is spec else checked)
    return checked


def _validate_swagger(spec: dict, path: str, name: str) -> dict:
    """Check the spec with bravado-core; returns the spec with external refs inlined."""
    from bravado_core.spec import Spec  # slow import: only when a spec is loaded
    from swagger_spec_validator.common import SwaggerValidationError

    shown = display_path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            bravado = Spec.from_dict(
                copy.deepcopy(spec),
                origin_url="file://" + os.path.abspath(path),
                config={
                    "use_models": False,
                    "validate_swagger_spec": True,
                    "validate_requests": False,
                    "validate_responses": False,
                },
            )
    except SwaggerValidationError as e:
        cause = e.args[1] if len(e.args) > 1 else e.__cause__
        json_path = list(getattr(cause, "absolute_path", []) or [])
        message = getattr(cause, "message", None) or str(e.args[0] if e.args else e)
        context = getattr(cause, "context", None)
        if context:
            best = _most_telling(context)
            if best is not None:
                json_path = list(best.absolute_path) or json_path
                message = best.message
        pointer = re.search(r"Unresolvable JSON pointer: '([^']*)'", str(message))
        if json_path and not pointer:
            location = _located(path, json_path)
        else:  # no path (semantic checks) or a path that is not where the bad $ref is
            location = (
                _guess_location(spec, path, str(message))
                or _locate_bad_default(spec, path)
                or _json_path_text([])
            )
        if pointer:
            message = f"unresolvable reference '#/{pointer.group(1).lstrip('#/')}'"
        raise StartupError(
            f"not a valid Swagger 2.0 spec: {_first_line(message)}", file=shown, location=location
        ) from None
    except Exception as e:  # bravado-core's own semantic checks
        message = _first_line(str(e))
        raise StartupError(
            f"not a valid Swagger 2.0 spec: {message}",
            file=shown,
            location=_guess_location(spec, path, message),
        ) from None
    if _has_external_refs(spec):
        return _stringify_keys(bravado.flattened_spec)
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


def _walk(node, where=()):
    if isinstance(node, dict):
        yield where, node
        for k, v in node.items():
            yield from _walk(v, (*where, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, (*where, i))


def _located(path: str, json_path) -> str:
    line = line_of(path, list(json_path))
    return _json_path_text(list(json_path)) + (f" (line {line})" if line else "")


def _locate_bad_default(spec: dict, path: str) -> str | None:
    """Where a parameter's default does not have the parameter's type."""
    kinds = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "array": list}
    for where, node in _walk(spec.get("paths") or {}, ("paths",)):
        kind = kinds.get(node.get("type")) if "default" in node and "in" in node else None
        if kind is None:
            continue
        value = node["default"]
        if not isinstance(value, kind) or (
            node["type"] in ("integer", "number") and isinstance(value, bool)
        ):
            return _located(path, (*where, "default"))
    return None


def _guess_location(spec: dict, path: str, message: str) -> str | None:
    """The spec node a semantic error's message quotes ('/pets/{id}', #/definitions/X)."""
    pointer = re.search(r"Unresolvable JSON pointer: '([^']*)'", message)
    if pointer:
        wanted = "#/" + pointer.group(1).lstrip("#/")
        for where, node in _walk(spec):
            if node.get("$ref") == wanted:
                return _located(path, where)
    for quoted in re.findall(r"'(/[^']*)'", message):
        if quoted in (spec.get("paths") or {}):
            return _located(path, ("paths", quoted))
    for quoted in re.findall(r"#/definitions/([A-Za-z0-9_.-]+)", message):
        if quoted in (spec.get("definitions") or {}):
            return _located(path, ("definitions", quoted))
    return None


def _has_external_refs(node) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_external_refs(v) for v in node.values())
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


def _check_persist(spec: dict, path: str) -> None:
    """x-persist on definitions (Swagger 2.0) or components.schemas (OpenAPI 3): a wrong one
    names its key (pymacaron.persist.spec)."""
    from .persist.spec import PersistSpecError, persisted_specs

    section = ["definitions"] if "definitions" in spec else ["components", "schemas"]
    schemas = spec.get("definitions") or (spec.get("components") or {}).get("schemas") or {}
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


_PATH_PARAM = re.compile(r"{([^}/]+)}")


def load_spec(path: str, name: str | None = None, validate: bool = True) -> ApiSpec:
    """Load, check and resolve one Swagger 2.0 file.

    Raises StartupError naming the file and the location of the problem.
    """
    shown = display_path(path)
    name = name or os.path.splitext(os.path.basename(path))[0]
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise StartupError("expected a Swagger 2.0 document (a mapping at the top)", file=shown)
    spec = _stringify_keys(raw)
    version = spec.get("swagger")
    if version != "2.0":
        if "openapi" in spec:
            raise StartupError(
                f"OpenAPI {spec['openapi']} is not supported yet: pymacaron serves Swagger 2.0 specs "
                "(convert it, or keep it beside as a client-only spec)",
                file=shown,
                location="openapi",
            )
        raise StartupError(
            f'expected swagger: "2.0", got {version!r}', file=shown, location="swagger"
        )
    if validate:
        spec = _checked_swagger(spec, path, name)
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
                    line = line_of(path, ["paths", p, method])
                    raise StartupError(
                        f"path parameter {{{used}}} is not declared in the operation's parameters",
                        file=shown,
                        location=where + (f" (line {line})" if line else ""),
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
