"""pym-config.yaml: one file, one JSON Schema, read by the runtime and the deploy kit.

``get_config()`` loads ``pym-config.<PYM_ENV>.yaml`` when it exists, else ``pym-config.yaml``,
from the service directory (``PYM_SERVICE_DIR``, else the directory ``load_apis`` was given,
else the working directory). It validates the file against ``pym-config.schema.json``:
a wrong value is a :class:`~pymacaron.exceptions.StartupError` naming the file and the key.
Names listed in ``env_secrets`` are read from the environment (``JWT_SECRET`` is then
``get_config().jwt_secret`` too); a missing one is a startup error naming it.
Unknown keys are warned about and stay readable as attributes.

:func:`read_stage_config` is the one reader of a file (the deploy kit and the release steps
use it too); rules that only matter on AWS (``aws_hosts_min <= aws_hosts_max``, a
``secrets:`` reference for every ``env_secrets`` name) are the kit's, in infra/config.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from . import current
from .exceptions import StartupError
from .spec import cache as records
from .spec.validation import SchemaViolation, compile_schema, describe_violation
from .spec.yamlfile import display_path, line_of, load_yaml

log = logging.getLogger(__name__)

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "pym-config.schema.json")

STAGE_KEY = "stages"

# A pym-config mapping as read: YAML values, checked against the schema before use.
ConfigData = dict[str, Any]
Environ = Mapping[str, str]


@cache
def config_schema() -> ConfigData:
    """The pym-config JSON Schema (draft 4)."""
    with open(SCHEMA_PATH) as f:
        schema: ConfigData = json.load(f)
    return schema


DEPLOY_KEYS_FIELD = "x-deploy-keys"


def deploy_keys() -> frozenset[str]:
    """Keys only the deploy kit reads (AWS sizes, certificates, network...): the runtime
    does not refuse a value of theirs, ``pym synth``/``pym plan`` do (infra/config.py)."""
    return frozenset(config_schema().get(DEPLOY_KEYS_FIELD) or ())


def schema_defaults() -> ConfigData:
    """Every key's default, as the schema states it (``"default"`` of a top-level property):
    the one place a default is written (the runtime's and the deploy kit's)."""
    props = config_schema()["properties"]
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}


def schema_default(*path: str) -> Any:
    """The default the schema states for a key inside a section (``schema_default("vpc",
    "max_azs")``) or behind a ``$ref`` (``schema_default("dynamodb_billing_mode")``);
    KeyError when it states none."""
    schema = config_schema()
    node: dict[str, Any] = schema
    for key in path:
        node = node["properties"][key]
        while "$ref" in node:  # "#/definitions/<name>"
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    if "default" not in node:
        raise KeyError(f"pym-config.schema.json states no default for {'.'.join(path)}")
    return copy.deepcopy(node["default"])


# Runtime defaults for keys a service may leave out (from the schema; the deploy keys' are
# infra/config.py's DEFAULTS).
DEFAULTS = {k: v for k, v in schema_defaults().items() if k not in deploy_keys()}


@cache
def _validator() -> Callable[[object], None]:
    schema = copy.deepcopy(config_schema())
    schema.pop(DEPLOY_KEYS_FIELD, None)
    validate: Callable[[object], None] = compile_schema(schema)  # spec/ is not typed yet
    return validate


@cache
def _runtime_validator() -> Callable[[object], None]:
    """The schema with every deploy-only key accepted as anything (top level and stages)."""
    schema = copy.deepcopy(config_schema())
    keys = set(schema.pop(DEPLOY_KEYS_FIELD, None) or ())
    for props in (schema["properties"], schema["definitions"]["stage"]["properties"]):
        for key in keys & set(props):
            props[key] = {}
    validate: Callable[[object], None] = compile_schema(schema)  # spec/ is not typed yet
    return validate


class PymConfig:
    """The validated configuration; keys are attributes (``get_config().jwt_audience``).

    Known keys that are not set read as their default (or None); reading a key that is
    neither known nor set raises AttributeError naming the file.
    """

    def __init__(self, data: ConfigData, path: str, env: str, secrets: dict[str, str]):
        self._data = data
        self._path = path
        self._env = env
        self._secrets = secrets

    @property
    def path(self) -> str:
        """The file this configuration was read from."""
        return self._path

    @property
    def pym_env(self) -> str:
        return self._env

    def as_dict(self) -> ConfigData:
        """The file's content with stage overrides applied (secret values excluded)."""
        return copy.deepcopy(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            return default

    def __getattr__(self, key: str) -> Any:  # a key's value: whatever YAML the schema allows
        if key.startswith("__"):
            raise AttributeError(key)
        secrets = self.__dict__.get("_secrets", {})
        if key in secrets:
            return secrets[key]
        data = self.__dict__.get("_data", {})
        if key in data:
            return data[key]
        if key in DEFAULTS:
            return copy.copy(DEFAULTS[key])
        if key in config_schema()["properties"]:
            return None
        raise AttributeError(f"{self.__dict__.get('_path')}: no key {key!r} in pym-config")

    def __contains__(self, key: str) -> bool:
        return key in self._data or key in self._secrets

    def __repr__(self) -> str:  # never print secret values
        return f"<PymConfig {self._path} env={self._env} keys={sorted(self._data)}>"


def stage_file(service_dir: str, env: str | None) -> str:
    """``pym-config.<env>.yaml`` when it exists (it replaces the file for that stage), else
    ``pym-config.yaml``."""
    if env:
        candidate = os.path.join(service_dir, f"pym-config.{env}.yaml")
        if os.path.isfile(candidate):
            return candidate
    return os.path.join(service_dir, "pym-config.yaml")


def config_path(service_dir: str, env: str | None = None) -> str:
    """The file get_config() reads for this directory and PYM_ENV."""
    return stage_file(service_dir, env or os.environ.get("PYM_ENV"))


def _record_key(path: str, deploy: bool) -> str | None:
    """What a successful check of this file is recorded under (spec/cache.py, as the specs'
    checks): its bytes, the checking engines, the config schema, this module, the mode."""
    base = records.cache_key(path, {})
    if base is None:
        return None
    digest = hashlib.sha256(f"pym-config:{base}:{deploy}".encode())
    for name in (SCHEMA_PATH, __file__):
        try:
            with open(name, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
        except OSError:
            return None
    return "config-" + digest.hexdigest()


def read_config_file(path: str, deploy: bool = True) -> ConfigData:
    """Parse and validate one pym-config file; errors name the file and the key.

    ``deploy=False`` (the runtime) checks only the keys a running service reads, so a v1
    service with placeholder deploy values (``aws_cert_arn: <ARN_OF_SSL_CERTIFICATE>``)
    still serves; the deploy kit reads with ``deploy=True`` and refuses them at synth.
    """
    shown = display_path(path)
    if not os.path.isfile(path):
        raise StartupError(
            "no pym-config file here (every service needs one with at least a 'name' key)",
            file=shown,
        )
    data = load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise StartupError(
            f"expected a mapping of keys to values at the top, got {type(data).__name__}",
            file=shown,
        )
    key = _record_key(path, deploy)
    if not records.is_missing(records.lookup(key)):
        return data  # checked before, byte for byte (`pym check` records it in the image)
    try:
        (_validator() if deploy else _runtime_validator())(data)
    except SchemaViolation as e:
        where, message = describe_violation(e, root="")
        if "secrets" in where.split("."):  # top level or stages.<stage>.secrets
            message = message.split(", got ", 1)[0]  # never echo what may be a secret value
        parts = [p for p in where.split(".") if p]
        line = line_of(path, [int(p) if p.isdigit() else p for p in parts])
        location = f"key '{where}'" if where else "top level"
        if line:
            location += f" (line {line})"
        raise StartupError(message, file=shown, location=location) from None
    records.store(key, None)
    return data


def unknown_keys(data: ConfigData) -> list[str]:
    """Top-level keys the schema does not know (allowed, but worth a warning)."""
    known = config_schema()["properties"]
    return sorted(k for k in data if k not in known)


def apply_stage(data: ConfigData, env: str | None) -> ConfigData:
    """The config as seen by one stage: ``stages.<env>`` overrides the top-level keys."""
    merged = {k: v for k, v in data.items() if k != STAGE_KEY}
    overrides = (data.get(STAGE_KEY) or {}).get(env or "") or {}
    merged.update(copy.deepcopy(overrides))
    if STAGE_KEY in data:
        merged[STAGE_KEY] = data[STAGE_KEY]
    return merged


def read_stage_config(path: str, env: str | None = None, deploy: bool = False) -> ConfigData:
    """One pym-config file as stage ``env`` sees it: parsed (duplicate keys refused),
    validated against the schema, ``stages.<env>`` applied.

    The one reader: the runtime (:func:`load_config`), the deploy kit (infra/) and every
    release step (``pym image``, ``pym deploy``, ``pym pipeline local``) call it.
    """
    return apply_stage(read_config_file(path, deploy=deploy), env)


def read_env_secrets(data: ConfigData, path: str, environ: Environ | None = None) -> dict[str, str]:
    """Values of the names listed in env_secrets, from the environment.

    Each is reachable as its own name and lowercased (``JWT_SECRET`` -> ``jwt_secret``).
    """
    environ = os.environ if environ is None else environ
    names = data.get("env_secrets") or []
    missing = [n for n in names if not environ.get(n)]
    if missing:
        raise StartupError(
            "environment variable(s) listed in env_secrets are not set: "
            + ", ".join(missing)
            + " (export them, or on AWS map them under 'secrets:' to Secrets Manager/SSM)",
            file=display_path(path),
            location="key 'env_secrets'",
        )
    secrets: dict[str, str] = {}
    for n in names:
        secrets[n] = environ[n]
        secrets[n.lower()] = environ[n]
    return secrets


def load_config(
    service_dir: str | None = None,
    env: str | None = None,
    path: str | None = None,
    environ: Environ | None = None,
) -> PymConfig:
    """Read, validate and resolve the configuration of the service in ``service_dir``."""
    env = env or os.environ.get("PYM_ENV") or "dev"
    if path is None:
        path = config_path(service_dir or find_service_dir(), env)
    path = os.path.abspath(path)
    data = read_stage_config(path, env)
    for key in unknown_keys(data):
        log.warning(
            "%s: unknown key %r (kept, readable as get_config().%s)", display_path(path), key, key
        )
    environ = _with_dev_secret(data, os.path.dirname(path), env, environ)
    secrets = read_env_secrets(data, path, environ)
    return PymConfig(data, path, env, secrets)


def _with_dev_secret(
    data: ConfigData, service_dir: str, env: str, environ: Environ | None
) -> Environ:
    """``environ`` with JWT_SECRET from ``.pym/dev-secret`` when it is listed but unset and
    PYM_ENV is a development one (devsecret.py); unchanged otherwise."""
    from .devsecret import SECRET_NAME, read_dev_secret

    environ = os.environ if environ is None else environ
    if SECRET_NAME not in (data.get("env_secrets") or []) or environ.get(SECRET_NAME):
        return environ
    value = read_dev_secret(service_dir, env)
    return {**environ, SECRET_NAME: value} if value else environ


_current: PymConfig | None = None
_service_dir: str | None = None


def find_service_dir() -> str:
    """Where the service's pym-config.yaml and apis/ live."""
    return os.environ.get("PYM_SERVICE_DIR") or _service_dir or os.getcwd()


def set_service_dir(path: str) -> None:
    """Point get_config() at a service directory (done by ``API.load_apis``)."""
    global _service_dir, _current
    path = os.path.abspath(path)
    if _service_dir != path:
        _service_dir = path
        if _current is not None and os.path.dirname(_current.path) != path:
            _current = None


def get_config() -> PymConfig:
    """The configuration of the service whose app serves this request; outside a request
    (or for an app without a pymacaron service) the process's: the last created service's,
    else read once from the service directory."""
    service = current.serving()
    own = service.loaded_config if service is not None else None
    if own is not None:
        return own
    global _current
    if _current is None:
        _current = load_config()
    return _current


def set_config(config: PymConfig | None) -> None:
    """Replace (or with None, forget) the process-wide configuration; for tests."""
    global _current
    _current = config
