"""Building an operation at startup: the Flask rule of a spec path, binding the handler
(``x-bind-server``, ``x-decorate-server``, pym mock's :data:`BINDER`, 501 when unbound),
checking its signature against the declared parameters, and compiling the 3.x reply
tables. Nothing here runs per request."""

from __future__ import annotations

import inspect
import logging
import os
import re
from contextvars import ContextVar
from urllib.parse import unquote

from ..exceptions import PyMacaronException, StartupError
from ..spec.binding import decorate, import_dotted
from ..spec.load import ApiSpec, OperationSpec
from ..spec.parameters import OAS3Param, Param, ParamError, schema_validator, snake_case
from ..spec.yamlfile import display_path
from .media import concrete, media_types

log = logging.getLogger("pymacaron")
# While an app is built: ``(operation, op_spec, api) -> handler`` replacing x-bind-server, or
# None to bind it (pym mock, run/mock.py); with ALLOW_UNBOUND_ENV=1 (pym run --allow-unbound) a target that
# does not import answers 501 NOT_IMPLEMENTED instead of refusing startup.
BINDER: ContextVar = ContextVar("pym_binder", default=None)
ALLOW_UNBOUND_ENV = "PYM_ALLOW_UNBOUND"

__all__ = [
    "BINDER",
    "ALLOW_UNBOUND_ENV",
    "OperationBuild",
    "flask_rule",
    "kwarg_name",
    "signature_of",
]

_PATH_VAR = re.compile(r"{([^}/]+)}")


def flask_rule(path: str) -> tuple[str, list[str]]:
    """``/pets/{pet-id}`` -> (``/pets/<p0>``, ['pet-id']).

    Percent-encoded characters of the spec's path are decoded (``green%20color`` is the
    path a client writes as ``green%20color``, and werkzeug matches decoded paths), except
    an encoded ``/``, which stays inside its segment.
    """
    names: list[str] = []
    out: list[str] = []
    last = 0
    for m in _PATH_VAR.finditer(path):
        out.append(_decoded(path[last : m.start()]))
        names.append(m.group(1))
        out.append(f"<p{len(names) - 1}>")
        last = m.end()
    out.append(_decoded(path[last:]))
    return "".join(out), names


def _decoded(literal: str) -> str:
    if "%" not in literal:
        return literal
    return "%2F".join(unquote(part) for part in re.split("%2[fF]", literal))


def refused(message: str, api: ApiSpec, op: OperationSpec) -> StartupError:
    """What an operation of ``api`` that cannot be served raises at startup: the message,
    naming the spec file and the operation."""
    return StartupError(message, file=display_path(api.path), location=op.label)


class OperationBuild:
    """The startup half of :class:`~pymacaron.server.operation.Operation`."""

    def _compile_replies(self, op: OperationSpec, definitions: dict, api: ApiSpec) -> None:
        """3.x responses: the validator of each (status, media type), the media types of
        each status, the declared headers; the reply path reads these tables."""
        statuses = []
        for code, resp in op.responses.items():
            key: int | str = int(code) if code.isdigit() else code
            if key != "default" and not isinstance(key, int):
                continue
            statuses.append(key)
            content = resp.get("x-pym-content") or {}
            media = tuple(concrete(media_types(list(content)), dedupe=False))
            self.reply_media[key] = media
            for m, entry in zip(media, content.values(), strict=True):
                schema = (entry or {}).get("schema")
                self.media_validators[(key, m)] = (
                    schema_validator(schema, definitions, self.dialect, "response")
                    if schema
                    else None
                )
            checks = []
            for name, header in (resp.get("headers") or {}).items():
                if name.lower() == "content-type" or not isinstance(header, dict):
                    continue
                header = dict(header)
                if "schema" not in header and header.get("content"):
                    header["schema"] = next(iter(header["content"].values())).get("schema") or {}
                try:
                    param = OAS3Param(
                        {**header, "name": name, "in": "header", "style": "simple"},
                        snake_case(name),
                        definitions,
                        api.definitions,
                        self.dialect,
                    )
                except ParamError as e:
                    raise refused(f"response header {name!r} of {code}: {e}", api, op) from None
                checks.append(param)
            if checks:
                self.reply_headers[key] = tuple(checks)
        produced = set(self.produces)
        remap = any(m and set(m) != produced for m in self.reply_media.values())
        if remap or self.reply_headers:
            self.make_reply = self._make_reply_oas3

    def _bind(self, op: OperationSpec, api: ApiSpec):
        where = f"{display_path(api.path)}: {op.label}"
        binder = BINDER.get()  # pym mock (run/mock.py): its handlers, no import
        handler = binder(self, op, api) if binder is not None else None
        if handler is not None:
            try:  # x-decorate-server (requires_auth...) as the real handler has it
                return decorate(handler, op, "decorate-server", api.path), handler
            except StartupError as e:
                log.warning("%s: served without its x-decorate-server: %s", where, e)
                return handler, handler
        target_name = op.x("bind-server")
        if not target_name:
            oid = op.operation_id or ""
            if "." in oid and all(part.isidentifier() for part in oid.split(".")):
                target_name = oid
        if not target_name:
            log.warning("%s has no x-bind-server (nor dotted operationId): it answers 501", where)
            return self._not_implemented, self._not_implemented
        try:
            target = import_dotted(target_name)
        except Exception as e:  # ImportError, or an error raised by the module itself
            if os.environ.get(ALLOW_UNBOUND_ENV) == "1":  # pym run --allow-unbound
                log.warning("%s: %r does not import (%s): it answers 501", where, target_name, e)
                return self._not_implemented, self._not_implemented
            raise refused(
                f"x-bind-server target {target_name!r} does not import: {type(e).__name__}: {e}",
                api,
                op,
            ) from None
        if not callable(target):
            raise refused(f"x-bind-server target {target_name!r} is not callable", api, op)
        return decorate(target, op, "decorate-server", api.path), target

    def _not_implemented(self, *args, **kwargs):
        raise PyMacaronException(
            f"{self.spec.label} is not implemented", status=501, code="NOT_IMPLEMENTED"
        )

    def _check_signature(self, signature) -> None:
        if signature is None or self.target is self._not_implemented:
            return
        params = signature.parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return
        accepted = {
            p.name
            for p in params
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        }
        for param in self.all_params():
            if param.kwarg not in accepted:
                raise StartupError(
                    f"handler {self.target.__module__}.{self.target.__qualname__} does not accept "
                    f"the {param.label} (add a '{param.kwarg}' argument or **kwargs)",
                    file=display_path(self.api.path),
                    location=self.spec.label,
                )

    def all_params(self) -> list[Param]:
        return (
            [p for _, p in self.path_params]
            + self.query_params
            + self.header_params
            + self.form_params
            + self.cookie_params
        )


def signature_of(target):
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


def kwarg_name(name: str, signature) -> str:
    """The spec's name when the handler takes it as is, else its snake_case form."""
    if signature is not None and name.isidentifier() and name in signature.parameters:
        return name
    return snake_case(name)
