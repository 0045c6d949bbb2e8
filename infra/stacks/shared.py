"""``PymService-shared``: what both stages share (the image repository, the application)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from ..config import ServiceConfig
from ..construct import PymShared


class SharedStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: ServiceConfig, **kwargs):
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("shared"),
            description=f"{config.name}: image repository and Beanstalk application (pymacaron)",
            **kwargs,
        )
        # id "Default": the construct's resources keep the stack's logical ids
        self.shared = PymShared(self, "Default", config=config)
        self.registry = self.shared.registry
        self.application = self.shared.application
        CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)
        CfnOutput(self, "RepositoryName", value=config.repository_name)
        CfnOutput(self, "ApplicationName", value=config.application_name)
