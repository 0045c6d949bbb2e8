"""Model classes made from the spec's definitions.

Every object definition of every loaded spec becomes a class, reachable as
``ApiPool.<api>.model.<Definition>`` and ``pymacaron.models.<Definition>``::

    pet = Pet(name="Rex", tags=["dog"])
    pet.name, pet["name"], pet.to_json(), Pet.from_json({...}), pet.clone()

Nested objects are models too, arrays of objects are lists of models; ``date-time``
properties are ``datetime`` objects on the Python side and RFC 3339 strings in JSON.
``x-parent: pkg.Class`` makes ``pkg.Class`` a base class of the model.

OpenAPI 3.x (definitions are ``components/schemas``, see openapi3.py): a union
(``oneOf``/``anyOf`` without properties of its own) is not a model; a value of a union
with a ``discriminator`` becomes the model of the branch it names (``mapping``, else the
branch's schema name). A property that is one model or null (3.0 ``nullable`` beside an
``allOf`` of one ``$ref``, 3.1 ``oneOf: [{$ref}, {type: "null"}]``) is that model. A
nullable property set to None is ``null`` in ``to_json()`` (3.x); other None properties
are left out, as the original pymacaron did.
"""

from __future__ import annotations

import copy
import datetime as _dt
import importlib
import typing as _t

__all__ = [
    "PyMacaronModel",
    "build_models",
    "register_model",
    "registered_models",
    "ModelEntry",
    "Union",
    "discriminated",
    "is_nullable",
]

# The names of the annotations exist for the type checker only: every name of this module is
# also a name of pymacaron.models, where it would hide a definition of that name (`Schema`,
# `Value`...) from `pymacaron.models.<Definition>`.
if _t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from typing import Any, ClassVar, Literal, Self

    # JSON-shaped data, as loaded from a spec or received on the wire: its values are
    # whatever the document holds
    JsonObject = dict[str, Any]  # to_json()'s result, from_json()'s input
    Schema = dict[str, Any]  # a definition's (or a property's) schema
    Definitions = dict[str, Any]  # definition name -> its schema
    Properties = dict[str, Any]  # property name -> its schema
    # a property's value: a JSON value, a model, a list or dict of them, a date / datetime
    Value = Any
    # model.validate()'s check of to_json(): raises the validation error (apipool sets it)
    Validator = Callable[[JsonObject], None]
    ModelClass = type["PyMacaronModel"]
    # how a property holds models (PyMacaronModel.__nested__), by kind
    Nested = (
        tuple[Literal["model"], ModelClass]  # one model
        | tuple[Literal["list"], ModelClass]  # a list of models
        | tuple[Literal["dict"], ModelClass]  # additionalProperties: a dict of models
        | tuple[Literal["union"], "Union"]  # a discriminated union's model
        | tuple[Literal["union_list"], "Union"]  # a list of them
    )
    # mixins(name, schema, definitions) -> (extra bases, class attributes): build_models' hook
    Mixins = Callable[[str, Schema, Definitions], tuple[tuple[type, ...], dict[str, object]]]


class PyMacaronModel:
    """Base class of every model; a thin object over the JSON properties."""

    __swagger_name__: ClassVar[str | None] = None
    __api_name__: ClassVar[str | None] = None
    __properties__: ClassVar[frozenset[str]] = frozenset()
    # property -> ("model" | "list" | "dict", model class) or ("union" | "union_list", Union)
    __nested__: ClassVar[dict[str, Nested]] = {}
    __datetimes__: ClassVar[frozenset[str]] = frozenset()  # format date-time / date
    __nullable__: ClassVar[frozenset[str]] = frozenset()  # properties whose None is sent as null
    __validator__: ClassVar[Validator | None] = None

    def __init__(self, **kwargs: Value) -> None:
        if kwargs:
            self.update_from_dict(kwargs)

    # -- access --------------------------------------------------------------------
    def __getattr__(self, name: str) -> Value:
        if name in type(self).__properties__:
            return None
        raise AttributeError(f"{type(self).__name__} has no property {name!r}")

    def __getitem__(self, name: str) -> Value:
        return getattr(self, name)

    def __setitem__(self, name: str, value: Value) -> None:
        setattr(self, name, value)

    def __contains__(self, name: str) -> bool:
        return self.__dict__.get(name) is not None

    def get(self, name: str, default: Value = None) -> Value:
        value = self.__dict__.get(name)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return iter(k for k, v in self.__dict__.items() if v is not None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyMacaronModel):
            return NotImplemented
        return type(self).__name__ == type(other).__name__ and self.to_json() == other.to_json()

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    # mutable, so unhashable: defining __eq__ sets __hash__ to None (the data model's rule)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if v is not None)
        return f"{type(self).__name__}({fields})"

    # -- conversion ------------------------------------------------------------------
    def to_json(self, keep_datetime: bool = False) -> JsonObject:
        """A JSON-ready dict; properties set to None are left out."""
        out: JsonObject = {}
        for key, value in self.__dict__.items():
            if value is None:
                if key in type(self).__nullable__:
                    out[key] = None
                continue
            # exact JSON scalars (most values) are copied as they are, without a call
            out[key] = value if type(value) in _SCALARS else _to_json_value(value, keep_datetime)
        return out

    @classmethod
    def from_json(cls, data: JsonObject | Self) -> Self:
        """Build a model (and its nested models) from a JSON dict (a model of this class is
        cloned)."""
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
        # nest[0] is compared rather than unpacked: the kind then narrows nest[1] for mypy
        for key, nest in type(self).__nested__.items():
            value = d.get(key)
            if value is None:
                continue
            if nest[0] == "model":
                if isinstance(value, dict):
                    d[key] = nest[1].from_json(value)
            elif nest[0] == "union":
                d[key] = nest[1].convert(value)
            elif nest[0] == "union_list":
                if isinstance(value, list):
                    union = nest[1]
                    d[key] = [union.convert(v) for v in value]
            elif nest[0] == "list":
                if isinstance(value, list):
                    model = nest[1]
                    d[key] = [model.from_json(v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                model = nest[1]
                d[key] = {
                    k: model.from_json(v) if isinstance(v, dict) else v for k, v in value.items()
                }
        for key in type(self).__datetimes__:
            value = d.get(key)
            if isinstance(value, str):
                d[key] = _parse_datetime(value)

    def update_from_dict(self, data: JsonObject) -> Self:
        """Set properties from a dict (nested dicts become models); returns self."""
        self.__dict__.update(data)
        if type(self).__nested__ or type(self).__datetimes__:
            self._convert_nested()
        return self

    def clone(self) -> Self:
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


_SCALARS: frozenset[type] = frozenset((str, int, float, bool))


def _to_json_value(value: Value, keep_datetime: bool) -> Value:
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


def _parse_datetime(value: str) -> _dt.date | str:
    try:
        if len(value) == 10:
            return _dt.date.fromisoformat(value)
        return _dt.datetime.fromisoformat(value)
    except ValueError:
        return value


def _ref_name(schema: object) -> str | None:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        return ref[len("#/definitions/") :]
    return None


def is_model_schema(schema: object) -> bool:
    """Objects (explicit, or implied by properties/allOf) become models; a union (oneOf /
    anyOf without properties or allOf of its own) does not."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind is not None and kind != "object":
        return False
    if ("oneOf" in schema or "anyOf" in schema) and not (
        schema.get("properties") or "allOf" in schema
    ):
        return False
    return kind == "object" or "properties" in schema or "allOf" in schema


class Union:
    """The models a discriminated union's values become: ``convert(value)`` picks the
    branch the discriminator property names (a value it does not name stays a dict)."""

    __slots__ = ("property", "classes")

    def __init__(self, prop: str, classes: dict[str, ModelClass]) -> None:
        self.property, self.classes = prop, classes

    def convert(self, value: Value) -> Value:
        if isinstance(value, dict):
            tag: Value = value.get(self.property)  # a JSON value: a mapped one names a model
            cls = self.classes.get(tag)
            if cls is not None:
                return cls.from_json(value)
        return value

    def __repr__(self) -> str:
        names = ", ".join(f"{k}={v.__name__}" for k, v in self.classes.items())
        return f"Union({self.property}: {names})"


def discriminated(
    schema: object, definitions: Definitions, classes: dict[str, ModelClass]
) -> Union | None:
    """The :class:`Union` of a ``oneOf``/``anyOf`` schema (or a ``$ref`` to one) with a
    discriminator whose branches are models; None for anything else."""
    name = _ref_name(schema)
    if name is not None:
        schema = definitions.get(name)
    if not isinstance(schema, dict):
        return None
    disc = schema.get("discriminator")
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not isinstance(disc, dict) or not isinstance(disc.get("propertyName"), str):
        return None
    if not isinstance(branches, list):
        return None
    table: dict[str, ModelClass] = {}
    for value, target in (disc.get("mapping") or {}).items():
        ref = _ref_name({"$ref": target}) if isinstance(target, str) else None
        ref = ref or (target if isinstance(target, str) and target in classes else None)
        if ref in classes:
            table[value] = classes[ref]
    mapped = set(map(id, table.values()))
    for branch in branches:
        ref = _ref_name(branch)
        if ref in classes and id(classes[ref]) not in mapped:
            table.setdefault(ref, classes[ref])
    return Union(disc["propertyName"], table) if table else None


def _one_ref(schema: object) -> str | None:
    """The definition a property is, alone or or-null: ``$ref``, ``allOf: [$ref]`` (3.0's
    nullable idiom), ``oneOf``/``anyOf`` of one ``$ref`` and ``{type: "null"}`` (3.1)."""
    if not isinstance(schema, dict):
        return None
    name = _ref_name(schema)
    if name is not None:
        return name
    parts = schema.get("allOf")
    if isinstance(parts, list) and len(parts) == 1 and not schema.get("properties"):
        return _ref_name(parts[0])
    for key in ("oneOf", "anyOf"):
        parts = schema.get(key)
        if isinstance(parts, list):
            refs = [_ref_name(p) for p in parts if not _is_null_schema(p)]
            if len(refs) == 1 and refs[0] is not None and len(parts) == 2:
                return refs[0]
    return None


def _is_null_schema(schema: object) -> bool:
    return isinstance(schema, dict) and (
        schema.get("type") == "null" or ("const" in schema and schema["const"] is None)
    )


def is_nullable(schema: object, definitions: Definitions, depth: int = 0) -> bool:
    """Does ``schema`` accept null (2.0 ``x-nullable``, 3.0 ``nullable``, 3.1 ``"null"``)?"""
    if not isinstance(schema, dict) or depth > 10:
        return False
    if schema.get("nullable") is True or schema.get("x-nullable") is True:
        return True
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in schema and schema["const"] is None:
        return True
    if isinstance(schema.get("enum"), list) and None in schema["enum"] and kind is None:
        return True
    for key in ("oneOf", "anyOf"):
        if any(is_nullable(p, definitions, depth + 1) for p in schema.get(key) or []):
            return True
    name = _ref_name(schema)
    if name is not None:
        return is_nullable(definitions.get(name), definitions, depth + 1)
    return False


def _collect_properties(
    schema: Schema, definitions: Definitions, seen: set[str] | None = None
) -> Properties:
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


def _import_parent(dotted: str) -> type:
    module, _, attr = dotted.rpartition(".")
    if not module:
        raise ImportError(f"x-parent {dotted!r} is not a dotted path pkg.module.Class")
    cls = getattr(importlib.import_module(module), attr)
    if not isinstance(cls, type):
        raise ImportError(f"x-parent {dotted!r} is not a class")
    return cls


def build_models(
    api_name: str,
    definitions: Definitions,
    reuse: Mapping[str, ModelClass] | None = None,
    dialect: str = "swagger2",
    mixins: Mixins | None = None,
) -> dict[str, ModelClass]:
    """Make one model class per object definition; returns {name: class}.

    ``dialect`` (``ApiSpec.dialect``): in 3.x, a nullable property set to None (a JSON
    ``null`` received, or assigned) is ``null`` in ``to_json()`` -- null is not absent (a
    PATCH clearing a field); any other None is left out, and Swagger 2.0 models leave every
    None out, as the original did.

    ``reuse`` maps names to existing classes (identical definitions merged across specs).
    ``mixins(name, schema, definitions)`` -> (extra bases, class attributes) adds what an
    extension asks for (apipool passes ``persist.persisted_bases``: x-persist's save/load);
    models know nothing of the layers above them.
    Raises ImportError (with the dotted path) when an ``x-parent`` does not import.
    """
    reuse = reuse or {}
    classes: dict[str, ModelClass] = dict(reuse)
    created: list[tuple[ModelClass, Properties]] = []  # with the properties' schemas
    for name, schema in definitions.items():
        if name in reuse or not is_model_schema(schema):
            continue
        bases: tuple[type, ...] = (PyMacaronModel,)
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
        extra_bases, extra_attrs = mixins(name, schema, definitions) if mixins else ((), {})
        bases = extra_bases + bases
        props = _collect_properties(schema, definitions)
        attrs: dict[str, object] = {
            "__swagger_name__": name,
            "__api_name__": api_name,
            "__properties__": frozenset(props),
            "__datetimes__": frozenset(
                k
                for k, p in props.items()
                if isinstance(p, dict)
                and p.get("format") in ("date-time", "date")
                and (p.get("type") == "string" or _is_string_or_null(p.get("type")))
            ),
            "__nullable__": frozenset(
                k for k, p in props.items() if dialect != "swagger2" and is_nullable(p, definitions)
            ),
            "__doc__": schema.get("description")
            or f"Model of the '{name}' definition ({api_name}).",
            "__module__": "pymacaron.models",
            **extra_attrs,
        }
        # a PyMacaronModel: it is one of the bases (or of the x-parent's)
        cls = _t.cast("ModelClass", type(name, bases, attrs))
        classes[name] = cls
        created.append((cls, props))
    # second pass: nested models, now that every class exists
    for cls, props in created:
        nested: dict[str, Nested] = {}
        for prop, pschema in props.items():
            if not isinstance(pschema, dict):
                continue
            if pschema.keys().isdisjoint(_NESTING) and not _is_array(pschema.get("type")):
                continue  # a string, a number...: no model in it (most properties)
            ref = _one_ref(pschema)
            if ref in classes:
                nested[prop] = ("model", classes[ref])
                continue
            union = discriminated(pschema, definitions, classes)
            if union is not None:
                nested[prop] = ("union", union)
                continue
            if _is_array(pschema.get("type")) or "items" in pschema:
                items = pschema.get("items") or {}
                ref = _one_ref(items)
                if ref in classes:
                    nested[prop] = ("list", classes[ref])
                else:
                    union = discriminated(items, definitions, classes)
                    if union is not None:
                        nested[prop] = ("union_list", union)
                continue
            extra = pschema.get("additionalProperties")
            ref = _one_ref(extra) if isinstance(extra, dict) else None
            if ref in classes:
                nested[prop] = ("dict", classes[ref])
        cls.__nested__ = nested
    return classes


# the keys through which a property holds a model (_one_ref, discriminated, items,
# additionalProperties)
_NESTING = frozenset(("$ref", "allOf", "oneOf", "anyOf", "items", "additionalProperties"))


def _is_array(kind: object) -> bool:
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def _is_string_or_null(kind: object) -> bool:
    return isinstance(kind, list) and set(kind) <= {"string", "null"} and "string" in kind


# -- the pymacaron.models namespace ----------------------------------------------------
class ModelEntry:
    """A registered model: its class, the file and schema it came from."""

    __slots__ = ("cls", "source", "schema", "builtin")

    def __init__(self, cls: ModelClass, source: str, schema: Schema, builtin: bool = False) -> None:
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
_autoload: Callable[[], None] | None = None


def set_autoloader(load: Callable[[], None]) -> None:
    global _autoload
    _autoload = load


def __getattr__(name: str) -> ModelClass:
    entry = _registry.get(name)
    if entry is None and not name.startswith("__") and _autoload is not None:
        _autoload()
        entry = _registry.get(name)
    if entry is None:
        raise AttributeError(
            f"pymacaron.models has no model {name!r} (no definition of that name in the loaded specs)"
        )
    return entry.cls
