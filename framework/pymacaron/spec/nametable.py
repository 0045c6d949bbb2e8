"""Attribute access over what a spec names (``ApiPool.<api>.model``, ``.client``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


class NameTable(Generic[T]):
    """``table.<name>`` is ``items[name]``; a name not there is an AttributeError that says
    what exists (:meth:`_missing`). Iterating, ``in`` and ``dir()`` see the names."""

    def __init__(self, items: Mapping[str, T]):
        self._items = items

    def _missing(self, name: str, known: str) -> str:
        """The AttributeError's message; ``known``: the names, comma-separated ("" if none)."""
        raise NotImplementedError

    def __getattr__(self, name: str) -> T:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(self._missing(name, ", ".join(sorted(self._items)))) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __dir__(self) -> list[str]:
        return sorted(self._items)
