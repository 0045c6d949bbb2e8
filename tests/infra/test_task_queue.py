"""with_async: true -> each stage gets an SQS task queue, a dead-letter queue, a DLQ-depth
alarm and least-privilege grants to its instance role only (infra/task_queue.py)."""

from __future__ import annotations

import pytest

from tests.infra.infra_helpers import CONFIGS, cfn_lint, nag_violations, option, synthesize

STAGES = {"staging": "PymService-staging", "live": "PymService-live"}
ENV = "aws:elasticbeanstalk:application:environment"


@pytest.fixture(scope="module")
def async_app(tmp_path_factory):
    """The fixture service with with_async on (quality gates on: cdk-nag runs in synth)."""
    work = tmp_path_factory.mktemp("async")
    config = work / "pym-config.yaml"
    config.write_text(
        (CONFIGS / "service.yaml").read_text()
        + "with_async: true\nworker_concurrency: 3\ntask_visibility_timeout: 600\n"
    )
    return synthesize(config, work / "cdk.out")


def _by_type(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _ref_of(value) -> str | None:
    """The logical id a Ref / Fn::GetAtt points to."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


@pytest.mark.parametrize("stage", STAGES)
def test_queue_and_dead_letter_queue(async_app, stage):
    template = async_app.templates[STAGES[stage]]
    queues = _by_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    by_name = {q["Properties"]["QueueName"]: (lid, q["Properties"]) for lid, q in queues.items()}
    dlq_id, dlq = by_name[f"testsvc-{stage}-tasks-dlq"]
    _, queue = by_name[f"testsvc-{stage}-tasks"]
    assert queue["VisibilityTimeout"] == 600
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert _ref_of(queue["RedrivePolicy"]["deadLetterTargetArn"]) == dlq_id
    assert dlq["MessageRetentionPeriod"] == 14 * 86400
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    # TLS only, on both
    policies = _by_type(template, "AWS::SQS::QueuePolicy")
    denied = set()
    for p in policies.values():
        for statement in p["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Deny"  # no resource policy grants anyone access
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            denied.update(_ref_of(q) for q in p["Properties"]["Queues"])
    assert denied == set(queues)


@pytest.mark.parametrize("stage", STAGES)
def test_dead_letter_depth_alarm_notifies_the_stage_topic(async_app, stage):
    template = async_app.templates[STAGES[stage]]
    dlq_id = next(
        k
        for k, v in _by_type(template, "AWS::SQS::Queue").items()
        if v["Properties"]["QueueName"].endswith("-dlq")
    )
    [alarm] = [
        a["Properties"]
        for a in _by_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert alarm["Namespace"] == "AWS/SQS" and alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    [dimension] = alarm["Dimensions"]
    assert dimension["Name"] == "QueueName" and _ref_of(dimension["Value"]) == dlq_id
    [topic] = _by_type(template, "AWS::SNS::Topic")
    assert [_ref_of(a) for a in alarm["AlarmActions"]] == [topic]


@pytest.mark.parametrize("stage", STAGES)
def test_only_the_instance_role_is_granted_and_only_what_it_needs(async_app, stage):
    template = async_app.templates[STAGES[stage]]
    queues = {
        q["Properties"]["QueueName"]: lid
        for lid, q in _by_type(template, "AWS::SQS::Queue").items()
    }
    roles = _by_type(template, "AWS::IAM::Role")
    instance_role = next(k for k, v in roles.items() if "InstanceRole" in k)
    sqs_statements = []
    for policy in _by_type(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if any(a.startswith("sqs:") for a in actions):
                assert [_ref_of(r) for r in policy["Properties"]["Roles"]] == [instance_role]
                sqs_statements.append(
                    (statement["Sid"], sorted(actions), _ref_of(statement["Resource"]))
                )
    assert sorted(sqs_statements) == sorted(
        [
            (
                "ConsumeOwnTaskQueue",
                sorted(
                    [
                        "sqs:ChangeMessageVisibility",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                        "sqs:ReceiveMessage",
                        "sqs:SendMessage",
                    ]
                ),
                queues[f"testsvc-{stage}-tasks"],
            ),
            (
                "DeadLetterOwnTasks",
                ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
                queues[f"testsvc-{stage}-tasks-dlq"],
            ),
        ]
    )


@pytest.mark.parametrize("stage", STAGES)
def test_the_environment_points_the_worker_at_its_queues(async_app, stage):
    template = async_app.templates[STAGES[stage]]
    queues = {
        q["Properties"]["QueueName"]: lid
        for lid, q in _by_type(template, "AWS::SQS::Queue").items()
    }
    assert option(template, ENV, "PYM_BROKER_URL") == "sqs://"
    assert _ref_of(option(template, ENV, "PYM_TASK_QUEUE_URL")) == queues[f"testsvc-{stage}-tasks"]
    assert (
        _ref_of(option(template, ENV, "PYM_DEAD_LETTER_QUEUE_URL"))
        == queues[f"testsvc-{stage}-tasks-dlq"]
    )
    assert option(template, ENV, "PYM_WORKER_CONCURRENCY") == "3"
    assert option(template, ENV, "PYM_TASK_VISIBILITY_TIMEOUT") == "600"


def test_quality_gates_pass_with_the_task_queue(async_app):
    templates = sorted(async_app.outdir.glob("*.template.json"))
    proc = cfn_lint(templates)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    violations = nag_violations(async_app.outdir)
    assert violations == []
    # cdk-nag passes without any acknowledgement for the queues (the DLQ is recognised as one).
    acked = [
        construct.node.path
        for construct in async_app.stacks.shared.node.root.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules" and "/Tasks" in construct.node.path
    ]
    assert acked == []


# on the worker that holds the session's synthesized app (xdist group "cdk"): elsewhere
# this one test would synthesize the whole app again
@pytest.mark.xdist_group("cdk")
def test_no_queue_without_with_async(synthesized):
    for stack_id in STAGES.values():
        assert _by_type(synthesized.templates[stack_id], "AWS::SQS::Queue") == {}
        assert option(synthesized.templates[stack_id], ENV, "PYM_BROKER_URL") is None
