"""What ``x-persist`` adds to a model class: save, load, load_or_404, delete, query.

::

    pet = Pet(id=7, name="Rex", species="dog", status="available", price=...)
    pet.save()                       # new: fails with 409 PERSIST_CONFLICT if id 7 exists
    pet = Pet.load(7)                # None when absent
    pet = Pet.load_or_404(7)         # 404 with the code of x-persist's not_found
    pet.status = "sold"; pet.save()  # 409 PERSIST_CONFLICT if someone saved it meanwhile
    page = Pet.query("available", index="by_status", limit=20)
    more = Pet.query("available", index="by_status", token=page.next_token)
    pet.delete()

Items are validated against the definition on save and on load: a model the definition
does not accept, or a stored row it no longer accepts, is a 500 ``PERSIST_INVALID_ITEM``
naming the table, the key and the field, never a silent bad response; a number the store
cannot hold (the client's, most often) is a 400 ``PERSIST_VALUE_OUT_OF_RANGE`` naming it.
"""

from __future__ import annotations

from typing import NamedTuple

from ..spec.persist import WRITE_ID, PersistSpec
from .backend import QueryOptions, backend_for
from .convert import from_store, to_store
from .errors import PersistInvalidItemError, PersistValueError

__all__ = ["PersistedModel", "StoreClassModel", "Page"]


class Page(NamedTuple):
    """One page of a query: the models, and the token of the next page (None: last page)."""

    items: list
    next_token: str | None


def _violation(cls, data: dict) -> str | None:
    validator = getattr(cls, "__validator__", None)
    if validator is None:
        return None
    from ..spec.validation import JsonSchemaValueException, violation_text

    try:
        validator(data)
    except JsonSchemaValueException as e:
        return violation_text(e, root="")
    return None


def _key_text(spec: PersistSpec, key: dict) -> str:
    return f"{spec.table}[" + ", ".join(f"{k}={v!r}" for k, v in key.items()) + "]"


class PersistedModel:
    """Mixin of the model classes whose definition has the long form of ``x-persist``."""

    __slots__ = ("_pym_version",)  # outside __dict__: never part of to_json()
    __persist__: PersistSpec
    __persist_definitions__: dict = {}

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def _from_item(cls, item: dict):
        spec = cls.__persist__
        item.pop(WRITE_ID, None)
        version = item.pop(spec.version_attribute, None) if spec.version is None else None
        data = from_store(
            item, {"$ref": f"#/definitions/{spec.definition}"}, cls.__persist_definitions__
        )
        problem = _violation(cls, data)
        if problem:
            raise PersistInvalidItemError(
                f"{spec.definition} {_key_text(spec, spec.key_of(data))}: the stored item does "
                f"not match the definition any more: {problem}"
            )
        obj = cls.from_json(data)
        if spec.version is not None:
            version = data.get(spec.version)
        obj._pym_version = int(version) if version is not None else None
        return obj

    @classmethod
    def _key(cls, key, sort_key=None) -> dict:
        spec = cls.__persist__
        if key is None:
            raise ValueError(f"{spec.definition}: load() needs the key {spec.key!r}")
        out = {spec.key: key}
        if spec.sort_key:
            if sort_key is None:
                raise ValueError(
                    f"{spec.definition}: load() needs the sort key {spec.sort_key!r} too"
                )
            out[spec.sort_key] = sort_key
        return out

    @classmethod
    def load(cls, key, sort_key=None):
        """The stored model with this key (and sort key), or None."""
        item = backend_for(cls.__persist__).get(cls.__persist__, cls._key(key, sort_key))
        return None if item is None else cls._from_item(item)

    @classmethod
    def load_or_404(cls, key, sort_key=None, error=None):
        """Like :meth:`load`, but a miss raises ``error`` (an exception class) or a 404 whose
        code is x-persist's ``not_found`` (default ``<DEFINITION>_NOT_FOUND``)."""
        obj = cls.load(key, sort_key)
        if obj is not None:
            return obj
        spec = cls.__persist__
        if error is None:
            error = _not_found_error(spec)
        shown = key if sort_key is None else (key, sort_key)
        raise error(f"there is no {spec.definition} with {spec.key} {shown!r}")

    @classmethod
    def query(
        cls,
        value,
        *,
        index: str | None = None,
        sort: tuple | None = None,
        limit: int = 50,
        token: str | None = None,
        descending: bool = False,
    ) -> Page:
        """Models whose partition key (or ``index``'s key) is ``value``, in sort-key order.

        ``sort``: ``("=", v)``, ``("<", v)``, ``("<=", v)``, ``(">", v)``, ``(">=", v)``,
        ``("between", low, high)`` or ``("begins_with", prefix)`` on the sort key.
        ``limit`` items at most per page; pass the returned ``next_token`` for the next.
        """
        options = QueryOptions(index, sort, limit, token, descending)  # checked
        spec = cls.__persist__
        items, next_token = backend_for(spec).query(spec, value, **vars(options))
        return Page([cls._from_item(i) for i in items], next_token)

    # -- writing ---------------------------------------------------------------------------
    @property
    def persisted_version(self) -> int | None:
        """The version this object was loaded or saved with (None: never stored)."""
        spec = type(self).__persist__
        if spec.version is not None:
            return self.__dict__.get(spec.version)
        return getattr(self, "_pym_version", None)

    def save(self):
        """Write this model: as new if never stored, else only if nobody saved it since
        (409 ``PERSIST_CONFLICT`` otherwise). Returns self, with its new version."""
        spec = type(self).__persist__
        data = self.to_json()
        expected = self.persisted_version
        if spec.version is not None:
            data.pop(spec.version, None)
        try:
            # NaN, infinities, 38+ digits: DynamoDB cannot hold them (and a JSON Schema
            # engine sees no number in NaN: it would say "expected a number")
            to_store(data)
        except ValueError as e:  # the client's number, most often: a 400 naming the field
            raise PersistValueError(f"{spec.definition}: cannot be saved: {e}") from None
        problem = _violation(
            type(self), {**data, **({spec.version: expected or 1} if spec.version else {})}
        )
        key = spec.key_of(data)
        if problem is None and any(v is None for v in key.values()):
            problem = f"the key {', '.join(k for k, v in key.items() if v is None)} is not set"
        if problem:
            raise PersistInvalidItemError(
                f"{spec.definition} {_key_text(spec, key)}: cannot be saved: {problem}"
            )
        try:
            version = backend_for(spec).put(spec, data, expected)
        except ValueError as e:  # NaN / infinity
            raise PersistValueError(f"{spec.definition}: cannot be saved: {e}") from None
        self._set_version(version)
        return self

    def delete(self) -> bool:
        """Delete the stored item (409 if it changed since loaded); False if it was absent."""
        spec = type(self).__persist__
        deleted = backend_for(spec).delete(
            spec, spec.key_of(self.to_json()), self.persisted_version
        )
        self._set_version(None)
        return deleted

    def _set_version(self, version: int | None) -> None:
        spec = type(self).__persist__
        if spec.version is not None:
            self.__dict__[spec.version] = version
        self._pym_version = version

    def clone(self):
        """A deep copy that keeps the version (saving it is an update, not a new item)."""
        copy = super().clone()
        copy._pym_version = getattr(self, "_pym_version", None)
        return copy

    # the original's names
    def save_to_db(self):
        return self.save()

    @classmethod
    def load_from_db(cls, key, sort_key=None):
        return cls.load(key, sort_key)


class StoreClassModel:
    """Mixin for the short form ``x-persist: pkg.Class`` (the original pymacaron contract):
    ``model.save_to_db()`` is ``Class.save_to_db(model)``, ``Model.load_from_db(*a, **kw)``
    is ``Class.load_from_db(*a, **kw)``."""

    __slots__ = ()
    __persist_class__: type

    def save_to_db(self, *args, **kwargs):
        return type(self).__persist_class__.save_to_db(self, *args, **kwargs)

    @classmethod
    def load_from_db(cls, *args, **kwargs):
        return cls.__persist_class__.load_from_db(*args, **kwargs)


def _not_found_error(spec: PersistSpec):
    import re

    from ..exceptions import add_error, code_to_class

    code = spec.not_found or re.sub(r"(?<!^)(?=[A-Z])", "_", spec.definition).upper() + "_NOT_FOUND"
    existing = code_to_class.get(code)
    if existing is not None:
        return existing
    name = "".join(p.capitalize() for p in code.lower().split("_")) + "Error"
    return add_error(name, code, 404)
