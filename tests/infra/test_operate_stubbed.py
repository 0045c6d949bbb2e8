"""What moto does not emulate, with botocore's Stubber (canned AWS answers, no server):
CodePipeline's GetPipelineState, Beanstalk's health colours, DescribeEvents and
DescribeApplicationVersions, and CloudFormation stack events with resource properties."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.exceptions import ClientError, NoRegionError
from botocore.stub import Stubber

from pymacaron.commands import run
from pymacaron_kit.config import load_service_config
from pymacaron_kit.names import Names
from pymacaron_kit.operate import rollback, status
from pymacaron_kit.operate.aws import Aws
from pymacaron_kit.operate.errors import translate
from tests.infra.operate_fixtures import PIPELINE_CONFIG, REPO_URI, SERVICE_CONFIG

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def stubbed(service: str) -> tuple:
    client = boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(client)
    stub.activate()
    return client, stub


def stack(name: str, version: str | None, status_="UPDATE_COMPLETE") -> dict:
    out = [{"OutputKey": "EnvironmentUrl", "OutputValue": f"http://{name}.example"}]
    if version:
        out.append({"OutputKey": "Image", "OutputValue": f"{REPO_URI}:{version}"})
    return {
        "Stacks": [
            {
                "StackName": name,
                "CreationTime": T0,
                "LastUpdatedTime": T0 + dt.timedelta(hours=3),
                "StackStatus": status_,
                "Outputs": out,
            }
        ]
    }


def test_pipeline_last_execution_and_stopped_stage_formatting_with_stubber():
    cp, stub = stubbed("codepipeline")
    stub.add_response(
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": "exec-42",
                    "status": "Failed",
                    "startTime": T0,
                    "lastUpdateTime": T0 + dt.timedelta(minutes=20),
                    "sourceRevisions": [{"actionName": "Source", "revisionId": "abc1234def"}],
                }
            ]
        },
        {"pipelineName": "testsvc-pipeline", "maxResults": 1},
    )
    stub.add_response(
        "get_pipeline_state",
        {
            "pipelineName": "testsvc-pipeline",
            "stageStates": [
                {
                    "stageName": "Source",
                    "latestExecution": {"pipelineExecutionId": "exec-42", "status": "Succeeded"},
                },
                {
                    "stageName": "Build",
                    "latestExecution": {"pipelineExecutionId": "exec-42", "status": "Succeeded"},
                },
                {
                    "stageName": "Staging",
                    "latestExecution": {"pipelineExecutionId": "exec-42", "status": "Failed"},
                },
                {"stageName": "Live"},
            ],
        },
        {"name": "testsvc-pipeline"},
    )
    aws = Aws(Names(load_service_config(PIPELINE_CONFIG)), clients={"codepipeline": cp})
    row = status.pipeline_status(aws)
    stub.assert_no_pending_responses()
    assert row["stopped_at"] == "Staging (Failed)"
    assert row["last_execution"]["revision"] == "abc1234def"
    text = status.format_text(
        {"service": "testsvc", "region": "eu-west-1", "stages": [], "pipeline": row}
    )
    assert (
        "pipeline testsvc-pipeline: last execution Failed (started 2026-11-30T09:00:00Z, commit abc1234def"
        in text
    )
    assert "stopped at Staging (Failed)" in text


def test_pipeline_not_deployed_names_the_command_with_stubber():
    cp, stub = stubbed("codepipeline")
    stub.add_client_error("list_pipeline_executions", "PipelineNotFoundException", "no pipeline")
    aws = Aws(Names(load_service_config(PIPELINE_CONFIG)), clients={"codepipeline": cp})
    row = status.pipeline_status(aws)
    assert row["exists"] is False
    assert row["create"] == "cdk deploy PymService-pipeline (once), then git push to main"


def _stage_clients(health: str, version: str = "v2"):
    cfn, s1 = stubbed("cloudformation")
    s1.add_response(
        "describe_stacks", stack("testsvc-staging", version), {"StackName": "testsvc-staging"}
    )
    eb, s2 = stubbed("elasticbeanstalk")
    s2.add_response(
        "describe_environments",
        {
            "Environments": [
                {
                    "EnvironmentName": "testsvc-staging",
                    "Status": "Ready",
                    "Health": health,
                    "HealthStatus": {"Red": "Severe", "Green": "Ok"}[health],
                    "VersionLabel": "testsvc-staging-releaseversion-x1",
                    "CNAME": "testsvc-staging.eu-west-1.elasticbeanstalk.com",
                }
            ]
        },
        {
            "ApplicationName": "testsvc",
            "EnvironmentNames": ["testsvc-staging"],
            "IncludeDeleted": False,
        },
    )
    asg, s3 = stubbed("autoscaling")
    s3.add_response(
        "describe_auto_scaling_groups",
        {
            "AutoScalingGroups": [
                {
                    "AutoScalingGroupName": "awseb-x",
                    "MinSize": 1,
                    "MaxSize": 3,
                    "DesiredCapacity": 2,
                    "DefaultCooldown": 300,
                    "AvailabilityZones": ["eu-west-1a"],
                    "HealthCheckType": "ELB",
                    "CreatedTime": T0,
                    "Instances": [
                        {
                            "InstanceId": f"i-{n}",
                            "AvailabilityZone": "eu-west-1a",
                            "LifecycleState": "InService",
                            "HealthStatus": h,
                            "ProtectedFromScaleIn": False,
                        }
                        for n, h in (("1", "Healthy"), ("2", "Unhealthy"))
                    ],
                }
            ]
        },
        None,
    )
    ecr, s4 = stubbed("ecr")
    s4.add_response(
        "describe_images",
        {
            "imageDetails": [
                {"imageDigest": "sha256:" + "b" * 64, "imageTags": [version], "imagePushedAt": T0}
            ]
        },
        {"repositoryName": "testsvc", "imageIds": [{"imageTag": version}]},
    )
    return {"cloudformation": cfn, "elasticbeanstalk": eb, "autoscaling": asg, "ecr": ecr}


def test_unhealthy_stage_exits_1_with_health_and_instances_with_stubber(capsys):
    code = run(["status", "staging", "--config", SERVICE_CONFIG], clients=_stage_clients("Red"))
    out = capsys.readouterr().out
    assert code == 1
    assert "health     Red (Severe), environment Ready" in out
    assert "2 in service, 1 healthy, 2 desired (group 1..3; pym-config 1..3)" in out
    assert "label testsvc-staging-releaseversion-x1" in out
    assert "sha256:" + "b" * 64 in out
    code = run(["status", "staging", "--config", SERVICE_CONFIG], clients=_stage_clients("Green"))
    assert code == 0


def _stack_event(ts, rtype, status_, logical="Release", props=None):
    e = {
        "StackId": "arn:aws:cloudformation:eu-west-1:1:stack/testsvc-staging/x",
        "EventId": f"{logical}-{ts.isoformat()}-{status_}",
        "StackName": "testsvc-staging",
        "LogicalResourceId": logical
        if rtype != "AWS::CloudFormation::Stack"
        else "testsvc-staging",
        "ResourceType": rtype,
        "Timestamp": ts,
        "ResourceStatus": status_,
    }
    if props is not None:
        e["ResourceProperties"] = json.dumps(props)
    return e


def _release(ts, version):
    return _stack_event(
        ts,
        rollback.VERSION_RESOURCE,
        "CREATE_IN_PROGRESS",
        props={
            "ApplicationName": "testsvc",
            "Description": f"image {REPO_URI}:{version} (version {version})",
        },
    )


def test_previous_version_from_cloudformation_events_skips_rolled_back_deploys_with_stubber():
    stack_type = "AWS::CloudFormation::Stack"
    h = dt.timedelta(hours=1)
    events = [
        _stack_event(T0, stack_type, "CREATE_IN_PROGRESS"),
        _release(T0, "v1"),
        _stack_event(T0 + 0.1 * h, stack_type, "CREATE_COMPLETE"),
        _stack_event(T0 + h, stack_type, "UPDATE_IN_PROGRESS"),
        _release(T0 + h, "v2"),
        _stack_event(T0 + 1.1 * h, stack_type, "UPDATE_COMPLETE"),
        _stack_event(T0 + 2 * h, stack_type, "UPDATE_IN_PROGRESS"),
        _release(T0 + 2 * h, "v9-broken"),
        _stack_event(T0 + 2.1 * h, stack_type, "UPDATE_ROLLBACK_COMPLETE"),
        _stack_event(T0 + 3 * h, stack_type, "UPDATE_IN_PROGRESS"),
        _release(T0 + 3 * h, "v3"),
        _stack_event(T0 + 3.1 * h, stack_type, "UPDATE_COMPLETE"),
    ]
    cfn, s1 = stubbed("cloudformation")
    s1.add_response(
        "describe_stacks", stack("testsvc-staging", "v3"), {"StackName": "testsvc-staging"}
    )
    half = len(events) // 2  # newest first, two pages
    newest_first = list(reversed(events))
    s1.add_response(
        "describe_stack_events",
        {"StackEvents": newest_first[:half], "NextToken": "p2"},
        {"StackName": "testsvc-staging"},
    )
    s1.add_response(
        "describe_stack_events",
        {"StackEvents": newest_first[half:]},
        {"StackName": "testsvc-staging", "NextToken": "p2"},
    )
    eb, s2 = stubbed("elasticbeanstalk")
    s2.add_response(
        "describe_events",
        {"Events": []},
        {"ApplicationName": "testsvc", "EnvironmentName": "testsvc-staging"},
    )
    ecr, s3 = stubbed("ecr")
    s3.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": "sha256:" + "2" * 64, "imageTags": ["v2"]}]},
        {"repositoryName": "testsvc", "imageIds": [{"imageTag": "v2"}]},
    )
    aws = Aws(
        Names(load_service_config(SERVICE_CONFIG)),
        clients={"cloudformation": cfn, "elasticbeanstalk": eb, "ecr": ecr},
    )
    target = aws.names.target("staging")
    p = rollback.plan(aws, target)
    assert [d.version for d in p.history] == ["v3", "v2", "v1"]  # v9-broken never ran
    assert (p.current, p.version) == ("v3", "v2")
    assert p.reason == "the version that ran before, deployed 2026-11-30T10:06:00Z"
    for s in (s1, s2, s3):
        s.assert_no_pending_responses()


def test_beanstalk_history_ignores_failed_deploys_and_unknown_labels_with_stubber():
    eb, stub = stubbed("elasticbeanstalk")
    stub.add_response(
        "describe_events",
        {
            "Events": [
                {
                    "EventDate": T0 + dt.timedelta(hours=3),
                    "Message": "Failed to deploy application.",
                    "VersionLabel": "l3",
                    "Severity": "ERROR",
                },
                {
                    "EventDate": T0 + dt.timedelta(hours=2),
                    "Message": "Environment update completed successfully.",
                    "VersionLabel": "l2",
                    "Severity": "INFO",
                },
                {
                    "EventDate": T0 + dt.timedelta(hours=1),
                    "Message": "Environment update completed successfully.",
                    "VersionLabel": "l-gone",
                    "Severity": "INFO",
                },
            ]
        },
        {"ApplicationName": "testsvc", "EnvironmentName": "testsvc-staging"},
    )
    stub.add_response(
        "describe_application_versions",
        {"ApplicationVersions": [{"VersionLabel": "l2", "Description": "image x:v2 (version v2)"}]},
        {"ApplicationName": "testsvc", "VersionLabels": ["l-gone", "l2"]},
    )
    aws = Aws(Names(load_service_config(SERVICE_CONFIG)), clients={"elasticbeanstalk": eb})
    found = rollback.beanstalk_history(aws, aws.names.target("staging"))
    assert [(d.version, d.source) for d in found] == [("v2", "beanstalk")]


def _client():
    return boto3.client(
        "elasticbeanstalk",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not allowed"}},
                "DescribeEnvironments",
            ),
            "access denied: your AWS identity lacks the IAM permission elasticbeanstalk:DescribeEnvironments",
        ),
        (
            ClientError(
                {"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "DescribeEnvironments"
            ),
            "AWS rejected your credentials (ExpiredToken)",
        ),
        (NoRegionError(), "no AWS region: set aws_region in pym-config.yaml"),
        (
            ClientError(
                {"Error": {"Code": "Throttling", "Message": "slow down"}}, "DescribeEnvironments"
            ),
            "AWS error on elasticbeanstalk:DescribeEnvironments (Throttling): slow down",
        ),
    ],
)
def test_botocore_errors_become_one_line(error, expected):
    message = str(translate(_client(), "describe_environments", error))
    assert expected in message and "\n" not in message


def test_follow_stops_on_ctrl_c_with_stubber():
    client, stub = stubbed("logs")
    group = "/aws/elasticbeanstalk/testsvc-staging/var/log/eb-docker/containers/eb-current-app/stdouterr.log"
    stub.add_response(
        "describe_log_groups",
        {"logGroups": [{"logGroupName": group}]},
        {"logGroupNamePrefix": "/aws/elasticbeanstalk/testsvc-staging/"},
    )
    stub.add_response(
        "filter_log_events",
        {
            "events": [
                {
                    "logStreamName": "i-1",
                    "timestamp": 1_800_000_000_000,
                    "message": "hello [r]",
                    "eventId": "1",
                }
            ]
        },
        {"logGroupName": group, "startTime": 0},
    )
    from pymacaron_kit.operate import logs

    aws = Aws(Names(load_service_config(SERVICE_CONFIG)), clients={"logs": client})

    def ctrl_c(_seconds):
        raise KeyboardInterrupt

    import io

    out = io.StringIO()
    assert logs.show(aws, aws.names.target("staging"), 0, follow=True, out=out, sleep=ctrl_c) == 1
    assert out.getvalue() == "2027-01-15T08:00:00.000Z i-1 hello [r]\n"
