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
from .base import open_service_stack


class ServiceStageStack(ServiceParts, Stack):
    """:class:`PymService`'s options, and a Stack's (``env``...); the repository and the
    application live in PymService-shared (SharedStack)."""

    SHARED_ELSEWHERE = True

    def _open_scope(
        self, scope: Construct, id: str, config: ServiceConfig, stage: str, prefix: str, **kwargs
    ) -> None:
        what = f"the {stage} Beanstalk environment"
        open_service_stack(self, scope, id, config, environment_name(prefix, stage), what, **kwargs)
