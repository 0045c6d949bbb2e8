"""``PymService-shared``: what both stages share (the image repository, the application)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from .. import names
from ..config import ServiceConfig
from ..construct import SharedParts
from .base import open_service_stack


class SharedStack(SharedParts, Stack):
    def __init__(self, scope: Construct, id: str, *, config: ServiceConfig, **kwargs):
        what = "image repository and Beanstalk application"
        open_service_stack(self, scope, id, config, config.stack_name(names.SHARED), what, **kwargs)
        # built by PymShared's code, at the top of the stack (paths and ids unchanged)
        self._build_shared(config)
        uri = self.registry.repository.repository_uri
        CfnOutput(self, names.REPOSITORY_URI_OUTPUT, value=uri)
        CfnOutput(self, names.REPOSITORY_NAME_OUTPUT, value=config.repository_name)
        CfnOutput(self, names.APPLICATION_NAME_OUTPUT, value=config.application_name)
