"""tests/persist: the records service (tests/persist/service) against a real dynalite."""

from __future__ import annotations

import os

import pytest

from tests.conftest import build_app, fresh_tables

SERVICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "service")


@pytest.fixture(scope="session")
def dynalite(local_dynamodb):
    """The session's dynalite handle (tests/conftest.py starts it)."""
    if local_dynamodb is None:
        pytest.fail("tests/persist start their own dynalite: unset PYM_DYNAMODB_URL")
    return local_dynamodb


@pytest.fixture
def records(dynalite):
    """The records service built in-process on fresh tables; its model classes by name."""
    fresh_tables("rec")
    app = build_app(SERVICE, serve="records")
    from pymacaron.apipool import ApiPool

    models = ApiPool.records.model
    return app, models
