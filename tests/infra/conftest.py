"""tests/infra: one synthesized app per test session, shared by every assertion test."""

from __future__ import annotations

import pytest

from tests.infra.infra_helpers import CONFIGS, Synthesized, synthesize

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    """The fixture service (configs/service.yaml), synthesized once with the quality gates."""
    return synthesize(CONFIGS / "service.yaml", tmp_path_factory.mktemp("cdk") / "cdk.out")


@pytest.fixture(scope="session")
def piped(tmp_path_factory) -> Synthesized:
    """The pipeline fixture (configs/pipeline.yaml) with a commit as version, synthesized
    once with the quality gates; shared by every pipeline test module."""
    return synthesize(
        CONFIGS / "pipeline.yaml", tmp_path_factory.mktemp("cdk-pipeline") / "cdk.out", COMMIT
    )
