"""Helpers to check a role against what a command calls: a botocore call recorder, a role's
statements from a synthesized template (intrinsics resolved for one account and region), and
a small Allow-statement matcher (actions and resources, with IAM's `*`/`?` wildcards)."""

from __future__ import annotations

import contextlib
import fnmatch
import json


@contextlib.contextmanager
def recorded_calls():
    """Every AWS API call made inside, as ``(iam action, params)`` (``ecr:DescribeImages``)."""
    from botocore.client import BaseClient

    calls: list[tuple[str, dict]] = []
    original = BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        prefix = self.meta.service_model.signing_name
        calls.append((f"{prefix}:{operation_name}", dict(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = recording
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def resolve(value, *, account: str, region: str, refs: dict | None = None,
            attrs: dict | None = None):  # fmt: skip
    """A template value with Ref/Fn::Join/Fn::Sub/Fn::GetAtt resolved: pseudo parameters,
    ``refs`` (logical id -> physical id, e.g. a deployed stack's) and ``attrs``
    (``"Logical.Arn"`` -> value); anything else unresolved becomes ``<Logical.Attr>``."""
    pseudo = {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    refs = {**pseudo, **(refs or {})}
    attrs = attrs or {}
    again = {"account": account, "region": region, "refs": refs, "attrs": attrs}
    if isinstance(value, list):
        return [resolve(v, **again) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return refs.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(str(resolve(p, **again)) for p in parts)
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        for name, v in refs.items():
            text = text.replace("${" + name + "}", str(v))
        return text
    if "Fn::GetAtt" in value:
        name = ".".join(value["Fn::GetAtt"])
        return attrs.get(name, f"<{name}>")
    return {k: resolve(v, **again) for k, v in value.items()}


def role_statements(template: dict, role_logical_id: str, **where) -> list[dict]:
    """The statements of every AWS::IAM::Policy (and inline policy) of one role, resolved."""
    out = []
    for res in template["Resources"].values():
        props = res.get("Properties") or {}
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in props["Roles"]:
            out += props["PolicyDocument"]["Statement"]
    role = template["Resources"][role_logical_id]["Properties"]
    for policy in role.get("Policies") or []:
        out += policy["PolicyDocument"]["Statement"]
    return [resolve(s, **where) for s in out]


def resource_arn(action: str, params: dict, *, account: str, region: str) -> str:
    """The ARN a DynamoDB item call or an SQS queue call acts on (``*`` for other calls)."""
    service = action.split(":", 1)[0]
    if service == "dynamodb" and params.get("TableName"):
        return f"arn:aws:dynamodb:{region}:{account}:table/{params['TableName']}"
    if service == "sqs" and params.get("QueueUrl"):
        return f"arn:aws:sqs:{region}:{account}:{params['QueueUrl'].rstrip('/').rsplit('/', 1)[-1]}"
    if service == "sqs" and params.get("QueueName"):
        return f"arn:aws:sqs:{region}:{account}:{params['QueueName']}"
    return "*"


def denied(statements: list[dict], calls, *, account: str, region: str) -> list[str]:
    """``action resource`` of every recorded call no Allow statement covers."""
    out = []
    for action, params in calls:
        arn = resource_arn(action, params, account=account, region=region)
        if not allowed(statements, action, arn):
            out.append(f"{action} {arn}")
    return out


def _listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed(statements: list[dict], action: str, resource: str = "*") -> bool:
    """Whether an Allow statement covers the action on the resource (no Deny evaluated:
    pymacaron's roles carry none)."""
    for s in statements:
        if s.get("Effect") != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _listed(s["Action"])):
            continue
        if any(fnmatch.fnmatchcase(resource, r) for r in _listed(s.get("Resource", "*"))):
            return True
    return False


def dump(statements) -> str:
    return json.dumps(statements, indent=1)
