"""Elastic Beanstalk: the application (shared) and one environment per stage.

Beanstalk has only L1 constructs; its configuration is a list of option settings. They
are planned by :func:`environment_options` (plain data, testable without synthesis) and
applied by :class:`StageEnvironment`. Scaling is only ``aws:autoscaling:asg`` Min/MaxSize:
changing it updates the environment in place.
"""

from __future__ import annotations

import json

from aws_cdk import aws_elasticbeanstalk as eb
from constructs import Construct

from .config import CONTAINER_PORT, HEALTH_CHECK_PATH, Platform, StageConfig

# Enhanced health publishes these to CloudWatch (AWS/ElasticBeanstalk) every 60 s; the
# alarms read them. https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/health-enhanced-cloudwatch.html
HEALTH_METRICS = (
    "ApplicationRequests5xx",
    "ApplicationRequestsTotal",
    "InstancesDegraded",
    "InstancesSevere",
)
HEALTH_CONFIG_DOCUMENT = {
    "Version": 1,
    "CloudWatchMetrics": {
        "Environment": dict.fromkeys(HEALTH_METRICS, 60),
        "Instance": {},
    },
    "Rules": {"Environment": {"Application": {"ApplicationRequests4xx": {"Enabled": False}}}},
}
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
MAINTENANCE_WINDOW = "Sun:03:00"
DEPLOYMENT_TIMEOUT_SECONDS = 1200


class BeanstalkApplication(Construct):
    """The Beanstalk application: versions are application-scoped, so both stages share it."""

    def __init__(self, scope: Construct, id: str, *, application_name: str, description: str):
        super().__init__(scope, id)
        self.application = eb.CfnApplication(
            self, "Application", application_name=application_name, description=description
        )
        self.application_name = application_name


ALB_IDLE_TIMEOUT = 60  # seconds (the ALB default, made explicit: docs/hostile.md)


def environment_options(
    *,
    stage: StageConfig,
    vpc_id: str,
    instance_subnets: str,
    elb_subnets: str,
    public_instances: bool,
    instance_profile: str,
    service_role: str,
    secrets: dict[str, str],
) -> list[tuple[str, str, str]]:
    """The option settings of one stage's environment, as (namespace, option, value)."""
    o: list[tuple[str, str, str]] = []

    def add(namespace: str, **options):
        for name, value in options.items():
            o.append((namespace, name, value))

    env = "aws:elasticbeanstalk:environment"
    add(env, EnvironmentType="LoadBalanced", LoadBalancerType="application")
    add(env, ServiceRole=service_role)
    # Size and instance type: the only options a scaling edit in pym-config touches.
    add("aws:autoscaling:asg", MinSize=str(stage.hosts_min), MaxSize=str(stage.hosts_max))
    add("aws:ec2:instances", InstanceTypes=stage.instance_type)
    add(
        "aws:autoscaling:launchconfiguration",
        IamInstanceProfile=instance_profile,
        DisableIMDSv1="true",
        RootVolumeType="gp3",
    )
    add(
        "aws:ec2:vpc",
        VPCId=vpc_id,
        Subnets=instance_subnets,
        ELBSubnets=elb_subnets,
        ELBScheme="public",
        AssociatePublicIpAddress="true" if public_instances else "false",
    )
    # The load balancer checks the container's /ping through the platform's nginx on :80.
    add(
        "aws:elasticbeanstalk:environment:process:default",
        HealthCheckPath=HEALTH_CHECK_PATH,
        MatcherHTTPCode="200",
        Port="80",
        Protocol="HTTP",
        HealthCheckInterval="15",
        HealthyThresholdCount="3",
        UnhealthyThresholdCount="5",
        DeregistrationTimeout="20",
    )
    o.append(("aws:elasticbeanstalk:application", "Application Healthcheck URL", HEALTH_CHECK_PATH))
    # The ALB streams request bodies to the target (no buffering) and closes a connection
    # idle this long; the platform's nginx then buffers bodies (client_body_timeout), and
    # the image's server bounds what reaches it (body_read_timeout, docs/hostile.md).
    add("aws:elbv2:loadbalancer", IdleTimeout=str(ALB_IDLE_TIMEOUT))
    if stage.https:
        add(
            "aws:elbv2:listener:443",
            ListenerEnabled="true",
            Protocol="HTTPS",
            SSLCertificateArns=stage.cert_arn,
            SSLPolicy=TLS_POLICY,
            DefaultProcess="default",
        )
    add(
        "aws:elasticbeanstalk:healthreporting:system",
        SystemType="enhanced",
        ConfigDocument=json.dumps(HEALTH_CONFIG_DOCUMENT, sort_keys=True, separators=(",", ":")),
    )
    add(
        "aws:elasticbeanstalk:managedactions",
        ManagedActionsEnabled="true",
        PreferredStartTime=MAINTENANCE_WINDOW,
    )
    add(
        "aws:elasticbeanstalk:managedactions:platformupdate",
        UpdateLevel="minor",
        InstanceRefreshEnabled="false",
    )
    logs = {"DeleteOnTerminate": "false", "RetentionInDays": str(stage.log_retention_days)}
    add("aws:elasticbeanstalk:cloudwatch:logs", StreamLogs="true", **logs)
    add("aws:elasticbeanstalk:cloudwatch:logs:health", HealthStreamingEnabled="true", **logs)
    add("aws:elasticbeanstalk:hostmanager", LogPublicationControl="true")
    # Deployments: the policy from pym-config, never ignoring health; configuration changes
    # roll batch by batch and wait for health.
    add(
        "aws:elasticbeanstalk:command",
        DeploymentPolicy=stage.deployment_policy,
        IgnoreHealthCheck="false",
        Timeout=str(DEPLOYMENT_TIMEOUT_SECONDS),
    )
    if stage.deployment_policy in ("Rolling", "RollingWithAdditionalBatch"):
        add("aws:elasticbeanstalk:command", BatchSizeType="Percentage", BatchSize="50")
    if stage.deployment_policy == "TrafficSplitting":
        add("aws:elasticbeanstalk:trafficsplitting", NewVersionPercent="10", EvaluationTime="5")
    add(
        "aws:autoscaling:updatepolicy:rollingupdate",
        RollingUpdateEnabled="true",
        RollingUpdateType="Health",
    )
    # /version then reports instance_credentials, which pym smoke checks (the IMDS hop limit)
    app_env = {
        "PYM_ENV": stage.stage,
        "PORT": str(CONTAINER_PORT),
        "PYM_PROBE_INSTANCE_CREDENTIALS": "1",
        **stage.env,
    }
    for name in sorted(app_env):
        o.append(("aws:elasticbeanstalk:application:environment", name, app_env[name]))
    # Secrets by reference: Beanstalk resolves each ARN on the instance at boot.
    for name in sorted(secrets):
        o.append(("aws:elasticbeanstalk:application:environmentsecrets", name, secrets[name]))
    return o


class StageEnvironment(Construct):
    """One stage's Beanstalk environment (Docker on AL2023 behind an application LB)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        application_name: str,
        environment_name: str,
        platform: Platform,
        options: list[tuple[str, str, str]],
        version_label: str | None = None,
    ):
        super().__init__(scope, id)
        self.environment = eb.CfnEnvironment(
            self,
            "Environment",
            application_name=application_name,
            environment_name=environment_name,
            description=f"{environment_name} (pymacaron)",
            solution_stack_name=platform.solution_stack,
            platform_arn=platform.platform_arn,
            tier=eb.CfnEnvironment.TierProperty(name="WebServer", type="Standard"),
            version_label=version_label,
            option_settings=[
                eb.CfnEnvironment.OptionSettingProperty(namespace=ns, option_name=name, value=value)
                for ns, name, value in options
            ],
        )
        self.environment_name = environment_name
