"""Acceptance tests of the pet shop: run with pym acceptance.

They call a live service (PYM_SERVER_HOST, PYM_SERVER_PORT, PYM_JWT_TOKEN). The runner says
which downstream services the target really reaches in PYM_ACCEPT_PROVIDED; a test that
depends on one asserts the real answer when it is provided and the clean DOWNSTREAM error
when it is not -- never a skip.
"""

import os

import pytest

PROVIDED = frozenset(p for p in os.environ.get("PYM_ACCEPT_PROVIDED", "").split(",") if p)


def pytest_report_header(config):
    target = f"{os.environ.get('PYM_SERVER_HOST', '?')}:{os.environ.get('PYM_SERVER_PORT', '?')}"
    return f"acceptance target: {target}; downstream provided: {', '.join(PROVIDED) or 'none'}"


@pytest.fixture(scope="session")
def delivery_provided() -> bool:
    """Whether the target's delivery service is really there (else: DOWNSTREAM_UNAVAILABLE)."""
    return "delivery" in PROVIDED


@pytest.fixture
def address() -> dict:
    return {"name": "Ada", "street": "1 rue de la Paix", "city": "Paris", "country": "FR"}
