"""ApiPool: every loaded API by name, with its models (and, for called APIs, its client).

``ApiPool.<api>.model.<Definition>`` is a model class; ``ApiPool.<api>.client.<name>`` a
client method (see client/); ``ApiPool.<api>.spec`` the loaded :class:`ApiSpec`.

ApiPool is the process-wide view (the original's): every API any service of the process
loaded, by name (the last one loaded wins). A service's own APIs are its ``Service.apis``
(app.py); ``ApiPool.served`` / ``current_server_*`` name the last started service's.
"""

from __future__ import annotations

import glob
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .config import find_service_dir
from .exceptions import StartupError
from .persist import persisted_bases
from .spec.load import ApiSpec, _located, load_spec
from .spec.models import (
    ModelEntry,
    PyMacaronModel,
    build_models,
    clear_models,
    is_model_schema,
    register_model,
    registered_models,
    set_autoloader,
)
from .spec.nametable import NameTable
from .spec.validation import compile_schema, json_definitions
from .spec.yamlfile import display_path

log = logging.getLogger("pymacaron")

if TYPE_CHECKING:
    from .client import ApiClient

__all__ = ["ApiPool", "Api", "load_api", "load_clients", "spec_files"]

BUILTIN_DIR = os.path.join(os.path.dirname(__file__), "builtin")


Models = dict[str, type[PyMacaronModel]]


class _Namespace(NameTable[type[PyMacaronModel]]):
    """Attribute access over the model classes, with an error that says what exists."""

    def __init__(self, kind: str, api: str, items: Models):
        super().__init__(items)
        self._kind, self._api = kind, api

    def _missing(self, name: str, known: str) -> str:
        return f"ApiPool.{self._api}.{self._kind} has no {name!r} (known: {known or 'none'})"


class _LazyValidator:
    """Compiles a definition's validator on first use (model.validate())."""

    __slots__ = ("name", "definitions", "dialect", "_fn")

    def __init__(self, name: str, definitions: dict[str, object], dialect: str = "swagger2"):
        self.name, self.definitions, self.dialect = name, definitions, dialect
        self._fn: Callable[[object], None] | None = None

    def __call__(self, data: object) -> None:
        if self._fn is None:
            self._fn = compile_schema(
                {"$ref": f"#/definitions/{self.name}"}, self.definitions, dialect=self.dialect
            )
        self._fn(data)


class Api:
    """One loaded API: spec, models, JSON-Schema definitions, client."""

    def __init__(self, spec: ApiSpec, models: Models, builtin: bool = False):
        self.name = spec.name
        self.spec = spec
        self.models = models
        self.builtin = builtin
        self.model = _Namespace("model", spec.name, models)
        self.json_definitions = json_definitions(spec.definitions, dialect=spec.dialect)
        self._client: ApiClient | None = None
        self.client_settings: dict[str, object] = {}
        for name, cls in models.items():
            if cls.__api_name__ == spec.name and getattr(cls, "__validator__", None) is None:
                cls.__validator__ = _LazyValidator(name, self.json_definitions, spec.dialect)

    @property
    def client(self) -> ApiClient:
        """Client methods for the operations with ``x-bind-client``."""
        if self._client is None:
            from .client import build_client  # a served API without clients never imports it

            self._client = build_client(self, builtin_error_model)
        return self._client

    def __repr__(self) -> str:
        return f"<Api {self.name} from {display_path(self.spec.path)}>"


def builtin_error_model() -> type[PyMacaronModel]:
    """The Error model of the built-in ping API (loaded on first use)."""
    if not ApiPool.has("ping"):
        load_api(os.path.join(BUILTIN_DIR, "ping.yaml"), name="ping", builtin=True)
    return ApiPool.get("ping").models["Error"]


def load_api(path: str, name: str | None = None, builtin: bool = False) -> Api:
    """Load a spec file, build (and merge) its models, register it in ApiPool."""
    spec = load_spec(path, name=name)
    existing = registered_models()
    reuse: Models = {}
    for def_name, schema in spec.definitions.items():
        if not is_model_schema(schema):
            continue
        entry = existing.get(def_name)
        if entry is None or entry.source == spec.path:
            continue
        if entry.schema == schema:
            reuse[def_name] = entry.cls
        elif not (entry.builtin or builtin):
            section = ["definitions"] if spec.dialect == "swagger2" else ["components", "schemas"]
            raise StartupError(
                f"definition {def_name!r} differs from the one in {display_path(entry.source)}: "
                "same-named definitions must be identical across specs (rename one of them)",
                file=display_path(spec.path),
                location=_located(spec.path, [*section, def_name]),
            )
    try:
        models = build_models(
            spec.name, spec.definitions, reuse, dialect=spec.dialect, mixins=persisted_bases
        )
    except ImportError as e:
        where, _, detail = str(e).partition(": ")
        if spec.dialect != "swagger2" and where.startswith("definitions."):
            where = "components.schemas." + where[len("definitions.") :]
        raise StartupError(
            f"does not import: {detail}", file=display_path(spec.path), location=where
        ) from None
    for def_name, cls in models.items():
        if def_name not in reuse:
            register_model(
                def_name, ModelEntry(cls, spec.path, spec.definitions[def_name], builtin)
            )
    api = Api(spec, models, builtin=builtin)
    ApiPool.add(spec.name, api=api)
    return api


def load_clients(path: str | None = None, apis: list[str] | str | None = None) -> None:
    """Load specs only to call them (``ApiPool.<api>.client``), as in the original.

    ``path`` defaults to ``./apis``; ``apis`` names the specs to load (all when None).
    Touches no service: its error hooks and served APIs stay as they are.
    """
    path = os.path.abspath(path or os.path.join(os.getcwd(), "apis"))
    if isinstance(apis, str):
        apis = [apis]
    wanted = set(apis or [])
    for spec_path in spec_files(path):
        name = os.path.splitext(os.path.basename(spec_path))[0]
        if wanted and name not in wanted:
            continue
        if not ApiPool.has(name):
            load_api(spec_path)
    missing = wanted - set(ApiPool.names())
    if missing:
        raise StartupError(
            f"no spec for API(s) {', '.join(sorted(missing))}", file=display_path(path)
        )


_SPEC_KEY = re.compile(rb'^(?:swagger|openapi)\s*:|^\s*[{,]?\s*"(?:swagger|openapi)"\s*:', re.M)


def spec_files(path: str) -> list[str]:
    """The spec files (``*.yaml``, ``*.yml``, ``*.json``) of an apis/ directory, sorted.

    A file with no top-level ``swagger``/``openapi`` key that another file of the
    directory references (``$ref: other.yaml#/...``) is a fragment, not an API.
    """
    if not os.path.isdir(path):
        raise StartupError("no such directory of API specs", file=display_path(path))
    found = sorted(
        f for ext in ("*.yaml", "*.yml", "*.json") for f in glob.glob(os.path.join(path, ext))
    )
    texts: dict[str, bytes] = {}
    for f in found:
        try:
            with open(f, "rb") as handle:
                texts[f] = handle.read()
        except OSError:
            texts[f] = b""
    fragments = set()
    for f, text in texts.items():
        if _SPEC_KEY.search(text):
            continue
        name = os.path.basename(f).encode()
        if any(name in other and b"$ref" in other for g, other in texts.items() if g != f):
            fragments.add(f)
    return [f for f in found if f not in fragments]


class _ApiPoolMeta(type):
    def __getattr__(cls, name: str) -> Api:
        if name.startswith("__"):
            raise AttributeError(name)
        return ApiPool.get(name)


class ApiPool(metaclass=_ApiPoolMeta):
    """Registry of the loaded APIs (class-level, one per process)."""

    _apis: dict[str, Api] = {}
    _lock = threading.RLock()
    _autoloaded = False
    current_server_name: str | None = None
    current_server_api: Api | None = None
    served: list[str] = []

    @classmethod
    def add(
        cls,
        name: str,
        yaml_path: str | None = None,
        api: Api | None = None,
        host: str | None = None,
        port: int | None = None,
        proto: str | None = None,
        **settings: object,
    ) -> Api:
        """Register an API (loading ``yaml_path`` if given) and/or set where its client calls."""
        with cls._lock:
            if yaml_path:
                api = load_api(yaml_path, name=name)
            if api is None:
                api = cls._apis.get(name)
                if api is None:
                    raise ValueError(
                        f"ApiPool.add({name!r}): unknown API; give yaml_path to load it"
                    )
            cls._apis[name] = api
            overrides = {
                k: v
                for k, v in {"host": host, "port": port, "proto": proto, **settings}.items()
                if v is not None
            }
            if overrides:
                api.client_settings.update(overrides)
            return api

    @classmethod
    def has(cls, name: str) -> bool:
        return name in cls._apis

    @classmethod
    def get(cls, name: str) -> Api:
        """The API loaded under ``name`` (the service's apis/ loaded first when needed)."""
        api = cls._apis.get(name)
        if api is None:
            cls.ensure_loaded()
            api = cls._apis.get(name)
        if api is None:
            known = ", ".join(sorted(cls._apis)) or "none"
            raise AttributeError(f"ApiPool has no API {name!r} (loaded: {known})")
        return api

    @classmethod
    def names(cls) -> list[str]:
        return sorted(cls._apis)

    @classmethod
    def ensure_loaded(cls) -> None:
        """Load the service's apis/ once, for code that uses models before the server starts."""
        with cls._lock:
            if cls._autoloaded:
                return
            cls._autoloaded = True
            apis_dir = os.path.join(find_service_dir(), "apis")
            if not os.path.isdir(apis_dir):
                return
            for path in spec_files(apis_dir):
                name = os.path.splitext(os.path.basename(path))[0]
                if name not in cls._apis:
                    load_api(path)

    @classmethod
    def clear(cls) -> None:
        """Forget every API and model (tests)."""
        with cls._lock:
            cls._apis.clear()
            cls._autoloaded = False
            cls.current_server_name = None
            cls.current_server_api = None
            cls.served = []
            clear_models()


set_autoloader(ApiPool.ensure_loaded)
