"""The network a stage runs in: the account's shared VPC (default) or an existing one by ids.

A created VPC is one per account and region, not one per stage: each brings a NAT gateway
and an Elastic IP, and the default quotas are 5 VPCs and 5 EIPs per region. The stack
``pym-network`` (:class:`NetworkResources`, deployed with the first service) exports its
ids; every stage stack of every service imports them (``Fn::ImportValue``), and
CloudFormation then refuses to delete or change them while a stage uses them. A service
that wants a network of its own names it (``vpc.name``) with its own range (``vpc.cidr``).

Beanstalk takes ids, not constructs, so :class:`ServiceNetwork` exposes exactly what the
``aws:ec2:vpc`` option namespace needs: the VPC id, the load balancer subnets, the
instance subnets and whether instances need a public IP (no NAT, no private subnets).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Fn, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from .config import Network
from .names import network_export
from .retention import retention_days


def export_name(network: Network, what: str) -> str:
    """``pym-network-VpcId``: the exports stage stacks import."""
    return network_export(network.name, what)


class NetworkResources(Construct):
    """The shared VPC (public + private subnets, NAT, reject flow logs) and its exports."""

    def __init__(self, scope: Construct, id: str, *, network: Network, log_retention_days: int):
        super().__init__(scope, id)
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
            ip_addresses=ec2.IpAddresses.cidr(network.cidr),
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
        instance_subnets = vpc.private_subnets if private else vpc.public_subnets
        for what, value in (
            ("VpcId", vpc.vpc_id),
            ("PublicSubnets", Fn.join(",", [s.subnet_id for s in vpc.public_subnets])),
            ("InstanceSubnets", Fn.join(",", [s.subnet_id for s in instance_subnets])),
        ):
            CfnOutput(self, what, value=value, export_name=export_name(network, what))


class ServiceNetwork(Construct):
    """The ids a stage's environment runs in: imported from the shared network, or given."""

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
        self.vpc_id = Fn.import_value(export_name(network, "VpcId"))
        self.elb_subnet_ids = [Fn.import_value(export_name(network, "PublicSubnets"))]
        self.instance_subnet_ids = [Fn.import_value(export_name(network, "InstanceSubnets"))]
        self.public_instances = network.nat_gateways == 0

    @property
    def elb_subnets(self) -> str:
        return Fn.join(",", self.elb_subnet_ids)

    @property
    def instance_subnets(self) -> str:
        return Fn.join(",", self.instance_subnet_ids)
