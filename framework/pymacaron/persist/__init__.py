"""Persisted models: ``x-persist`` on a definition stores its model in DynamoDB (or in a
backend of your own). See docs/persist.md.

- :func:`persisted_bases`: the mixin a model class of a persisted definition gets
  (models.py calls it while building the classes);
- :func:`prepare_tables`: at startup, against a *local* DynamoDB only, create the missing
  tables (on AWS the stage stacks own them);
- the errors: 409 ``PERSIST_CONFLICT``, 503 ``PERSIST_UNAVAILABLE``, 500
  ``PERSIST_INVALID_ITEM``, 400 ``INVALID_PAGE_TOKEN``, 400 ``PERSIST_VALUE_OUT_OF_RANGE``.

Nothing here imports boto3: the DynamoDB backend is imported on first use.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

from ..spec.persist import PersistSpec, PersistSpecError, parse_persist, persisted_specs
from .backend import Backend, backend_for, reset_backends
from .errors import (
    PersistConflictError,
    PersistInvalidItemError,
    PersistPageTokenError,
    PersistUnavailableError,
    PersistValueError,
)
from .model import Page, PersistedModel, StoreClassModel

log = logging.getLogger("pymacaron.persist")

__all__ = [
    "Backend",
    "Page",
    "PersistConflictError",
    "PersistInvalidItemError",
    "PersistPageTokenError",
    "PersistSpec",
    "PersistSpecError",
    "PersistUnavailableError",
    "PersistValueError",
    "PersistedModel",
    "parse_persist",
    "persisted_bases",
    "persisted_models",
    "persisted_specs",
    "prepare_tables",
    "reset_backends",
]


def persisted_bases(
    name: str, schema: dict[str, object], definitions: dict[str, object]
) -> tuple[tuple[type, ...], dict[str, object]]:
    """(extra base classes, class attributes) for a definition; ((), {}) without x-persist.

    The spec was checked when it was loaded (spec.py); a short form's class that does not
    import raises ImportError naming it.
    """
    spec = parse_persist(name, schema, definitions)
    if spec is None:
        return (), {}
    if spec.store_class:
        module, _, attr = spec.store_class.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ImportError(f"definitions.{name}: x-persist {spec.store_class!r}: {e}") from None
        for method in ("save_to_db", "load_from_db"):
            if not callable(getattr(cls, method, None)):
                raise ImportError(
                    f"definitions.{name}: x-persist {spec.store_class!r} has no {method}() "
                    "(the class must implement save_to_db(model) and load_from_db(...))"
                )
        return (StoreClassModel,), {"__persist__": spec, "__persist_class__": cls}
    return (PersistedModel,), {"__persist__": spec, "__persist_definitions__": definitions}


def persisted_models() -> list[type[PersistedModel]]:
    """The registered model classes with the long form of x-persist."""
    from ..spec.models import registered_models

    seen: set[type[PersistedModel]] = set()
    out: list[type[PersistedModel]] = []
    for entry in registered_models().values():
        cls = entry.cls
        if isinstance(cls, type) and issubclass(cls, PersistedModel) and cls not in seen:
            seen.add(cls)
            out.append(cls)
    return out


def prepare_tables(models: list[type[PersistedModel]] | None = None) -> list[str]:
    """Create the missing tables of DynamoDB-stored models, on a local DynamoDB only.

    Raises StartupError when such models exist but boto3 is not installed.

    Does nothing without PYM_DYNAMODB_URL on 127.0.0.1/localhost (on AWS the stacks own the
    tables). An unreachable store is logged, not fatal: requests then get 503
    PERSIST_UNAVAILABLE until it answers. Returns the tables created.
    """
    from . import settings

    models = persisted_models() if models is None else models
    dynamo = [m for m in models if m.__persist__.uses_dynamodb]
    if dynamo and importlib.util.find_spec("boto3") is None:
        from ..exceptions import StartupError

        raise StartupError(
            f"x-persist: {', '.join(m.__persist__.definition for m in dynamo)} "
            "stored in DynamoDB need boto3: pip install 'pymacaron[persist]'"
        )
    if dynamo and not settings.endpoint_url() and not settings.region():
        log.warning(
            "x-persist: %s stored in DynamoDB, but none is configured: set PYM_DYNAMODB_URL "
            "(locally) or PYM_DYNAMODB_REGION/AWS_REGION (on AWS); until then requests that "
            "use them get 503 PERSIST_UNAVAILABLE",
            ", ".join(m.__persist__.definition for m in dynamo),
        )
    if not dynamo or not settings.is_local_endpoint(settings.endpoint_url()):
        return []
    created = []
    for cls in dynamo:
        spec = cls.__persist__
        if spec.table is None:  # the long form (DynamoDB) always names its table
            continue
        table = settings.table_name(spec.table)
        backend = backend_for(spec)
        try:
            if backend.ensure_table(spec):
                created.append(table)
        except Exception as e:  # unreachable, or a refusal from the store
            log.warning(
                "x-persist: cannot prepare table %s of %s at %s (%s): requests using it will "
                "fail with 503 PERSIST_UNAVAILABLE until the store answers",
                table,
                spec.definition,
                settings.endpoint_url(),
                type(e).__name__,
            )
    return created
