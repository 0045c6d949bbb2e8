"""The model classes of the loaded specs, by definition name, and their base class::

    from pymacaron.models import Pet, PyMacaronModel

    pet = Pet(name="Rex")

A model class is looked up when asked for (the specs of the service are loaded on first
use); the machinery lives in :mod:`pymacaron.spec.models`.
"""

from __future__ import annotations

import typing as _t

from .spec import models as _models
from .spec.models import (
    ModelEntry,
    PyMacaronModel,
    Union,
    build_models,
    discriminated,
    is_model_schema,
    is_nullable,
    register_model,
    registered_models,
)

__all__ = [
    "ModelEntry",
    "PyMacaronModel",
    "Union",
    "build_models",
    "discriminated",
    "is_model_schema",
    "is_nullable",
    "register_model",
    "registered_models",
]


if _t.TYPE_CHECKING:  # a name of this module would hide a definition of that name
    from typing import Any


def __getattr__(name: str) -> Any:  # a model class of any spec, or a name of spec.models
    """``pymacaron.models.<Definition>``: the class of that definition (and the other names
    of :mod:`pymacaron.spec.models`)."""
    return getattr(_models, name)
