"""The network a stage runs in: a new VPC (default) or an existing one by ids.

Beanstalk takes ids, not constructs, so the construct exposes exactly what the
``aws:ec2:vpc`` option namespace needs: the VPC id, the load balancer subnets, the
instance subnets and whether instances need a public IP (no NAT, no private subnets).
"""

from __future__ import annotations

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .config import Network
from .retention import retention_days


class ServiceNetwork(Construct):
    def __init__(self, scope: Construct, id: str, *, network: Network, log_retention_days: int):
        super().__init__(scope, id)
        self.vpc: ec2.IVpc | None = None
        if network.existing:
            self.vpc_id: str = network.vpc_id
            self.elb_subnet_ids: list[str] = list(network.public_subnets)
            self.instance_subnet_ids: list[str] = list(
                network.private_subnets or network.public_subnets
            )
            self.public_instances = not network.private_subnets
            return
        private = network.nat_gateways > 0
        subnets = [ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)]
        if private:
            subnets.append(
                ec2.SubnetConfiguration(
                    name="instances", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                )
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=network.max_azs,
            nat_gateways=network.nat_gateways,
            subnet_configuration=subnets,
            restrict_default_security_group=False,
        )
        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            retention=retention_days(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.vpc = vpc
        self.vpc_id = vpc.vpc_id
        self.elb_subnet_ids = [s.subnet_id for s in vpc.public_subnets]
        instance_subnets = vpc.private_subnets if private else vpc.public_subnets
        self.instance_subnet_ids = [s.subnet_id for s in instance_subnets]
        self.public_instances = not private

    @property
    def elb_subnets(self) -> str:
        return Fn.join(",", self.elb_subnet_ids)

    @property
    def instance_subnets(self) -> str:
        return Fn.join(",", self.instance_subnet_ids)
