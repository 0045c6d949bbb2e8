"""``PymService-shared``: what both stages share (the image repository, the application)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from ..beanstalk import BeanstalkApplication
from ..config import ServiceConfig
from ..registry import ServiceRepository


class SharedStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: ServiceConfig, **kwargs):
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("shared"),
            description=f"{config.name}: image repository and Beanstalk application (pymacaron)",
            **kwargs,
        )
        self.registry = ServiceRepository(self, "Registry", repository_name=config.repository_name)
        self.application = BeanstalkApplication(
            self,
            "Beanstalk",
            application_name=config.application_name,
            description=f"{config.name} (pymacaron service; environments: staging, live)",
        )
        CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)
        CfnOutput(self, "RepositoryName", value=config.repository_name)
        CfnOutput(self, "ApplicationName", value=config.application_name)
