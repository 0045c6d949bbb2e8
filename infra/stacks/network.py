"""``PymService-network``: the VPC every service of the account and region shares.

Its CloudFormation stack name is the network's (``pym-network``), not the service's: each
service's app carries the same stack, so whichever service deploys first creates it and the
others find it unchanged (docs/deploy.md). Only when pym-config has no ``vpc.id``.
"""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from ..config import ServiceConfig
from ..vpc import NetworkResources

# One retention for a network several services share (their own settings may differ).
NETWORK_LOG_RETENTION_DAYS = 90


class NetworkStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: ServiceConfig, **kwargs):
        network = config.network
        super().__init__(
            scope,
            id,
            stack_name=network.name,
            description=f"{network.name}: the VPC pymacaron services share in this region",
            **kwargs,
        )
        self.resources = NetworkResources(
            self, "Network", network=network, log_retention_days=NETWORK_LOG_RETENTION_DAYS
        )
