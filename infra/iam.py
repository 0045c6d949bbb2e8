"""Per-service, per-stage IAM: the instance role + profile and the Beanstalk service role.

Nothing here uses the account-global ``aws-elasticbeanstalk-*`` roles: each environment
gets its own roles, the instance role pulls only from the service's own repository and
reads only the secrets its stage references.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from .config import SecretRef
from .nag import acknowledge

INSTANCE_MANAGED_POLICIES = ("AWSElasticBeanstalkWebTier",)
SERVICE_MANAGED_POLICIES = (
    "service-role/AWSElasticBeanstalkEnhancedHealth",
    "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy",
)


def secret_arn(scope: Construct, ref: SecretRef) -> str:
    """The ARN Beanstalk and IAM need for a secret reference (SSM names become ARNs)."""
    if ref.arn:
        return ref.arn
    return Stack.of(scope).format_arn(
        service="ssm", resource="parameter", resource_name=ref.parameter_name.lstrip("/")
    )


class ServiceRoles(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository_arn: str,
        secrets: tuple[SecretRef, ...],
    ):
        super().__init__(scope, id)
        self.instance_role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Beanstalk instances of this service and stage",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in INSTANCE_MANAGED_POLICIES
            ],
        )
        self.instance_role.add_to_policy(
            iam.PolicyStatement(
                sid="PullOwnImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[repository_arn],
            )
        )
        self.instance_role.add_to_policy(
            iam.PolicyStatement(
                sid="EcrLogin",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],
            )
        )
        ssm = [secret_arn(self, s) for s in secrets if s.service == "ssm"]
        if ssm:
            self.instance_role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadOwnParameters",
                    actions=["ssm:GetParameter", "ssm:GetParameters"],
                    resources=ssm,
                )
            )
        sm = [secret_arn(self, s) for s in secrets if s.service == "secretsmanager"]
        if sm:
            self.instance_role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadOwnSecrets",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=sm,
                )
            )
        self.instance_profile = iam.InstanceProfile(
            self, "InstanceProfile", role=self.instance_role
        )
        self.service_role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal(
                "elasticbeanstalk.amazonaws.com",
                conditions={"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}},
            ),
            description="Elastic Beanstalk managing this service's environment",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in SERVICE_MANAGED_POLICIES
            ],
        )
        for name in INSTANCE_MANAGED_POLICIES:
            acknowledge(
                self.instance_role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]",
                "The Beanstalk web tier policy is what the platform agent needs for log "
                "streaming, enhanced health and bundle download, and AWS keeps it current.",
            )
        acknowledge(
            self.instance_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken cannot be scoped to a resource; image pulls are "
            "limited to the service's own repository.",
        )
        for name in SERVICE_MANAGED_POLICIES:
            acknowledge(
                self.service_role,
                f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]",
                "Beanstalk documents these managed policies for enhanced health and managed "
                "platform updates, and AWS updates them with the platform.",
            )
