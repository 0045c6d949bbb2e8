"""Per-service, per-stage IAM: the instance role + profile and the Beanstalk service role.

Nothing here uses the account-global ``aws-elasticbeanstalk-*`` roles: each environment
gets its own roles, the instance role pulls only from the service's own repository and
reads only the secrets its stage references. Instead of ``AWSElasticBeanstalkWebTier``
(every ``elasticbeanstalk-*`` bucket and ``/aws/elasticbeanstalk*`` log group of the
account) the platform agent gets :func:`platform_agent_statements`: this region's
Beanstalk bucket for environment resources and logs, this environment's log groups.
"""

from __future__ import annotations

from aws_cdk import Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import names
from .config import SecretRef
from .nag import acknowledge

INSTANCE_MANAGED_POLICIES: tuple[str, ...] = ()
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


def platform_agent_statements(
    scope: Construct, *, application_name: str, environment_name: str
) -> list[iam.PolicyStatement]:
    """What the Beanstalk agent on an instance needs, for this environment only.

    The Beanstalk bucket (``elasticbeanstalk-<region>-<account>``): read the environment
    resources Beanstalk stages there, write published/tail/bundle logs. Log streaming: this
    environment's ``/aws/elasticbeanstalk/<environment>/`` groups. Enhanced health: this
    environment's instance statistics.
    """
    stack = Stack.of(scope)
    bucket = f"arn:{stack.partition}:s3:::elasticbeanstalk-{stack.region}-{stack.account}"
    log_groups = names.log_groups_arn(scope, environment_name)
    return [
        iam.PolicyStatement(
            sid="BeanstalkBucketList",
            actions=["s3:ListBucket", "s3:GetBucketLocation"],
            resources=[bucket],
        ),
        iam.PolicyStatement(
            sid="BeanstalkEnvironmentResources",
            actions=["s3:GetObject"],
            resources=[f"{bucket}/resources/environments/*"],
        ),
        iam.PolicyStatement(
            sid="BeanstalkLogs",
            actions=["s3:PutObject"],
            resources=[f"{bucket}/resources/environments/logs/*"],
        ),
        iam.PolicyStatement(
            sid="StreamOwnLogs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
                "logs:PutRetentionPolicy",
            ],
            resources=[log_groups],
        ),
        iam.PolicyStatement(
            sid="OwnInstanceStatistics",
            actions=["elasticbeanstalk:PutInstanceStatistics"],
            resources=[
                names.application_arn(scope, application_name),
                names.environment_arn(scope, application_name, environment_name),
            ],
        ),
    ]


def _nag_arn(scope: Construct, text: str) -> str:
    """How cdk-nag spells an ARN built from this stack's tokens in its finding ids."""
    stack = Stack.of(scope)
    for token, name in (
        (stack.partition, "<AWS::Partition>"),
        (stack.region, "<AWS::Region>"),
        (stack.account, "<AWS::AccountId>"),
    ):
        if Token.is_unresolved(token):
            text = text.replace(token, name)
    return text


class ServiceRoles(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository_arn: str,
        secrets: tuple[SecretRef, ...],
        application_name: str | None = None,
        environment_name: str | None = None,
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
        if application_name and environment_name:
            for statement in platform_agent_statements(
                self, application_name=application_name, environment_name=environment_name
            ):
                self.instance_role.add_to_policy(statement)
            stack = Stack.of(self)
            bucket = f"arn:{stack.partition}:s3:::elasticbeanstalk-{stack.region}-{stack.account}"
            for resource, reason in (
                (
                    f"{bucket}/resources/environments/*",
                    "Beanstalk stages each environment's resources under a prefix named by "
                    "its environment id, which CloudFormation does not expose.",
                ),
                (
                    f"{bucket}/resources/environments/logs/*",
                    "Log publication writes under a prefix named by the environment id, "
                    "which CloudFormation does not expose.",
                ),
                (
                    names.log_groups_arn(scope, environment_name),
                    "Beanstalk names one log group per log file under this environment's "
                    "own prefix.",
                ),
            ):
                acknowledge(
                    self.instance_role,
                    f"AwsSolutions-IAM5[Resource::{_nag_arn(self, resource)}]",
                    reason,
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
