"""What a first real deploy would have tripped on (issue 24, "would fail on AWS"): each test
checks a synthesized template or a kit command offline."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.xdist_group("cdk")

STAGES = ("PymService-staging", "PymService-live")


@pytest.mark.parametrize("stack_id", STAGES)
def test_cloudwatch_may_publish_to_the_alarms_topic_of_its_own_alarms_only(synthesized, stack_id):
    """enforce_ssl's deny statement replaces SNS's default policy: without an Allow for
    cloudwatch.amazonaws.com no alarm e-mail would arrive."""
    template = synthesized.templates[stack_id]
    policies = synthesized.resources(stack_id, "AWS::SNS::TopicPolicy")
    assert len(policies) == 1
    (policy,) = policies.values()
    topic = policy["Properties"]["Topics"][0]["Ref"]
    assert template["Resources"][topic]["Type"] == "AWS::SNS::Topic"
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    publish = [
        s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(publish) == 1
    (st,) = publish
    assert st["Effect"] == "Allow" and st["Action"] == "sns:Publish"
    assert st["Resource"] == {"Ref": topic}
    alarms = synthesized.resources(stack_id, "AWS::CloudWatch::Alarm")
    assert sorted(a["Fn::GetAtt"][0] for a in st["Condition"]["ArnLike"]["aws:SourceArn"]) == (
        sorted(alarms)
    )
    assert st["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    # the TLS-only deny is still there
    assert any(s["Effect"] == "Deny" for s in statements)
    assert "*" not in json.dumps(st)
