"""Task arguments on the wire: JSON, with models, dates and nested lists/dicts rebuilt.

A model travels as ``{"__pym_model__": "Order", "json": {...}}`` and comes back as
``pymacaron.models.Order`` (the worker loads the same specs). Anything that is not JSON,
a model, a date or a datetime is refused when the task is *enqueued*, in the request that
called it, never later in the worker.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from ..spec.models import PyMacaronModel

__all__ = ["encode", "decode", "TaskArgumentError"]

MODEL = "__pym_model__"
DATETIME = "__pym_datetime__"
DATE = "__pym_date__"
DICT = "__pym_dict__"
MARKERS = (MODEL, DATETIME, DATE, DICT)


class TaskArgumentError(TypeError):
    """An argument of an @asynctask call cannot be serialised."""


def encode(value: object, where: str = "argument") -> Any:  # JSON values
    """A JSON-ready form of ``value``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, PyMacaronModel):
        name = type(value).__swagger_name__ or type(value).__name__
        return {MODEL: name, "json": value.to_json()}
    if isinstance(value, (list, tuple)):
        return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TaskArgumentError(f"{where}: dict keys must be strings, got {k!r}")
            out[k] = encode(v, f"{where}[{k!r}]")
        # A user dict that happens to use one of our markers is wrapped, never mistaken.
        return {DICT: out} if any(m in out for m in MARKERS) else out
    if isinstance(value, datetime.datetime):
        return {DATETIME: value.isoformat()}
    if isinstance(value, datetime.date):
        return {DATE: value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TaskArgumentError(
        f"{where}: a {type(value).__name__} cannot be sent to a task "
        "(use JSON values, dates or pymacaron models)"
    )


def _model_class(name: str):
    from ..spec import models

    try:
        return getattr(models, name)
    except AttributeError:
        raise TaskArgumentError(
            f"the task received a {name!r} model but no loaded spec defines it "
            "(does the worker load the same apis/ as the server?)"
        ) from None


def decode(value: Any) -> Any:  # JSON values in, the arguments they stood for out
    """Rebuild what :func:`encode` produced."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if MODEL in value and set(value) == {MODEL, "json"}:
            return _model_class(value[MODEL]).from_json(value["json"])
        if set(value) == {DATETIME}:
            return datetime.datetime.fromisoformat(value[DATETIME])
        if set(value) == {DATE}:
            return datetime.date.fromisoformat(value[DATE])
        if set(value) == {DICT}:
            return {k: decode(v) for k, v in value[DICT].items()}
        return {k: decode(v) for k, v in value.items()}
    return value
