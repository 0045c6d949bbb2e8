"""Assertions on the synthesized templates of the fixture service (one app per session)."""

from __future__ import annotations

import json

import pytest

from pymacaron_kit.config import PLATFORM_BRANCH
from tests.infra.infra_helpers import option

pytestmark = pytest.mark.xdist_group("cdk")

STAGES = ("PymService-staging", "PymService-live")
ENV_NS = "aws:elasticbeanstalk:application:environment"
SECRETS_NS = "aws:elasticbeanstalk:application:environmentsecrets"


def test_construct_ids_and_stack_names_carry_the_service(synthesized):
    stacks = synthesized.stacks
    assert set(synthesized.templates) == {"PymService-shared", "PymService-network", *STAGES}
    assert synthesized.stacks.network.stack_name == "pym-network"
    assert stacks.shared.stack_name == "testsvc-shared"
    assert stacks.stages["staging"].stack_name == "testsvc-staging"
    assert stacks.stages["live"].stack_name == "testsvc-live"
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    for stack_id in STAGES:
        assert "PymService-shared" in manifest["artifacts"][stack_id]["dependencies"]
        assert "PymService-network" in manifest["artifacts"][stack_id]["dependencies"]


def test_sizes_and_instance_type_per_stage(synthesized):
    staging = synthesized.templates["PymService-staging"]
    live = synthesized.templates["PymService-live"]
    assert option(staging, "aws:autoscaling:asg", "MinSize") == "1"
    assert option(staging, "aws:autoscaling:asg", "MaxSize") == "3"
    assert option(staging, "aws:ec2:instances", "InstanceTypes") == "t3.small"
    assert option(live, "aws:autoscaling:asg", "MinSize") == "2"
    assert option(live, "aws:autoscaling:asg", "MaxSize") == "6"
    assert option(live, "aws:ec2:instances", "InstanceTypes") == "m6i.large"


@pytest.mark.parametrize("stack_id", STAGES)
def test_environment_platform_load_balancer_and_health(synthesized, stack_id):
    t = synthesized.templates[stack_id]
    synthesized.template(stack_id).has_resource_properties(
        "AWS::ElasticBeanstalk::Environment",
        {
            "ApplicationName": "testsvc",
            "EnvironmentName": f"testsvc-{stack_id.split('-')[1]}",
            "Tier": {"Name": "WebServer", "Type": "Standard"},
        },
    )
    env = next(iter(synthesized.resources(stack_id, "AWS::ElasticBeanstalk::Environment").values()))
    assert "SolutionStackName" not in env["Properties"]
    assert f"platform/{PLATFORM_BRANCH}/4.8.0" in json.dumps(env["Properties"]["PlatformArn"])
    assert option(t, "aws:elasticbeanstalk:environment", "EnvironmentType") == "LoadBalanced"
    assert option(t, "aws:elasticbeanstalk:environment", "LoadBalancerType") == "application"
    proc = "aws:elasticbeanstalk:environment:process:default"
    assert option(t, proc, "HealthCheckPath") == "/ping"
    assert option(t, "aws:elasticbeanstalk:healthreporting:system", "SystemType") == "enhanced"
    assert option(t, "aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled") == "true"
    assert option(t, "aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel") == "minor"
    assert option(t, "aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs") == "true"
    assert option(t, "aws:elasticbeanstalk:command", "IgnoreHealthCheck") == "false"
    assert option(t, "aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType") == "Health"
    assert option(t, "aws:autoscaling:launchconfiguration", "DisableIMDSv1") == "true"


def test_logs_retention_and_deployment_policy_per_stage(synthesized):
    staging = synthesized.templates["PymService-staging"]
    live = synthesized.templates["PymService-live"]
    logs = "aws:elasticbeanstalk:cloudwatch:logs"
    assert option(staging, logs, "RetentionInDays") == "14"
    assert option(live, logs, "RetentionInDays") == "90"
    assert option(staging, "aws:elasticbeanstalk:command", "DeploymentPolicy") == "Immutable"
    assert option(live, "aws:elasticbeanstalk:command", "DeploymentPolicy") == (
        "RollingWithAdditionalBatch"
    )
    assert option(live, "aws:elasticbeanstalk:command", "BatchSizeType") == "Percentage"
    assert option(staging, "aws:elasticbeanstalk:command", "BatchSizeType") is None


def test_https_listener_iff_a_certificate_is_set(synthesized):
    staging = synthesized.templates["PymService-staging"]
    live = synthesized.templates["PymService-live"]
    listener = "aws:elbv2:listener:443"
    assert option(staging, listener, "Protocol") is None
    assert option(staging, listener, "ListenerEnabled") is None
    assert option(live, listener, "ListenerEnabled") == "true"
    assert option(live, listener, "Protocol") == "HTTPS"
    assert option(live, listener, "SSLCertificateArns").startswith("arn:aws:acm:eu-west-1:")
    assert option(live, listener, "SSLPolicy").startswith("ELBSecurityPolicy-TLS13")


def test_env_vars_name_the_stage(synthesized):
    for stage in ("staging", "live"):
        t = synthesized.templates[f"PymService-{stage}"]
        assert option(t, ENV_NS, "PYM_ENV") == stage
        assert option(t, ENV_NS, "PORT") == "8080"
        assert option(t, ENV_NS, "FEATURE_X") == "on"


def _policy_statements(template: dict, role_prefix: str) -> list[dict]:
    out = []
    for res in template["Resources"].values():
        if res["Type"] != "AWS::IAM::Policy":
            continue
        if any(r["Ref"].startswith(role_prefix) for r in res["Properties"]["Roles"]):
            out.extend(res["Properties"]["PolicyDocument"]["Statement"])
    return out


@pytest.mark.parametrize("stack_id", STAGES)
def test_instance_role_pulls_only_its_own_repository(synthesized, stack_id):
    t = synthesized.templates[stack_id]
    statements = {s["Sid"]: s for s in _policy_statements(t, "RolesInstanceRole")}
    pull = statements["PullOwnImages"]
    assert sorted(pull["Action"]) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    resource = json.dumps(pull["Resource"])
    assert resource.endswith(':repository/testsvc"]]}'), resource
    assert "*" not in resource
    # The only wildcard resource is the registry login, which IAM cannot scope.
    wildcard = [s for s in statements.values() if s["Resource"] == "*"]
    assert [s["Action"] for s in wildcard] == ["ecr:GetAuthorizationToken"]
    # Secrets: exactly the references of this stage, read-only.
    ssm, sm = statements["ReadOwnParameters"], statements["ReadOwnSecrets"]
    assert sm["Action"] == "secretsmanager:GetSecretValue"
    if stack_id == "PymService-live":
        assert ssm["Resource"] == (
            "arn:aws:ssm:eu-west-1:111122223333:parameter/testsvc/live/jwt-secret"
        )
        assert sm["Resource"] == (
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:testsvc-live-db-XyZ789"
        )
    else:
        assert "parameter/testsvc/staging/jwt-secret" in json.dumps(ssm["Resource"])
        assert sm["Resource"].endswith(":secret:testsvc-db-AbC123")


@pytest.mark.parametrize("stack_id", STAGES)
def test_roles_are_per_service_not_the_account_global_beanstalk_roles(synthesized, stack_id):
    t = synthesized.templates[stack_id]
    text = json.dumps(t)
    assert "aws-elasticbeanstalk-ec2-role" not in text
    assert "aws-elasticbeanstalk-service-role" not in text
    roles = synthesized.resources(stack_id, "AWS::IAM::Role")
    assert all("RoleName" not in r["Properties"] for r in roles.values())
    instance_role = next(r for k, r in roles.items() if k.startswith("RolesInstanceRole"))
    service_role = next(r for k, r in roles.items() if k.startswith("RolesServiceRole"))
    assert instance_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    trust = service_role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "elasticbeanstalk.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "elasticbeanstalk"}}
    assert option(t, "aws:elasticbeanstalk:environment", "ServiceRole") == {
        "Fn::GetAtt": [next(k for k in roles if k.startswith("RolesServiceRole")), "Arn"]
    }
    profile = next(iter(synthesized.resources(stack_id, "AWS::IAM::InstanceProfile")))
    assert option(t, "aws:autoscaling:launchconfiguration", "IamInstanceProfile") == {
        "Ref": profile
    }


@pytest.mark.parametrize("stack_id", STAGES)
def test_secrets_are_references_never_values(synthesized, stack_id):
    t = synthesized.templates[stack_id]
    envs = synthesized.resources(stack_id, "AWS::ElasticBeanstalk::Environment")
    settings = next(iter(envs.values()))["Properties"]["OptionSettings"]
    plain = {o["OptionName"] for o in settings if o["Namespace"] == ENV_NS}
    assert not plain & {"JWT_SECRET", "DB_PASSWORD"}
    secrets = {o["OptionName"]: o["Value"] for o in settings if o["Namespace"] == SECRETS_NS}
    assert set(secrets) == {"JWT_SECRET", "DB_PASSWORD"}
    for value in secrets.values():
        text = json.dumps(value)
        assert ":ssm:" in text or ":secretsmanager:" in text
        assert ("arn:" in text) or ("Fn::Join" in text)
    # Nothing in any template names a secret's value: there is no value to name, so the
    # check is that no parameter/secret resource with a literal value is created either.
    for kind in ("AWS::SSM::Parameter", "AWS::SecretsManager::Secret"):
        assert not synthesized.resources(stack_id, kind)
    assert "NoEcho" not in json.dumps(t.get("Parameters", {}))


def test_staging_ssm_name_becomes_an_arn_in_the_stack_account_and_region(synthesized):
    t = synthesized.templates["PymService-staging"]
    value = option(t, SECRETS_NS, "JWT_SECRET")
    parts = value["Fn::Join"][1]
    assert parts[0] == "arn:"
    assert {"Ref": "AWS::AccountId"} in parts and ":parameter/testsvc/staging/jwt-secret" in parts


def test_shared_stack_repository_and_application(synthesized):
    tpl = synthesized.template("PymService-shared")
    tpl.has_resource_properties(
        "AWS::ECR::Repository",
        {
            "RepositoryName": "testsvc",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "ImageTagMutability": "IMMUTABLE",
        },
    )
    tpl.has_resource("AWS::ECR::Repository", {"DeletionPolicy": "Retain"})
    repo = next(iter(synthesized.resources("PymService-shared", "AWS::ECR::Repository").values()))
    rules = json.loads(repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rules[0]["selection"]["tagStatus"] == "tagged"
    assert rules[0]["selection"]["tagPrefixList"] == ["live-"]
    assert rules[0]["selection"]["countNumber"] >= 1000
    assert rules[-1]["selection"]["tagStatus"] == "any"
    assert rules[-1]["selection"]["countType"] == "imageCountMoreThan"
    tpl.has_resource_properties(
        "AWS::ElasticBeanstalk::Application", {"ApplicationName": "testsvc"}
    )
    outputs = synthesized.templates["PymService-shared"]["Outputs"]
    assert {"RepositoryUri", "RepositoryName", "ApplicationName"} <= set(outputs)


def test_stage_outputs(synthesized):
    staging = synthesized.templates["PymService-staging"]["Outputs"]
    live = synthesized.templates["PymService-live"]["Outputs"]
    for outputs in (staging, live):
        assert {"EnvironmentName", "EnvironmentUrl", "EndpointUrl", "AlarmTopicArn"} <= set(outputs)
        assert "EndpointURL" in json.dumps(outputs["EnvironmentUrl"])
    assert live["ServiceUrl"]["Value"] == "https://api.testsvc.example.com"
    assert "ServiceUrl" not in staging


@pytest.mark.parametrize("stack_id", STAGES)
def test_alarms_notify_the_email(synthesized, stack_id):
    tpl = synthesized.template(stack_id)
    tpl.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )
    alarms = synthesized.resources(stack_id, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 2
    text = json.dumps(alarms)
    assert "ApplicationRequests5xx" in text and "InstancesSevere" in text
    env = stack_id.replace("PymService", "testsvc")
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"][0]["Ref"].startswith("AlarmsTopic")
        assert env in json.dumps(props["Metrics"])
    # enhanced health publishes the metrics the alarms read
    doc = json.loads(
        option(
            synthesized.templates[stack_id],
            "aws:elasticbeanstalk:healthreporting:system",
            "ConfigDocument",
        )
    )
    assert {"ApplicationRequests5xx", "ApplicationRequestsTotal", "InstancesSevere"} <= set(
        doc["CloudWatchMetrics"]["Environment"]
    )


@pytest.mark.parametrize("stack_id", STAGES)
def test_network_created_with_instances_in_private_subnets(synthesized, stack_id):
    # the stage imports the shared network (finding 6: no VPC, NAT or EIP per stage)
    t = synthesized.templates[stack_id]
    for type_ in ("AWS::EC2::VPC", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert not synthesized.resources(stack_id, type_), type_
    assert option(t, "aws:ec2:vpc", "VPCId") == {"Fn::ImportValue": "pym-network-VpcId"}
    assert option(t, "aws:ec2:vpc", "AssociatePublicIpAddress") == "false"
    assert option(t, "aws:ec2:vpc", "Subnets") == {"Fn::ImportValue": "pym-network-InstanceSubnets"}
    assert option(t, "aws:ec2:vpc", "ELBSubnets") == {
        "Fn::ImportValue": "pym-network-PublicSubnets"
    }
    net = synthesized.templates["PymService-network"]
    vpc_id = next(iter(synthesized.resources("PymService-network", "AWS::EC2::VPC")))
    exports = {o["Export"]["Name"]: o["Value"] for o in net["Outputs"].values() if "Export" in o}
    assert exports["pym-network-VpcId"] == {"Ref": vpc_id}
    assert "instancesSubnet" in json.dumps(exports["pym-network-InstanceSubnets"])
    assert "publicSubnet" not in json.dumps(exports["pym-network-InstanceSubnets"])
    assert "publicSubnet" in json.dumps(exports["pym-network-PublicSubnets"])
    assert len(synthesized.resources("PymService-network", "AWS::EC2::NatGateway")) == 1
    assert len(synthesized.resources("PymService-network", "AWS::EC2::FlowLog")) == 1


def test_no_version_means_no_application_version(synthesized):
    for stack_id in STAGES:
        assert not synthesized.resources(stack_id, "AWS::ElasticBeanstalk::ApplicationVersion")
        env = next(
            iter(synthesized.resources(stack_id, "AWS::ElasticBeanstalk::Environment").values())
        )
        assert "VersionLabel" not in env["Properties"]
