"""``PymService-staging`` / ``PymService-live``: one Beanstalk environment and what it needs.

Built by the very code of :class:`~infra.construct.PymService` (the construct a team's own
CDK app holds), at the top of the stack: its resources keep their paths and logical ids,
and the stack offers the construct's API (``add_option_setting``, ``grant_read``...).
"""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from ..config import ServiceConfig
from ..construct import ServiceParts
from ..names import environment_name


class ServiceStageStack(ServiceParts, Stack):
    """:class:`PymService`'s options, and a Stack's (``env``...); the repository and the
    application live in PymService-shared (SharedStack)."""

    SHARED_ELSEWHERE = True

    def _open_scope(
        self, scope: Construct, id: str, config: ServiceConfig, stage: str, prefix: str, **kwargs
    ) -> None:
        Stack.__init__(
            self,
            scope,
            id,
            stack_name=environment_name(prefix, stage),
            description=f"{config.name}: the {stage} Beanstalk environment (pymacaron)",
            **kwargs,
        )
