"""Reading ``x-persist`` from a definition: which table, which keys, which backend.

Two forms, as in the original pymacaron plus the DynamoDB plug-in's needs::

    x-persist: petshop.db.PetStore          # short form: a class with save_to_db/load_from_db
    x-persist:                              # long form: a table of the configured backend
      table: pets                           # logical name (the physical one is per stage)
      key: id                               # partition key: a required string/integer property
      sort_key: born                        # optional
      index: {name: by_status, key: status, sort_key: id}   # optional, one global index
      version: version                      # optional: an integer property that carries the
                                            # item's version (default: a hidden attribute)
      backend: pkg.module.Class             # optional: another Backend (default: dynamodb)
      not_found: PET_NOT_FOUND              # optional: the error code of load_or_404

Pure data and checks, no I/O: the runtime (model classes) and the deploy kit (tables in the
stage stacks) read the same :class:`PersistSpec` from the spec files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["PersistSpec", "IndexSpec", "PersistSpecError", "parse_persist", "persisted_specs"]

TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,200}$")
INDEX_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
KEY_TYPES = {"string": "S", "integer": "N", "number": "N"}
LONG_FORM_KEYS = ("table", "key", "sort_key", "index", "version", "backend", "not_found")
HIDDEN_VERSION = "_version"
# a random id per write: a retried write (lost response) is recognised as our own, never a
# concurrent writer's identical item
WRITE_ID = "_write"


class PersistSpecError(ValueError):
    """A wrong ``x-persist``: ``where`` is the key under it (``key``, ``index.name``)."""

    def __init__(self, message: str, where: tuple = ()):
        super().__init__(message)
        self.where = where
        self.definition: str | None = None


@dataclass(frozen=True)
class IndexSpec:
    name: str
    key: str
    key_type: str
    sort_key: str | None = None
    sort_type: str | None = None


@dataclass(frozen=True)
class PersistSpec:
    """One persisted definition (long form), or the class of the short form."""

    definition: str
    table: str | None = None
    key: str | None = None
    key_type: str | None = None
    sort_key: str | None = None
    sort_type: str | None = None
    index: IndexSpec | None = None
    version: str | None = None  # a property of the definition, or None: HIDDEN_VERSION
    backend: str | None = None  # dotted Backend class; None: DynamoDB
    not_found: str | None = None
    store_class: str | None = None  # the short form's dotted class

    @property
    def version_attribute(self) -> str:
        return self.version or HIDDEN_VERSION

    @property
    def uses_dynamodb(self) -> bool:
        return self.store_class is None and self.backend is None

    def key_schema(self) -> dict:
        """What replacing the table would change: key and sort key names and types."""
        out = {"key": [self.key, self.key_type]}
        if self.sort_key:
            out["sort_key"] = [self.sort_key, self.sort_type]
        return out

    def key_of(self, data: dict) -> dict:
        keys = [self.key] + ([self.sort_key] if self.sort_key else [])
        return {k: data.get(k) for k in keys}


def _properties(schema: dict, definitions: dict, seen=None) -> tuple[dict, set]:
    """Properties and required names, through allOf and $ref."""
    seen = seen or set()
    props = dict(schema.get("properties") or {})
    required = set(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        ref = part.get("$ref") if isinstance(part, dict) else None
        if isinstance(ref, str) and ref.startswith(("#/definitions/", "#/components/schemas/")):
            name = ref.rsplit("/", 1)[1]
            if name in seen:
                continue
            seen.add(name)
            part = definitions.get(name) or {}
        if isinstance(part, dict):
            more, req = _properties(part, definitions, seen)
            props.update(more)
            required |= req
    return props, required


def _key_type(props: dict, name, where: tuple, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise PersistSpecError(f"expected the name of a property as {what}, got {name!r}", where)
    prop = props.get(name)
    if not isinstance(prop, dict):
        known = ", ".join(sorted(props)) or "none"
        raise PersistSpecError(
            f"{what} {name!r} is not a property of the definition (properties: {known})", where
        )
    kind = KEY_TYPES.get(prop.get("type"))
    if kind is None:
        raise PersistSpecError(
            f"{what} {name!r} must be a string, integer or number property, "
            f"got type {prop.get('type')!r}",
            where,
        )
    return kind


def parse_persist(name: str, schema: dict, definitions: dict) -> PersistSpec | None:
    """The :class:`PersistSpec` of a definition, None without ``x-persist``.

    Raises PersistSpecError naming what is wrong and where under ``x-persist``.
    """
    value = schema.get("x-persist") if isinstance(schema, dict) else None
    if value is None:
        return None
    if isinstance(value, str):
        if not DOTTED.match(value):
            raise PersistSpecError(
                f"expected a dotted class path (pkg.module.Class) or a mapping with table and key, "
                f"got {value!r}"
            )
        return PersistSpec(definition=name, store_class=value)
    if not isinstance(value, dict):
        raise PersistSpecError(
            f"expected a mapping (table, key, ...) or a dotted class path, got {type(value).__name__}"
        )
    unknown = sorted(set(value) - set(LONG_FORM_KEYS))
    if unknown:
        raise PersistSpecError(
            f"unknown key(s) {', '.join(unknown)} (expected: {', '.join(LONG_FORM_KEYS)})",
            (unknown[0],),
        )
    table = value.get("table")
    if not isinstance(table, str) or not TABLE_NAME.match(table):
        raise PersistSpecError(
            f"expected a table name of 3 to 200 letters, digits, '_', '.' or '-', got {table!r}",
            ("table",),
        )
    props, required = _properties(schema, definitions)
    key = value.get("key")
    key_type = _key_type(props, key, ("key",), "key")
    if key not in required:
        raise PersistSpecError(f"key {key!r} must be a required property", ("key",))
    sort_key = value.get("sort_key")
    sort_type = None
    if sort_key is not None:
        sort_type = _key_type(props, sort_key, ("sort_key",), "sort_key")
        if sort_key not in required:
            raise PersistSpecError(
                f"sort_key {sort_key!r} must be a required property", ("sort_key",)
            )
        if sort_key == key:
            raise PersistSpecError("sort_key must differ from key", ("sort_key",))
    index = None
    raw_index = value.get("index")
    if raw_index is not None:
        if not isinstance(raw_index, dict) or set(raw_index) - {"name", "key", "sort_key"}:
            raise PersistSpecError(
                "expected index: {name: ..., key: ..., sort_key: ... (optional)}", ("index",)
            )
        iname = raw_index.get("name")
        if not isinstance(iname, str) or not INDEX_NAME.match(iname):
            raise PersistSpecError(
                f"expected an index name of at least 3 letters, digits, '_', '.' or '-', got {iname!r}",
                ("index", "name"),
            )
        ikey = raw_index.get("key")
        ikey_type = _key_type(props, ikey, ("index", "key"), "index key")
        isort = raw_index.get("sort_key")
        isort_type = (
            _key_type(props, isort, ("index", "sort_key"), "index sort_key") if isort else None
        )
        index = IndexSpec(iname, ikey, ikey_type, isort, isort_type)
    version = value.get("version")
    if version is not None:
        prop = props.get(version) if isinstance(version, str) else None
        if not isinstance(prop, dict) or prop.get("type") != "integer":
            raise PersistSpecError(
                f"version {version!r} must name an integer property of the definition",
                ("version",),
            )
        if version in (key, sort_key):
            raise PersistSpecError("version cannot be a key", ("version",))
    backend = value.get("backend")
    if backend is not None and (not isinstance(backend, str) or not DOTTED.match(backend)):
        raise PersistSpecError(
            f"expected a dotted class path (pkg.module.Class), got {backend!r}", ("backend",)
        )
    not_found = value.get("not_found")
    if not_found is not None and (
        not isinstance(not_found, str) or not ERROR_CODE.match(not_found)
    ):
        raise PersistSpecError(
            f"expected an error code in UPPER_SNAKE_CASE, got {not_found!r}", ("not_found",)
        )
    return PersistSpec(
        definition=name,
        table=table,
        key=key,
        key_type=key_type,
        sort_key=sort_key,
        sort_type=sort_type,
        index=index,
        version=version,
        backend=backend,
        not_found=not_found,
    )


def persisted_specs(definitions: dict) -> dict[str, PersistSpec]:
    """{definition: PersistSpec} for every definition with ``x-persist``.

    Raises PersistSpecError (with ``definition`` set); two definitions may not share a table.
    """
    out: dict[str, PersistSpec] = {}
    tables: dict[str, str] = {}
    for name, schema in (definitions or {}).items():
        try:
            spec = parse_persist(name, schema, definitions)
            if spec is not None and spec.table in tables:
                raise PersistSpecError(
                    f"table {spec.table!r} is already the table of definition "
                    f"{tables[spec.table]!r}",
                    ("table",),
                )
        except PersistSpecError as e:
            e.definition = name
            raise
        if spec is None:
            continue
        if spec.table:
            tables[spec.table] = name
        out[name] = spec
    return out
