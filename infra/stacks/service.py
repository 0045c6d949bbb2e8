"""``PymService-staging`` / ``PymService-live``: one Beanstalk environment and what it needs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from constructs import Construct

from ..alarms import EnvironmentAlarms
from ..beanstalk import StageEnvironment, environment_options
from ..config import ServiceConfig
from ..iam import ServiceRoles, secret_arn
from ..network import ServiceNetwork
from ..platform import resolve as resolve_platform
from ..registry import repository_arn
from ..tables import service_tables
from ..task_queue import TaskQueue, task_queue_settings
from ..version import ImageVersion


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
        # name_prefix: the pipeline's stages use `<name>-pipeline` (stack, environment and
        # queue names), so they never collide with direct deploys (`<name>-<stage>`).
        prefix = name_prefix or config.name
        stage_config = config.stages[stage]
        super().__init__(
            scope,
            id,
            stack_name=f"{prefix}-{stage}",
            description=f"{config.name}: the {stage} Beanstalk environment (pymacaron)",
            **kwargs,
        )
        self.stage_name = stage
        env_name = f"{prefix}-{stage}"
        self.network = ServiceNetwork(
            self,
            "Network",
            network=config.network,
            log_retention_days=stage_config.log_retention_days,
        )
        self.roles = ServiceRoles(
            self,
            "Roles",
            repository_arn=repository_arn(self, config.repository_name),
            secrets=stage_config.secrets,
            application_name=config.application_name,
            environment_name=env_name,
        )
        # with_async: true -> an SQS task queue, its dead-letter queue and alarm (docs/tasks.md)
        tasks = task_queue_settings(config.path, stage)
        self.task_queue = (
            TaskQueue(
                self,
                "Tasks",
                queue_name=f"{prefix}-{stage}-tasks",
                grantee=self.roles.instance_role,
                **tasks,
            )
            if tasks
            else None
        )
        # x-persist models -> DynamoDB tables, item access for the instance role (docs/persist.md)
        self.tables = service_tables(
            self,
            "Tables",
            config_path=config.path,
            stage=stage,
            name_prefix=prefix,
            grantee=self.roles.instance_role,
        )
        self.release = None
        if image and version:
            self.release = ImageVersion(
                self,
                "Release",
                application_name=config.application_name,
                image=image,
                version=version,
                https_redirect=stage_config.https,
            )
            # Instances download the source bundle with their own role: that object only.
            bundle = self.release.bundle
            self.roles.instance_role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadOwnSourceBundle",
                    actions=["s3:GetObject"],
                    resources=[bundle.bucket.arn_for_objects(bundle.s3_object_key)],
                )
            )
        options = environment_options(
            stage=stage_config,
            vpc_id=self.network.vpc_id,
            instance_subnets=self.network.instance_subnets,
            elb_subnets=self.network.elb_subnets,
            public_instances=self.network.public_instances,
            instance_profile=self.roles.instance_profile.instance_profile_name,
            service_role=self.roles.service_role.role_arn,
            secrets={s.env_name: secret_arn(self, s) for s in stage_config.secrets},
        )
        if self.task_queue:
            options += self.task_queue.environment_options()
        if self.tables:
            options += self.tables.environment_options()
        self.beanstalk = StageEnvironment(
            self,
            "Service",
            application_name=config.application_name,
            environment_name=env_name,
            platform=resolve_platform(self, config),
            options=options,
            version_label=self.release.version_label if self.release else None,
        )
        self.alarms = EnvironmentAlarms(
            self,
            "Alarms",
            environment_name=env_name,
            notification_email=stage_config.notification_email,
        )
        if self.task_queue:
            self.task_queue.alarm_to(self.alarms.topic)
        # Instances pull the image at launch: the instance role policy must exist first.
        self.beanstalk.node.add_dependency(self.roles.instance_role)
        endpoint = self.beanstalk.environment.attr_endpoint_url
        CfnOutput(self, "EnvironmentName", value=env_name)
        # The load balancer's own name: plain HTTP (the certificate names live_host).
        self.environment_url = CfnOutput(self, "EnvironmentUrl", value=f"http://{endpoint}")
        # Where tests reach the stage: ServiceUrl when it has a host name, else the LB.
        self.public_url = self.environment_url
        CfnOutput(self, "EndpointUrl", value=endpoint)
        CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)
        # A host name always comes with its certificate (config.py), so it is served over
        # HTTPS; the smoke/acceptance tests target it, else the load balancer's own URL.
        if stage_config.live_host:
            host = stage_config.live_host.split("://", 1)[-1].split("/", 1)[0]
            self.public_url = CfnOutput(self, "ServiceUrl", value=f"https://{host}")
            self.dns_record = None
            # One stack owns the record: the pipeline's stage when there is a pipeline (two
            # stacks creating one record name would fail), else the direct deploy's.
            owns_dns = (name_prefix is not None) == (config.pipeline is not None)
            if stage_config.hosted_zone and owns_dns:
                zone = stage_config.hosted_zone
                # A CNAME to the load balancer's name, which Beanstalk owns and may change
                # when it replaces the load balancer (the record follows the attribute).
                self.dns_record = route53.CfnRecordSet(
                    self,
                    "DnsRecord",
                    hosted_zone_id=zone.zone_id,
                    name=f"{host}.",
                    type="CNAME",
                    ttl="60",
                    resource_records=[endpoint],
                )
        if self.release:
            CfnOutput(self, "Image", value=image)
