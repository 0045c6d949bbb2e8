"""Clients: ``ApiPool.<api>.client.<name>(...)`` for every operation with ``x-bind-client``.

A call marshals its arguments the way the spec says (the body model as the single positional
argument, path/query/header/form parameters as keyword arguments), sends the request with
the configured timeouts and safe retries, validates the reply and returns a model (or a list
of models). An error -- the other service's error reply, a connection failure, a timeout,
a reply that does not match the spec -- is *returned* as an Error model (``is_error()`` is
true) unless the call (or ``ApiPool.add(name, raise_on_error=True)``) asks to raise it.

Where a client calls, first match wins:

1. ``PYM_CLIENT_<API>_URL`` (``PYM_CLIENT_DELIVERY_URL=http://127.0.0.1:9001``);
2. ``ApiPool.add(name, host=..., port=..., proto=..., **settings)``;
3. pym-config ``clients: {<api>: {host, port, proto, verify_ssl, ...}}``;
4. the spec's ``host``, ``schemes`` and ``basePath``.

Timeouts and retries come from pym-config (``client_connect_timeout``,
``client_read_timeout``, ``client_retries``, ``client_retry_backoff``, or the same keys
per API under ``clients``), overridable per call. Retries only where safe: a connection
that could not be made is retried for any method; a read timeout or a dropped connection
only for GET, HEAD, PUT, DELETE and OPTIONS -- never a POST (or PATCH) that may have
reached the server.

Options every call accepts (unless the operation has a parameter of the same name):
``raise_on_error``, ``timeout`` (seconds, or a (connect, read) pair), ``connect_timeout``,
``read_timeout``, ``retries``, ``request_headers`` (a dict of extra headers).

``x-decorate-request: pkg.func`` wraps the function that sends the request, as in the
original: ``func(send)`` returns a function called as ``send(url, headers=..., params=...,
data=..., timeout=..., verify=...)`` (requests' signature) that returns the response.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import logging
import os
import random
import re
import threading
import time
from urllib.parse import quote, urlsplit

import orjson

from ..config import DEFAULTS, config_path, find_service_dir, get_config
from ..exceptions import PyMacaronException, StartupError, add_error, code_to_class
from ..logs import get_request_id
from ..server.operation import _model_of, decorate
from ..server.parameters import Param, snake_case
from ..spec.models import PyMacaronModel
from ..spec.validation import (
    JsonSchemaValueException,
    compile_schema,
    to_json_schema,
    violation_text,
)
from ..spec.yamlfile import display_path

log = logging.getLogger("pymacaron.client")

__all__ = [
    "ApiClient",
    "ClientOperation",
    "build_client",
    "client_settings",
    "error_to_exception",
    "DownstreamUnavailableError",
    "DownstreamTimeoutError",
    "DownstreamBadResponseError",
    "DownstreamError",
]

DownstreamUnavailableError = add_error("DownstreamUnavailableError", "DOWNSTREAM_UNAVAILABLE", 503)
DownstreamTimeoutError = add_error("DownstreamTimeoutError", "DOWNSTREAM_TIMEOUT", 504)
DownstreamBadResponseError = add_error("DownstreamBadResponseError", "DOWNSTREAM_BAD_RESPONSE", 502)
DownstreamError = add_error("DownstreamError", "DOWNSTREAM_ERROR", 502)

# Methods a server must treat as idempotent: safe to send again after a read failure.
IDEMPOTENT = frozenset({"get", "head", "put", "delete", "options"})
MAX_BACKOFF = 5.0
OPTIONS = frozenset(
    {"raise_on_error", "timeout", "connect_timeout", "read_timeout", "retries", "request_headers"}
)
_SETTING_KEYS = (
    "host",
    "port",
    "proto",
    "verify_ssl",
    "connect_timeout",
    "read_timeout",
    "retries",
    "retry_backoff",
    "raise_on_error",
    "base_path",
)
# ApiPool.add() keywords of pymacaron-core kept for compatibility: timeout is the read
# timeout; the others no longer mean anything for a client and are ignored.
_COMPAT_KEYS = {"timeout": "read_timeout"}
_IGNORED_KEYS = frozenset({"error_callback", "formats", "do_persist"})
_ERROR_FIELDS = ("status", "error", "error_description", "error_id", "user_message")


class ClientConfigError(ValueError):
    """A client cannot be used as configured (no host, bad URL...)."""


# -- settings ---------------------------------------------------------------------------
def _config():
    """The service's config, or None when there is no pym-config (a standalone script)."""
    try:
        return get_config()
    except StartupError:
        if not os.path.isfile(config_path(find_service_dir())):
            return None
        raise


def env_url_name(api_name: str) -> str:
    """``PYM_CLIENT_<API>_URL`` for an API name."""
    return "PYM_CLIENT_" + re.sub(r"[^A-Z0-9]", "_", api_name.upper()) + "_URL"


def _split_host(value: str, where: str) -> dict:
    """``host``, ``host:port`` or ``proto://host[:port][/path]`` -> settings."""
    text = value.strip()
    out: dict = {}
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise ClientConfigError(f"{where}: {value!r} is not a valid host or URL ({e})") from None
    if not parts.hostname:
        raise ClientConfigError(f"{where}: {value!r} has no host name")
    if parts.scheme:
        if parts.scheme not in ("http", "https"):
            raise ClientConfigError(f"{where}: {value!r}: the scheme must be http or https")
        out["proto"] = parts.scheme
    host = parts.hostname
    out["host"] = f"[{host}]" if ":" in host else host
    if port:
        out["port"] = port
    if parts.path and parts.path != "/":
        out["base_path"] = parts.path.rstrip("/")
    return out


def client_settings(api) -> dict:
    """Where and how ``api``'s client calls right now (resolved at each call)."""
    spec = api.spec
    schemes = spec.schemes
    settings: dict = {
        "proto": "https" if "https" in schemes else schemes[0],
        "host": None,
        "port": None,
        "base_path": spec.base_path,
        "verify_ssl": True,
        "raise_on_error": False,
    }
    if spec.host:
        settings.update(_split_host(spec.host, f"{display_path(spec.path)}: host"))
    conf = _config()
    get = (lambda key: conf.get(key)) if conf is not None else (lambda key: None)

    def default(key):
        value = get(key)
        return DEFAULTS[key] if value is None else value

    settings["connect_timeout"] = default("client_connect_timeout")
    settings["read_timeout"] = default("client_read_timeout")
    settings["retries"] = default("client_retries")
    settings["retry_backoff"] = default("client_retry_backoff")
    layers = []
    per_api = ((get("clients") or {}).get(api.name)) or {}
    layers.append((per_api, f"pym-config clients.{api.name}"))
    layers.append((api.client_settings, f"ApiPool.add({api.name!r})"))
    env_name = env_url_name(api.name)
    env_url = os.environ.get(env_name)
    if env_url:
        layers.append((_split_host(env_url, env_name), env_name))
    for layer, where in layers:
        layer = {_COMPAT_KEYS.get(k, k): v for k, v in layer.items() if k not in _IGNORED_KEYS}
        unknown = set(layer) - set(_SETTING_KEYS)
        if unknown:
            raise ClientConfigError(
                f"{where}: unknown client setting(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(_SETTING_KEYS)})"
            )
        if layer.get("host"):
            host_parts = _split_host(str(layer["host"]), where)
            if "port" not in host_parts:
                # a new host without a port does not keep the old host's port
                settings["port"] = None
            settings.update(host_parts)
        settings.update({k: v for k, v in layer.items() if k != "host" and v is not None})
    return settings


def base_url(api, settings: dict | None = None) -> str:
    """``proto://host[:port]basePath`` for ``api`` (raises ClientConfigError without a host)."""
    settings = settings or client_settings(api)
    host = settings.get("host")
    if not host:
        raise ClientConfigError(
            f"ApiPool.{api.name}.client: no host to call ({display_path(api.spec.path)} has no "
            f"'host'): set clients.{api.name}.host in pym-config, call "
            f"ApiPool.add({api.name!r}, host=..., port=...) or export {env_url_name(api.name)}"
        )
    proto = settings.get("proto") or "http"
    if proto not in ("http", "https"):
        raise ClientConfigError(f"ApiPool.{api.name}.client: proto must be http or https")
    port = settings.get("port")
    netloc = host if not port else f"{host}:{int(port)}"
    return f"{proto}://{netloc}{settings.get('base_path') or ''}"


# -- sending ----------------------------------------------------------------------------
class _LazyModule:
    """``requests`` is imported on the first call, not at startup (~130 ms and ~6 MiB a
    worker for services that only serve)."""

    def __init__(self, name: str):
        self._name, self._module = name, None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


requests = _LazyModule("requests")
rex = _LazyModule("requests.exceptions")
_urllib3 = _LazyModule("urllib3.exceptions")
_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


def failure_kind(e: BaseException) -> str:
    """'connect' (the request never left), 'read' (it may have reached the server) or 'other'."""
    if isinstance(e, rex.ConnectTimeout):
        return "connect"
    if isinstance(e, rex.SSLError):
        return "other"
    if isinstance(e, rex.ConnectionError):
        reason = e.args[0] if e.args else None
        if isinstance(reason, _urllib3.MaxRetryError):
            reason = reason.reason
        if isinstance(reason, _urllib3.NewConnectionError | _urllib3.ConnectTimeoutError):
            return "connect"
        return "read"  # aborted/reset after the request was sent
    if isinstance(e, rex.ReadTimeout | rex.ChunkedEncodingError | rex.ContentDecodingError):
        return "read"
    return "other"


def _reason(e: BaseException) -> str:
    """A one-line cause, without URLs' query strings or object reprs."""
    if isinstance(e, rex.ConnectTimeout):
        return "connect timeout"
    if isinstance(e, rex.ReadTimeout):
        return "read timeout"
    text = str(e)
    for needle, short in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "unknown host"),
        ("Failed to resolve", "unknown host"),
        ("Temporary failure in name resolution", "unknown host"),
        ("RemoteDisconnected", "connection closed without a response"),
        ("Connection reset", "connection reset"),
        ("Connection aborted", "connection aborted"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verification failed"),
    ):
        if needle in text:
            return short
    return type(e).__name__


def _transport(method: str, label: str):
    """The innermost ``send(url, **kwargs)``: one request, retried where safe."""

    def send(url, retries=0, retry_backoff=0.2, **kwargs):
        attempt = 0
        while True:
            try:
                return _session().request(method.upper(), url, **kwargs)
            except rex.RequestException as e:
                kind = failure_kind(e)
                safe = kind == "connect" or (kind == "read" and method in IDEMPOTENT)
                e.pym_attempts = attempt + 1
                if not safe or attempt >= retries:
                    raise
                delay = min(MAX_BACKOFF, retry_backoff * (2**attempt))
                delay *= random.uniform(0.8, 1.0)
                attempt += 1
                log.warning(
                    "%s: %s, retry %d/%d in %.2fs", label, _reason(e), attempt, retries, delay
                )
                time.sleep(delay)

    return send


# -- one operation ----------------------------------------------------------------------
def _type_ok(value, kind: str | None) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    return True


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


class ClientOperation:
    """``ApiPool.<api>.client.<name>``: calls one operation of another service."""

    def __init__(self, api, op, name: str):
        self.api = api
        self.op = op
        self.name = name
        self.label = f"{api.name}.{name}"
        self.method = op.method
        self.path = op.path
        self.params: dict[str, Param] = {}  # kwarg -> Param
        self.aliases: dict[str, str] = {}  # spec name -> kwarg
        self.body_spec = None
        for prm in op.parameters:
            if prm.get("in") == "body":
                self.body_spec = prm
                continue
            kwarg = snake_case(prm["name"])
            self.params[kwarg] = Param(prm, kwarg)
            if prm["name"] != kwarg:
                self.aliases[prm["name"]] = kwarg
        schema = (self.body_spec or {}).get("schema") or {}
        self.body_schema = schema
        self._body_validator = None
        self.body_model, self.body_many = _model_of(schema, api.models)
        self._responses: dict[str, tuple] = {}
        self.send = self._decorate(_transport(op.method, self.label))
        self.__doc__ = (op.operation.get("summary") or "") + f" ({op.label} on {api.name})"

    def __repr__(self) -> str:
        return f"<client {self.label}: {self.op.label}>"

    def _decorate(self, send):
        return decorate(send, self.op, "decorate-request", self.api.spec.path)

    # -- request ---------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        options = {k: kwargs.pop(k) for k in list(kwargs) if k in OPTIONS and k not in self.params}
        settings = client_settings(self.api)
        raise_on_error = options.get("raise_on_error", settings.get("raise_on_error"))
        request = self._build(args, kwargs)
        connect_timeout = options.get("connect_timeout", settings["connect_timeout"])
        read_timeout = options.get("read_timeout", settings["read_timeout"])
        timeout = options.get("timeout")
        if isinstance(timeout, int | float):
            connect_timeout = read_timeout = timeout
        elif isinstance(timeout, tuple | list):
            connect_timeout, read_timeout = timeout
        retries = int(options.get("retries", settings["retries"]))
        url = base_url(self.api, settings) + request.pop("path")
        headers = request["headers"]
        rid = get_request_id()
        if rid:
            headers.setdefault("X-Request-ID", rid)
        for k, v in (options.get("request_headers") or {}).items():
            headers[k] = v
        started = time.monotonic()
        try:
            response = self.send(
                url,
                timeout=(connect_timeout, read_timeout),
                verify=bool(settings.get("verify_ssl", True)),
                retries=retries,
                retry_backoff=float(settings["retry_backoff"]),
                **request,
            )
            result = self._reply(response, url)
        except rex.RequestException as e:
            result = self._failure(e, url, time.monotonic() - started)
        if raise_on_error and isinstance(result, PyMacaronModel) and result.is_error():
            raise error_to_exception(result)
        return result

    def _build(self, args, kwargs) -> dict:
        where = f"ApiPool.{self.label}()"
        if len(args) > 1:
            raise TypeError(f"{where} takes the body as its only positional argument")
        body = args[0] if args else None
        if args and self.body_spec is None:
            raise TypeError(f"{where}: {self.op.label} takes no body (got a positional argument)")
        if self.body_spec is not None and "body" in kwargs and "body" not in self.params:
            body = kwargs.pop("body")
        values: dict = {}
        for key, value in kwargs.items():
            kwarg = self.aliases.get(key, key)
            if kwarg not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                raise TypeError(
                    f"{where}: unexpected argument {key!r} (parameters: {known}; "
                    f"options: {', '.join(sorted(OPTIONS))})"
                )
            values[kwarg] = value
        path, params, headers, form = self.path, {}, {}, {}
        for kwarg, param in self.params.items():
            value = values.get(kwarg)
            if value is None:
                if param.required:
                    raise TypeError(f"{where}: the {param.label} is required ({kwarg}=...)")
                continue
            self._check_param(param, value)
            if param.kind == "array":
                items = [_text(v) for v in value]
                encoded = items if param.multi else param.separator.join(items)
            else:
                encoded = _text(value)
            if param.location == "path":
                path = path.replace("{" + param.name + "}", quote(encoded, safe=""))
            elif param.location == "query":
                params[param.name] = encoded
            elif param.location == "header":
                headers[param.name] = encoded
            elif param.location == "formData":
                form[param.name] = encoded
        request: dict = {"path": path, "params": params, "headers": headers}
        if self.body_spec is not None:
            data = self._body(body, where)
            if data is not None:
                request["data"] = orjson.dumps(data)
                headers["Content-Type"] = "application/json"
        elif form:
            request["data"] = form
        return request

    def _check_param(self, param: Param, value) -> None:
        where = f"ApiPool.{self.label}()"
        values = value if param.kind == "array" else [value]
        if param.kind == "array" and not isinstance(value, list | tuple):
            raise ValueError(f"{where}: the {param.label} must be a list")
        kind = param.items_kind if param.kind == "array" else param.kind
        for v in values:
            if not _type_ok(v, kind) and not (kind == "string" and isinstance(v, _dt.date)):
                raise ValueError(
                    f"{where}: the {param.label} must be of type {kind}, got {type(v).__name__}"
                )
        if param.validator is not None:
            checked = list(value) if param.kind == "array" else value
            if isinstance(checked, _dt.date) or (
                isinstance(checked, list) and any(isinstance(v, _dt.date) for v in checked)
            ):
                return
            try:
                param.validator(checked)
            except JsonSchemaValueException as e:
                raise ValueError(
                    f"{where}: the {param.label}: {violation_text(e, root='')}"
                ) from None

    def _body(self, body, where: str):
        if body is None:
            if self.body_spec.get("required"):
                raise TypeError(f"{where}: a body is required ({self.op.label})")
            return None
        if isinstance(body, PyMacaronModel):
            data = body.to_json()
        elif isinstance(body, list):
            data = [v.to_json() if isinstance(v, PyMacaronModel) else v for v in body]
        else:
            data = body
        if self.body_schema:
            if self._body_validator is None:
                self._body_validator = compile_schema(
                    to_json_schema(self.body_schema), self.api.json_definitions
                )
            try:
                self._body_validator(data)
            except JsonSchemaValueException as e:
                raise ValueError(f"{where}: {violation_text(e, root='body')}") from None
        return data

    # -- reply -----------------------------------------------------------------------
    def _response_entry(self, status: int):
        key = str(status)
        if key not in self._responses:
            resp = self.op.responses.get(key) or self.op.responses.get("default")
            if resp is None:
                self._responses[key] = (False, None, None, False)
            else:
                schema = resp.get("schema")
                validator = (
                    compile_schema(to_json_schema(schema), self.api.json_definitions)
                    if schema
                    else None
                )
                model, many = _model_of(schema or {}, self.api.models)
                self._responses[key] = (True, validator, model, many)
        return self._responses[key]

    def _reply(self, response, url: str):
        status = response.status_code
        content = response.content
        data = None
        parsed = False
        if content:
            try:
                data = orjson.loads(content)
                parsed = True
            except orjson.JSONDecodeError:
                parsed = False
        if status >= 300:
            return self._error_reply(status, data if parsed else None, content, url)
        declared, validator, model, many = self._response_entry(status)
        if not declared:
            return self._bad(f"returned status {status}, which the spec does not declare", url)
        if not content:
            if validator is not None:
                return self._bad(f"returned no body for status {status}", url)
            return None
        if not parsed:
            return self._bad(f"returned a {status} reply that is not JSON", url)
        if validator is not None:
            try:
                validator(data)
            except JsonSchemaValueException as e:
                return self._bad(
                    f"returned a {status} body that does not match the spec: "
                    f"{violation_text(e, root='response')}",
                    url,
                )
        if model is not None:
            return [model.from_json(v) for v in data] if many else model.from_json(data)
        return data

    def _error_model(self, body: dict):
        cls = self.api.models.get("Error")
        if cls is None or not set(_ERROR_FIELDS) <= set(cls.__properties__):
            cls = _builtin_error_model()
        return cls.from_json({k: v for k, v in body.items() if v is not None})

    def _error_reply(self, status: int, data, content: bytes, url: str):
        if (
            isinstance(data, dict)
            and isinstance(data.get("error"), str)
            and isinstance(data.get("status", status), int)
        ):
            body = {k: data.get(k) for k in _ERROR_FIELDS}
            body["status"] = data.get("status") or status
            body["error_description"] = body["error_description"] or ""
            if not isinstance(body.get("error_id"), str):
                body["error_id"] = PyMacaronException().error_id
            log.info(
                "%s: %s %s error_id=%s", self.label, body["status"], body["error"], body["error_id"]
            )
            return self._error_model(body)
        snippet = content[:200].decode("utf-8", "replace").replace("\n", " ") if content else ""
        error = DownstreamError(
            f"{self.label}: {self.method.upper()} {_safe_url(url)} returned {status}"
            + (f": {snippet}" if snippet else ""),
            status=status if status >= 400 else 502,
        )
        log.warning("%s error_id=%s", error.message, error.error_id)
        return self._error_model(error.to_dict())

    def _bad(self, why: str, url: str):
        error = DownstreamBadResponseError(
            f"{self.label}: {self.method.upper()} {_safe_url(url)} {why}"
        )
        log.warning("DOWNSTREAM_BAD_RESPONSE error_id=%s: %s", error.error_id, error.message)
        return self._error_model(error.to_dict())

    def _failure(self, e: rex.RequestException, url: str, elapsed: float):
        attempts = getattr(e, "pym_attempts", 1)
        what = f"{self.method.upper()} {_safe_url(url)}"
        tried = f"after {attempts} attempt{'s' if attempts > 1 else ''} in {elapsed:.1f}s"
        kind = failure_kind(e)
        if isinstance(e, rex.ReadTimeout):
            error = DownstreamTimeoutError(f"{self.label}: {what}: no reply in time ({tried})")
        elif kind in ("connect", "read"):
            error = DownstreamUnavailableError(f"{self.label}: {what}: {_reason(e)} ({tried})")
        else:
            error = DownstreamUnavailableError(f"{self.label}: {what}: {_reason(e)}")
        log.warning("%s error_id=%s: %s", error.code, error.error_id, error.message)
        return self._error_model(error.to_dict())


def _safe_url(url: str) -> str:
    """The URL without query string (it may carry secrets)."""
    return url.split("?", 1)[0]


def _builtin_error_model():
    from ..apipool import BUILTIN_DIR, ApiPool, load_api

    if not ApiPool.has("ping"):
        load_api(os.path.join(BUILTIN_DIR, "ping.yaml"), name="ping", builtin=True)
    return ApiPool.get("ping").models["Error"]


def error_to_exception(error) -> PyMacaronException:
    """The exception for an Error model: the registered class of its code when there is one.

    It keeps the status, code, description, error_id and user_message, so re-raising a
    downstream error in a handler replies with the same error (and error_id).
    """
    status, code = error.status, error.error
    kwargs = {"error_id": error.get("error_id"), "user_message": error.get("user_message")}
    description = error.get("error_description") or code
    cls = code_to_class.get(code)
    if cls is not None and cls.status == status:
        exc = cls(description, **kwargs)
    else:
        exc = PyMacaronException(description, status=status, code=code, **kwargs)
    exc.error_model = error
    return exc


class ApiClient:
    """``ApiPool.<api>.client``: one callable per ``x-bind-client`` operation."""

    def __init__(self, api, operations: dict):
        self._api = api
        self._operations = operations

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._operations[name]
        except KeyError:
            known = ", ".join(sorted(self._operations)) or "none: add x-bind-client to operations"
            raise AttributeError(
                f"ApiPool.{self._api.name}.client has no {name!r} "
                f"(x-bind-client names in {display_path(self._api.spec.path)}: {known})"
            ) from None

    def __dir__(self):
        return sorted(self._operations)

    def __iter__(self):
        return iter(self._operations)

    def __repr__(self) -> str:
        return f"<ApiClient {self._api.name}: {', '.join(sorted(self._operations))}>"


def build_client(api) -> ApiClient:
    """The client of ``api``: a :class:`ClientOperation` per ``x-bind-client`` name."""
    operations: dict[str, ClientOperation] = {}
    for op in api.spec.operations:
        name = op.x("bind-client")
        if not name:
            continue
        if not isinstance(name, str) or not name.isidentifier():
            raise StartupError(
                f"x-bind-client must be a Python identifier, got {name!r}",
                file=display_path(api.spec.path),
                location=op.label,
            )
        if name in operations:
            raise StartupError(
                f"x-bind-client {name!r} is also used by {operations[name].op.label}",
                file=display_path(api.spec.path),
                location=op.label,
            )
        operations[name] = ClientOperation(api, op, name)
    return ApiClient(api, operations)
