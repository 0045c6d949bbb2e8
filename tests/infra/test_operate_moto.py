"""pym status / logs / rollback / url and their error paths against a local moto_server.

EMULATION ONLY (see docs/operate.md): moto holds the stacks and their outputs, ECR images
and tags, Beanstalk environment records, auto scaling groups and CloudWatch Logs. Where
moto has no API (Beanstalk events and application versions) the test says so in its name
and stubs only that client with botocore's Stubber.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import boto3
import pytest
from botocore.stub import Stubber

from pymacaron.commands import run as run_pym
from tests.infra.operate_fixtures import (
    FAKE_ENV,
    PIPELINE_CONFIG,
    REGION,
    SERVICE_CONFIG,
    MotoServer,
    Seed,
)

pytestmark = [pytest.mark.emulated, pytest.mark.slow, pytest.mark.xdist_group("operate-moto")]

APP_GROUP = "/aws/elasticbeanstalk/testsvc-staging/var/log/eb-docker/containers/eb-current-app/stdouterr.log"


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def aws(moto, monkeypatch):
    """Fake credentials, every boto3 call to moto; a clean moto per test."""
    moto.reset()
    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.Session(region_name=REGION)


def run(capsys, *argv, **inject):
    code = run_pym(list(argv), **inject)
    out, err = capsys.readouterr()
    return code, out, err


def test_status_of_two_stages_with_different_versions_against_moto_emulation(aws, capsys):
    seed = Seed(aws)
    seed.images(("20261201-aaa1111", "live-20261201-aaa1111"), ("20261201-bbb2222",))
    seed.stage("testsvc-staging", "20261201-bbb2222", hosts=(1, 3, 2))
    seed.stage(
        "testsvc-live",
        "20261201-aaa1111",
        hosts=(2, 6, 2),
        service_url="https://api.testsvc.example.com",
    )

    code, out, err = run(capsys, "status", "--json", "--config", SERVICE_CONFIG)
    assert code == 0, err
    report = json.loads(out)
    rows = {r["stage"]: r for r in report["stages"]}
    assert report["region"] == REGION
    staging, live = rows["staging"], rows["live"]
    assert staging["version"] == "20261201-bbb2222"
    assert live["version"] == "20261201-aaa1111"
    ecr = aws.client("ecr")
    digest = {
        tag: ecr.describe_images(repositoryName="testsvc", imageIds=[{"imageTag": tag}])[
            "imageDetails"
        ][0]["imageDigest"]
        for tag in ("20261201-aaa1111", "20261201-bbb2222")
    }
    assert (
        staging["digest"]
        == digest["20261201-bbb2222"]
        != live["digest"]
        == digest["20261201-aaa1111"]
    )
    assert live["image_tags"] == ["20261201-aaa1111", "live-20261201-aaa1111"]
    assert staging["instances"]["desired"] == 2 and staging["instances"]["max"] == 3
    assert staging["config_hosts"] == {"min": 1, "max": 3}  # pym-config stages.staging
    assert live["instances"]["min"] == 2 and live["config_hosts"] == {"min": 2, "max": 6}
    assert live["url"] == "https://api.testsvc.example.com"
    assert live["docs_url"] == "https://api.testsvc.example.com/docs"
    assert staging["url"] == f"http://testsvc-staging.{REGION}.elasticbeanstalk.com"
    assert staging["status"] == "Ready" and staging["last_deploy"].endswith("Z")

    code, text, _ = run(capsys, "status", "staging", "--config", SERVICE_CONFIG)
    assert code == 0
    assert "version    20261201-bbb2222" in text
    assert digest["20261201-bbb2222"] in text
    assert "pym-config 1..3" in text
    assert "testsvc-live" not in text


def test_status_of_a_stage_not_deployed_names_the_command_against_moto_emulation(aws, capsys):
    Seed(aws).stage("testsvc-staging", "v1")
    code, out, _ = run(capsys, "status", "live", "--config", SERVICE_CONFIG)
    assert code == 1
    assert "not deployed yet: stack testsvc-live does not exist" in out
    assert "pym deploy live --version VERSION" in out
    # without STAGE, an absent stage is listed but is not a failure
    code, out, _ = run(capsys, "status", "--config", SERVICE_CONFIG)
    assert code == 0 and "testsvc-live" in out


def test_logs_merged_from_two_streams_and_filtered_by_request_id_against_moto_emulation(
    aws, capsys
):
    now = int(time.time() * 1000)
    fmt = "2026-12-01 09:00:00,000 INFO [{rid}] pymacaron.access: GET /pets {status} 3.1ms"
    Seed(aws).logs(
        APP_GROUP,
        {
            "i-0aaa": [
                (now - 5000, fmt.format(rid="req-1", status=200)),
                (now - 3000, fmt.format(rid="req-2", status=500)),
                (now - 1000, "2026-12-01 09:00:04,000 ERROR [req-2] pymacaron: boom"),
            ],
            "i-0bbb": [
                (now - 4000, fmt.format(rid="req-2x", status=200)),  # not req-2: whole token
                (now - 2000, '10.0.0.1 "GET /pets HTTP/1.1" 500 10 3ms "curl" request_id=req-2'),
            ],
        },
    )
    code, out, err = run(capsys, "logs", "staging", "--since", "10m", "--config", SERVICE_CONFIG)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 5
    assert [line.split()[1] for line in lines] == ["i-0aaa", "i-0bbb", "i-0aaa", "i-0bbb", "i-0aaa"]
    stamps = [line.split()[0] for line in lines]
    assert stamps == sorted(stamps)

    code, out, _ = run(
        capsys, "logs", "staging", "--request-id", "req-2", "--config", SERVICE_CONFIG
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert "[req-2x]" not in out
    assert [line.split()[1] for line in lines] == ["i-0aaa", "i-0bbb", "i-0aaa"]
    assert lines[-1].endswith("ERROR [req-2] pymacaron: boom")

    # --since bounds the window: only the last second's line
    code, out, _ = run(capsys, "logs", "staging", "--since", "1s", "--config", SERVICE_CONFIG)
    assert [line.split()[1] for line in out.splitlines()] <= ["i-0aaa"]


def test_logs_follow_polls_and_prints_new_lines_once_against_moto_emulation(aws, capsys):
    now = int(time.time() * 1000)
    seed = Seed(aws)
    seed.logs(APP_GROUP, {"i-0aaa": [(now - 2000, "first [r1]")]})
    logs = aws.client("logs")
    polls = []

    def sleep(_seconds):  # between polls: a new line arrives
        polls.append(1)
        logs.put_log_events(
            logGroupName=APP_GROUP,
            logStreamName="i-0aaa",
            logEvents=[
                {"timestamp": now - 1000 + len(polls), "message": f"next {len(polls)} [r1]"}
            ],
        )

    from pymacaron_kit.config import load_service_config
    from pymacaron_kit.names import Names
    from pymacaron_kit.operate import logs as logs_mod
    from pymacaron_kit.operate.aws import Aws

    a = Aws(Names(load_service_config(SERVICE_CONFIG)))
    target = a.names.target("staging")
    import io

    buf = io.StringIO()
    count = logs_mod.show(
        a, target, now - 60000, follow=True, max_polls=3, out=buf, sleep=sleep, interval=0.01
    )
    assert count == 3
    assert [line.split(" ", 2)[2] for line in buf.getvalue().splitlines()] == [
        "first [r1]",
        "next 1 [r1]",
        "next 2 [r1]",
    ]


def test_logs_of_a_stage_without_log_group_exit_1_against_moto_emulation(aws, capsys):
    code, _, err = run(capsys, "logs", "live", "--config", SERVICE_CONFIG)
    assert code == 1
    assert err.count("\n") == 1 and "stack testsvc-live does not exist" in err
    Seed(aws).stage("testsvc-live", "v1")
    code, _, err = run(capsys, "logs", "live", "--config", SERVICE_CONFIG)
    assert code == 1
    assert err.count("\n") == 1 and "no log group" in err and "testsvc-live" in err


def _stubbed_beanstalk_history(labels_versions: list[tuple[str, str, dt.datetime]]):
    """moto has no DescribeEvents/DescribeApplicationVersions: stub only the Beanstalk client."""
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    stub = Stubber(eb)
    stub.add_response(
        "describe_events",
        {
            "Events": [
                {
                    "EventDate": when,
                    "Message": "Environment update completed successfully.",
                    "ApplicationName": "testsvc",
                    "EnvironmentName": "testsvc-staging",
                    "VersionLabel": label,
                    "Severity": "INFO",
                }
                for label, _, when in reversed(labels_versions)
            ]
        },
        {"ApplicationName": "testsvc", "EnvironmentName": "testsvc-staging"},
    )
    stub.add_response(
        "describe_application_versions",
        {
            "ApplicationVersions": [
                {"VersionLabel": label, "Description": f"image x/testsvc:{v} (version {v})"}
                for label, v, _ in labels_versions
            ]
        },
        {
            "ApplicationName": "testsvc",
            "VersionLabels": sorted(lbl for lbl, _, _ in labels_versions),
        },
    )
    stub.activate()
    return eb, stub


def test_rollback_redeploys_previous_version_against_moto_emulation_stubbed_beanstalk_events(
    aws, capsys
):
    seed = Seed(aws)
    seed.images(("v1",), ("v2",), ("v3",))
    seed.stage("testsvc-staging", "v3")
    t0 = dt.datetime(2026, 11, 30, 9, tzinfo=dt.UTC)
    eb, stub = _stubbed_beanstalk_history(
        [
            ("lbl-1", "v1", t0),
            ("lbl-2", "v2", t0 + dt.timedelta(hours=1)),
            ("lbl-3", "v3", t0 + dt.timedelta(hours=2)),
        ]
    )
    calls = []
    code, out, err = run(
        capsys,
        "rollback",
        "staging",
        "--config",
        SERVICE_CONFIG,
        deploy=lambda stage, version: calls.append((stage, version)) or 0,
        clients={"elasticbeanstalk": eb},
    )
    assert code == 0, err
    assert calls == [("staging", "v2")]
    assert "from v3 to v2" in out and "cdk deploy PymService-staging -c version=v2" in out
    stub.assert_no_pending_responses()


def test_rollback_refused_when_image_gone_from_ecr_against_moto_emulation(aws, capsys):
    seed = Seed(aws)
    seed.images(("v1",), ("v2",))
    seed.stage("testsvc-staging", "v2")
    aws.client("ecr").batch_delete_image(repositoryName="testsvc", imageIds=[{"imageTag": "v1"}])
    calls = []
    code, _, err = run(
        capsys,
        "rollback",
        "staging",
        "--to",
        "v1",
        "--config",
        SERVICE_CONFIG,
        deploy=lambda *a: calls.append(a) or 0,
    )
    assert code == 1 and calls == []
    assert "testsvc:v1 no longer exists in ECR" in err and err.count("\n") == 1


def test_rollback_on_live_refused_without_live_tag_against_moto_emulation(aws, capsys):
    seed = Seed(aws)
    seed.images(("v1", "live-v1"), ("v2",), ("v3", "live-v3"))
    seed.stage("testsvc-live", "v3")
    calls = []
    deploy = lambda *a: calls.append(a) or 0  # noqa: E731
    code, _, err = run(
        capsys, "rollback", "live", "--to", "v2", "--config", SERVICE_CONFIG, deploy=deploy
    )
    assert code == 1 and calls == []
    assert "carries no live-* tag" in err
    code, out, err = run(
        capsys, "rollback", "live", "--to", "v1", "--config", SERVICE_CONFIG, deploy=deploy
    )
    assert code == 0, err
    assert calls == [("live", "v1")]


def test_rollback_dry_run_and_failed_deploy_against_moto_emulation(aws, capsys):
    seed = Seed(aws)
    seed.images(("v1",), ("v2",))
    seed.stage("testsvc-staging", "v2")
    calls = []
    code, out, _ = run(
        capsys,
        "rollback",
        "staging",
        "--to",
        "v1",
        "--dry-run",
        "--config",
        SERVICE_CONFIG,
        deploy=lambda *a: calls.append(a) or 0,
    )
    assert code == 0 and calls == [] and "to v1" in out
    code, _, err = run(
        capsys, "rollback", "staging", "--to", "v1", "--config", SERVICE_CONFIG, deploy=lambda *a: 3
    )
    assert code == 1 and "failed (exit 3)" in err
    code, _, err = run(
        capsys, "rollback", "staging", "--to", "v2", "--config", SERVICE_CONFIG, deploy=lambda *a: 0
    )
    assert code == 1 and "already runs v2" in err


def test_url_and_open_against_moto_emulation(aws, capsys):
    Seed(aws).stage("testsvc-live", "v1", service_url="https://api.testsvc.example.com")
    code, out, _ = run(capsys, "url", "live", "--config", SERVICE_CONFIG)
    assert (code, out) == (0, "https://api.testsvc.example.com\n")
    code, out, _ = run(capsys, "url", "live", "--docs", "--config", SERVICE_CONFIG)
    assert out == "https://api.testsvc.example.com/docs\n"
    opened = []
    code, out, _ = run(
        capsys,
        "open",
        "live",
        "--config",
        SERVICE_CONFIG,
        browser_available=lambda: True,
        opener=lambda u: opened.append(u) or True,
    )
    assert code == 0 and opened == ["https://api.testsvc.example.com/docs"]
    code, out, err = run(
        capsys,
        "open",
        "live",
        "--config",
        SERVICE_CONFIG,
        browser_available=lambda: False,
        opener=lambda u: pytest.fail("no browser to open"),
    )
    assert code == 0 and "no browser found" in err and out.splitlines()[1].endswith("/docs")
    code, _, err = run(capsys, "url", "staging", "--config", SERVICE_CONFIG)
    assert code == 1 and "stack testsvc-staging does not exist" in err


def test_plain_stage_falls_back_to_pipeline_managed_against_moto_emulation(aws, capsys):
    Seed(aws).stage("testsvc-pipeline-staging", "v1")
    code, out, err = run(capsys, "url", "staging", "--config", PIPELINE_CONFIG)
    assert code == 0, err
    assert "testsvc-pipeline-staging" in out and "using the pipeline-managed" in err
    code, out, _ = run(capsys, "url", "pipeline-staging", "--config", PIPELINE_CONFIG)
    assert code == 0 and "testsvc-pipeline-staging" in out


def test_no_credentials_is_one_line_exit_2_against_moto_emulation(aws, capsys, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for command in (["status"], ["logs", "staging"], ["rollback", "staging"], ["url", "staging"]):
        code, out, err = run(capsys, *command, "--config", SERVICE_CONFIG)
        assert code == 2, (command, err)
        assert err.count("\n") == 1 and "no AWS credentials found" in err
        assert "Traceback" not in err


def test_missing_stack_is_exit_1_for_every_command_against_moto_emulation(aws, capsys):
    for command in (
        ["status", "staging"],
        ["logs", "staging"],
        ["rollback", "staging"],
        ["url", "live"],
        ["open", "live", "--no-browser"],
    ):
        code, out, err = run(capsys, *command, "--config", SERVICE_CONFIG)
        assert code == 1, (command, out, err)
        assert "does not exist" in out + err


@pytest.fixture
def moto_with_iam_auth(tmp_path, monkeypatch):
    """A moto_server enforcing IAM policies after the first 4 (seeding) calls."""
    server = MotoServer(tmp_path / "moto-auth.log", env={"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    try:
        for key, value in FAKE_ENV.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        yield server
    finally:
        server.stop()


def test_access_denied_names_the_missing_permission_against_moto_emulation(
    moto_with_iam_auth, capsys, monkeypatch
):
    iam = boto3.Session(region_name=REGION).client("iam")
    iam.create_user(UserName="ops")
    policy = iam.create_policy(
        PolicyName="only-ecr-reads",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["ecr:DescribeImages"], "Resource": "*"}
                ],
            }
        ),
    )
    iam.attach_user_policy(UserName="ops", PolicyArn=policy["Policy"]["Arn"])
    key = iam.create_access_key(UserName="ops")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])

    for argv, permission in (
        (["status", "staging"], "cloudformation:DescribeStacks"),
        (["logs", "staging"], "logs:DescribeLogGroups"),
        (["url", "live"], "cloudformation:DescribeStacks"),
    ):
        code, _, err = run(capsys, *argv, "--config", SERVICE_CONFIG)
        assert code == 2, err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"lacks the IAM permission {permission}" in err, err


def test_status_with_pipeline_last_execution_against_moto_emulation(aws, capsys):
    """moto emulates ListPipelineExecutions, not GetPipelineState: the stage detail says so."""
    iam = aws.client("iam")
    role = iam.create_role(
        RoleName="pipeline-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "codepipeline.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    cp = aws.client("codepipeline")
    cp.create_pipeline(
        pipeline={
            "name": "testsvc-pipeline",
            "roleArn": role,
            "artifactStore": {"type": "S3", "location": "artifacts"},
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "Source",
                            "actionTypeId": {
                                "category": "Source",
                                "owner": "AWS",
                                "provider": "S3",
                                "version": "1",
                            },
                            "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
                            "outputArtifacts": [{"name": "src"}],
                        }
                    ],
                },
                {
                    "name": "Build",
                    "actions": [
                        {
                            "name": "Build",
                            "actionTypeId": {
                                "category": "Build",
                                "owner": "AWS",
                                "provider": "CodeBuild",
                                "version": "1",
                            },
                            "configuration": {"ProjectName": "p"},
                            "inputArtifacts": [{"name": "src"}],
                        }
                    ],
                },
            ],
        }
    )
    execution = cp.start_pipeline_execution(name="testsvc-pipeline")["pipelineExecutionId"]
    Seed(aws).stage("testsvc-pipeline-live", "v1")
    code, out, err = run(capsys, "status", "--json", "--config", PIPELINE_CONFIG)
    report = json.loads(out)
    p = report["pipeline"]
    assert p["exists"] is True and p["last_execution"]["id"] == execution
    assert p["stopped_at"].startswith("unknown (AWS error on codepipeline:GetPipelineState")
    assert "\n" not in p["stopped_at"] and len(p["stopped_at"]) < 300
    rows = {r["stage"]: r for r in report["stages"]}
    assert rows["pipeline-live"]["exists"] and rows["pipeline-live"]["version"] == "v1"
    assert not rows["pipeline-staging"]["exists"]
    assert "git push to main" in rows["pipeline-staging"]["create"]
    assert code == 0


def test_unparseable_aws_answer_is_one_line_not_a_traceback_against_moto_emulation(aws, capsys):
    """moto answers Beanstalk DescribeEvents with an HTML 500 page: botocore raises
    ResponseParserError (not a BotoCoreError), which once escaped as a traceback."""
    seed = Seed(aws)
    seed.images(("v1",), ("v2",))
    seed.stage("testsvc-staging", "v2")
    code, _, err = run(
        capsys, "rollback", "staging", "--config", SERVICE_CONFIG, deploy=lambda *a: 0
    )
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "elasticbeanstalk:DescribeEvents" in err
