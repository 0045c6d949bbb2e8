"""tests/infra: one synthesized app per test session, shared by every assertion test."""

from __future__ import annotations

import pytest

from tests.infra.infra_helpers import CONFIGS, Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    """The fixture service (configs/service.yaml), synthesized once with the quality gates."""
    return synthesize(CONFIGS / "service.yaml", tmp_path_factory.mktemp("cdk") / "cdk.out")
