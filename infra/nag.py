"""Quality gates that run inside synthesis: cdk-nag AwsSolutions checks.

An unacknowledged finding fails ``cdk synth``. Acknowledgements live next to the construct
that causes them (``acknowledge(scope, rule, reason)``), each with a one-sentence reason.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_quality_gates(app: App) -> None:
    """Run the AwsSolutions rule pack on every stack of the app at synth time."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (``AwsSolutions-IAM4[Policy::...]``) on ``scope``."""
    if not reason.strip().endswith("."):
        raise ValueError(f"acknowledgement of {rule}: the reason must be one full sentence")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
