"""The ALB's idle timeout is set in every stage's stack (issue 26, item 1: what the ALB
does with slow clients is documented in docs/hostile.md and set, not left implicit)."""

from __future__ import annotations

import pytest

from .infra_helpers import option

# on the worker that holds the session's synthesized app: elsewhere it would synthesize again
pytestmark = pytest.mark.xdist_group("cdk")

STAGES = ["PymService-staging", "PymService-live"]


@pytest.mark.parametrize("stack_id", STAGES)
def test_alb_idle_timeout_is_set(synthesized, stack_id):
    t = synthesized.templates[stack_id]
    assert option(t, "aws:elbv2:loadbalancer", "IdleTimeout") == "60"
    proc = "aws:elasticbeanstalk:environment:process:default"
    assert option(t, proc, "DeregistrationTimeout") == "20"
