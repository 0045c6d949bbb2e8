"""``PymService-staging`` / ``PymService-live``: one Beanstalk environment and what it needs.

The stack holds one :class:`~infra.construct.PymService` (the construct a user's own CDK
app can hold) under the id ``Default``, so its resources keep the stack's logical ids.
"""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from ..config import ServiceConfig
from ..construct import PymService


class ServiceStageStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: ServiceConfig,
        stage: str,
        image: str | None = None,
        version: str | None = None,
        name_prefix: str | None = None,
        **kwargs,
    ):
        prefix = name_prefix or config.name
        super().__init__(
            scope,
            id,
            stack_name=f"{prefix}-{stage}",
            description=f"{config.name}: the {stage} Beanstalk environment (pymacaron)",
            **kwargs,
        )
        self.stage_name = stage
        # the repository and the application live in PymService-shared (SharedStack)
        self.service = PymService(
            self,
            "Default",
            config=config,
            stage=stage,
            shared_elsewhere=True,
            image=image,
            version=version,
            name_prefix=name_prefix,
        )
        s = self.service
        self.network, self.roles, self.task_queue = s.network, s.roles, s.task_queue
        self.tables, self.release, self.beanstalk, self.alarms = (
            s.tables,
            s.release,
            s.beanstalk,
            s.alarms,
        )
        self.environment_url, self.public_url = s.environment_url, s.public_url
        self.dns_record = s.dns_record
