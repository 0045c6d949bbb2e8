"""Model classes made from the spec's definitions.

Every object definition of every loaded spec becomes a class, reachable as
``ApiPool.<api>.model.<Definition>`` and ``pymacaron.models.<Definition>``::

    pet = Pet(name="Rex", tags=["dog"])
    pet.name, pet["name"], pet.to_json(), Pet.from_json({...}), pet.clone()

Nested objects are models too, arrays of objects are lists of models; ``date-time``
properties are ``datetime`` objects on the Python side and RFC 3339 strings in JSON.
``x-parent: pkg.Class`` makes ``pkg.Class`` a base class of the model.
"""

from __future__ import annotations

import copy
import datetime as _dt
import importlib

from ..persist import persisted_bases

__all__ = ["PyMacaronModel", "build_models", "register_model", "registered_models", "ModelEntry"]


class PyMacaronModel:
    """Base class of every model; a thin object over the JSON properties."""

    __swagger_name__: str | None = None
    __api_name__: str | None = None
    __properties__: frozenset = frozenset()
    __nested__: dict = {}  # property -> ("model" | "list" | "dict", model class)
    __datetimes__: frozenset = frozenset()  # properties with format date-time / date
    __validator__ = None

    def __init__(self, **kwargs):
        if kwargs:
            self.update_from_dict(kwargs)

    # -- access --------------------------------------------------------------------
    def __getattr__(self, name: str):
        if name in type(self).__properties__:
            return None
        raise AttributeError(f"{type(self).__name__} has no property {name!r}")

    def __getitem__(self, name: str):
        return getattr(self, name)

    def __setitem__(self, name: str, value) -> None:
        setattr(self, name, value)

    def __contains__(self, name: str) -> bool:
        return self.__dict__.get(name) is not None

    def get(self, name: str, default=None):
        value = self.__dict__.get(name)
        return default if value is None else value

    def __iter__(self):
        return iter(k for k, v in self.__dict__.items() if v is not None)

    def __eq__(self, other) -> bool:
        if not isinstance(other, PyMacaronModel):
            return NotImplemented
        return type(self).__name__ == type(other).__name__ and self.to_json() == other.to_json()

    def __ne__(self, other) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if v is not None)
        return f"{type(self).__name__}({fields})"

    # -- conversion ------------------------------------------------------------------
    def to_json(self, keep_datetime: bool = False) -> dict:
        """A JSON-ready dict; properties set to None are left out."""
        out = {}
        for key, value in self.__dict__.items():
            if value is None:
                continue
            # exact JSON scalars (most values) are copied as they are, without a call
            out[key] = value if type(value) in _SCALARS else _to_json_value(value, keep_datetime)
        return out

    @classmethod
    def from_json(cls, data: dict):
        """Build a model (and its nested models) from a JSON dict."""
        if isinstance(data, cls):
            return data.clone()
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}.from_json() expects a dict, got {type(data).__name__}")
        obj = cls.__new__(cls)
        obj.__dict__.update(data)
        if cls.__nested__ or cls.__datetimes__:
            obj._convert_nested()
        return obj

    def _convert_nested(self) -> None:
        d = self.__dict__
        for key, (kind, model) in type(self).__nested__.items():
            value = d.get(key)
            if value is None:
                continue
            if kind == "model":
                if isinstance(value, dict):
                    d[key] = model.from_json(value)
            elif kind == "list":
                if isinstance(value, list):
                    d[key] = [model.from_json(v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                d[key] = {
                    k: model.from_json(v) if isinstance(v, dict) else v for k, v in value.items()
                }
        for key in type(self).__datetimes__:
            value = d.get(key)
            if isinstance(value, str):
                d[key] = _parse_datetime(value)

    def update_from_dict(self, data: dict) -> PyMacaronModel:
        """Set properties from a dict (nested dicts become models); returns self."""
        self.__dict__.update(data)
        if type(self).__nested__ or type(self).__datetimes__:
            self._convert_nested()
        return self

    def clone(self):
        """A deep copy."""
        return type(self).from_json(copy.deepcopy(self.to_json(keep_datetime=True)))

    def validate(self) -> None:
        """Check against the spec; raises InvalidParameterError naming the field."""
        validator = type(self).__validator__
        if validator is None:
            return
        from ..exceptions import InvalidParameterError
        from .validation import JsonSchemaValueException, violation_text

        try:
            validator(self.to_json())
        except JsonSchemaValueException as e:
            raise InvalidParameterError(
                f"{type(self).__name__}: {violation_text(e, root='')}"
            ) from None

    def is_error(self) -> bool:
        """True for an error reply model (``status`` and ``error`` set, as Error has)."""
        d = self.__dict__
        return isinstance(d.get("error"), str) and isinstance(d.get("status"), int)


_SCALARS = frozenset((str, int, float, bool))


def _to_json_value(value, keep_datetime: bool):
    if type(value) in _SCALARS:
        return value
    if isinstance(value, PyMacaronModel):
        return value.to_json(keep_datetime)
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else _to_json_value(v, keep_datetime) for v in value]
    if isinstance(value, dict):
        return {k: _to_json_value(v, keep_datetime) for k, v in value.items() if v is not None}
    if not keep_datetime and isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _parse_datetime(value: str):
    try:
        if len(value) == 10:
            return _dt.date.fromisoformat(value)
        return _dt.datetime.fromisoformat(value)
    except ValueError:
        return value


def _ref_name(schema: dict) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        return ref[len("#/definitions/") :]
    return None


def is_model_schema(schema: dict) -> bool:
    """Objects (explicit, or implied by properties/allOf) become models."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind is not None and kind != "object":
        return False
    return kind == "object" or "properties" in schema or "allOf" in schema


def _collect_properties(schema: dict, definitions: dict, seen=None) -> dict:
    """Properties of a schema including those composed through allOf."""
    seen = seen or set()
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        name = _ref_name(part)
        if name:
            if name in seen:
                continue
            seen.add(name)
            part = definitions.get(name) or {}
        props.update(_collect_properties(part, definitions, seen))
    return props


def _import_parent(dotted: str):
    module, _, attr = dotted.rpartition(".")
    if not module:
        raise ImportError(f"x-parent {dotted!r} is not a dotted path pkg.module.Class")
    cls = getattr(importlib.import_module(module), attr)
    if not isinstance(cls, type):
        raise ImportError(f"x-parent {dotted!r} is not a class")
    return cls


def build_models(api_name: str, definitions: dict, reuse: dict | None = None) -> dict:
    """Make one model class per object definition; returns {name: class}.

    ``reuse`` maps names to existing classes (identical definitions merged across specs).
    Raises ImportError (with the dotted path) when an ``x-parent`` does not import.
    """
    reuse = reuse or {}
    classes: dict[str, type] = dict(reuse)
    created: list[type] = []
    for name, schema in definitions.items():
        if name in reuse or not is_model_schema(schema):
            continue
        bases: tuple = (PyMacaronModel,)
        parent = schema.get("x-parent")
        if parent:
            try:
                parent_cls = _import_parent(parent)
            except Exception as e:
                raise ImportError(f"definitions.{name}: x-parent {parent!r}: {e}") from None
            bases = (
                (parent_cls,)
                if issubclass(parent_cls, PyMacaronModel)
                else (parent_cls, PyMacaronModel)
            )
        persist_bases, persist_attrs = persisted_bases(name, schema, definitions)  # x-persist
        bases = persist_bases + bases
        props = _collect_properties(schema, definitions)
        attrs = {
            "__swagger_name__": name,
            "__api_name__": api_name,
            "__properties__": frozenset(props),
            "__datetimes__": frozenset(
                k
                for k, p in props.items()
                if isinstance(p, dict)
                and p.get("format") in ("date-time", "date")
                and p.get("type") == "string"
            ),
            "__doc__": schema.get("description")
            or f"Model of the '{name}' definition ({api_name}).",
            "__module__": "pymacaron.models",
            "_props_schema": props,
            **persist_attrs,
        }
        classes[name] = type(name, bases, attrs)
        created.append(classes[name])
    # second pass: nested models, now that every class exists
    for cls in created:
        nested = {}
        for prop, pschema in cls._props_schema.items():
            if not isinstance(pschema, dict):
                continue
            ref = _ref_name(pschema)
            if ref in classes:
                nested[prop] = ("model", classes[ref])
                continue
            if pschema.get("type") == "array" or "items" in pschema:
                ref = _ref_name(pschema.get("items") or {})
                if ref in classes:
                    nested[prop] = ("list", classes[ref])
                continue
            extra = pschema.get("additionalProperties")
            ref = _ref_name(extra) if isinstance(extra, dict) else None
            if ref in classes:
                nested[prop] = ("dict", classes[ref])
        cls.__nested__ = nested
        del cls._props_schema
    return classes


# -- the pymacaron.models namespace ----------------------------------------------------
class ModelEntry:
    """A registered model: its class, the file and schema it came from."""

    __slots__ = ("cls", "source", "schema", "builtin")

    def __init__(self, cls: type, source: str, schema: dict, builtin: bool = False):
        self.cls, self.source, self.schema, self.builtin = cls, source, schema, builtin


_registry: dict[str, ModelEntry] = {}


def register_model(name: str, entry: ModelEntry) -> None:
    """Expose a model as ``pymacaron.models.<name>``; a service's model shadows a built-in one."""
    current = _registry.get(name)
    if current is None or current.builtin or not entry.builtin:
        _registry[name] = entry


def registered_models() -> dict[str, ModelEntry]:
    return _registry


def clear_models() -> None:
    """Forget every registered model (for tests that load several services)."""
    _registry.clear()


# () -> None: loads the service's specs on first use of ``pymacaron.models.<name>``. Set by
# apipool (ApiPool.ensure_loaded): spec/ knows nothing of the pool built on it.
_autoload = None


def set_autoloader(load) -> None:
    global _autoload
    _autoload = load


def __getattr__(name: str):
    entry = _registry.get(name)
    if entry is None and not name.startswith("__") and _autoload is not None:
        _autoload()
        entry = _registry.get(name)
    if entry is None:
        raise AttributeError(
            f"pymacaron.models has no model {name!r} (no definition of that name in the loaded specs)"
        )
    return entry.cls
